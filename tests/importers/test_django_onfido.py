"""The django-onfido import against django-onfido's real models, migrated into the test database."""

from __future__ import annotations

import threading
from typing import Any

import pytest
from django.db import connection

from django_kyc.importers.django_onfido import (
    IMPORT_REASON,
    SUPERSEDED_REASON,
    ImportReport,
    import_django_onfido,
)
from django_kyc.models import Applicant, AuditEvent, Document, Verification
from django_kyc.status import Actor, ApplicantStatus, AuditAction, Source, VerificationStatus
from tests.support import django_onfido as onfido
from tests.support.factories import create_user, make_verification

pytestmark = pytest.mark.usefixtures("onfido_tables")


def site_with_onfido_history() -> dict[str, Any]:
    """Five users as a django-onfido site has them: cleared at the second try, to review, never checked, retried
    (the second check still in progress), withdrawn."""
    people = {name: create_user(name) for name in ("alice", "bob", "carol", "dave", "erin")}
    alice = onfido.applicant(people["alice"])
    first_try = onfido.check(alice, "awaiting_applicant", minutes=0)
    cleared = onfido.check(alice, "in_progress", minutes=1)
    onfido.report(cleared, "document", sub_result="clear", minutes=1)
    onfido.report(cleared, "facial_similarity_photo", minutes=1)
    onfido.event(cleared, "check.completed", "complete", minutes=5)
    onfido.complete(cleared, "clear", minutes=5)

    bob = onfido.applicant(people["bob"])
    considered = onfido.check(bob, "complete", "consider", minutes=2)
    onfido.report(considered, "document", result="consider", sub_result="suspected", minutes=2)
    onfido.report(considered, "watchlist_standard", result="consider", minutes=2)
    onfido.report(considered, "facial_similarity_photo", minutes=2)

    onfido.applicant(people["carol"])

    dave = onfido.applicant(people["dave"])
    abandoned = onfido.check(dave, "awaiting_applicant", minutes=3)
    retried = onfido.check(dave, "in_progress", minutes=30)

    erin = onfido.applicant(people["erin"])
    withdrawn = onfido.check(erin, "withdrawn", minutes=4)
    return {
        "users": people,
        "first_try": first_try,
        "cleared": cleared,
        "considered": considered,
        "abandoned": abandoned,
        "retried": retried,
        "withdrawn": withdrawn,
    }


def verification_of(onfido_check: Any) -> Verification:
    return Verification.objects.get(provider_verification_id=onfido_check.onfido_id)


def snapshot() -> tuple[Any, ...]:
    """Everything an import writes, to compare a database before and after a run."""
    return (
        sorted(Applicant.objects.values_list("pk", "user_id", "status", "updated_at")),
        sorted(Verification.objects.values_list("pk", "status", "provider_status", "reasons", "updated_at")),
        AuditEvent.objects.count(),
    )


def test_the_first_run_links_applicants_to_the_same_users() -> None:
    history = site_with_onfido_history()

    report = import_django_onfido()

    assert report.people == 5
    assert report.applicants == {"created": 5}
    for user in history["users"].values():
        assert Applicant.objects.get(user=user)
    dave = Applicant.objects.get(user=history["users"]["dave"])
    assert {v.provider_applicant_id for v in dave.verifications.all()} == {history["retried"].applicant.onfido_id}


def test_checks_become_verifications_with_their_onfido_ids_dates_and_mapped_statuses() -> None:
    history = site_with_onfido_history()

    report = import_django_onfido()

    assert report.verifications == {"created": 6}
    cleared = verification_of(history["cleared"])
    assert cleared.backend == "onfido"
    assert cleared.provider_applicant_id == history["cleared"].applicant.onfido_id
    assert (cleared.status, cleared.provider_status) == (VerificationStatus.APPROVED, "complete/clear")
    assert cleared.created_at == cleared.submitted_at == onfido.at(1)
    assert cleared.last_event_at == onfido.at(5)
    assert cleared.decision_source == "provider"
    considered = verification_of(history["considered"])
    assert (considered.status, considered.provider_status) == (VerificationStatus.REVIEW, "complete/consider")
    assert considered.reasons == ["document: consider/suspected", "watchlist_standard: consider"]
    assert verification_of(history["withdrawn"]).status == VerificationStatus.CANCELLED
    assert verification_of(history["retried"]).status == VerificationStatus.PROCESSING
    users = history["users"]
    assert {name: Applicant.objects.get(user=user).status for name, user in users.items()} == {
        "alice": ApplicantStatus.VERIFIED,
        "bob": ApplicantStatus.REVIEW,
        "carol": ApplicantStatus.UNVERIFIED,
        "dave": ApplicantStatus.IN_PROGRESS,
        "erin": ApplicantStatus.UNVERIFIED,
    }


def test_reports_are_kept_one_by_one_without_what_django_onfido_scrubbed() -> None:
    history = site_with_onfido_history()

    import_django_onfido()

    data = verification_of(history["considered"]).provider_data["onfido"]
    assert data["check_id"] == history["considered"].onfido_id
    assert data["results_uri"].endswith(history["considered"].onfido_id)
    assert [(r["name"], r["status"], r["result"], r["sub_result"]) for r in data["reports"]] == [
        ("document", "complete", "consider", "suspected"),
        ("watchlist_standard", "complete", "consider", None),
        ("facial_similarity_photo", "complete", "clear", None),
    ]
    assert "breakdown" not in str(data)  # django-onfido scrubbed it; nothing of it is looked for


def test_the_aliass_consider_policy_and_the_reports_refine_a_consider_result() -> None:
    rejected = onfido.check(onfido.applicant(create_user("kim")), "complete", "consider")
    onfido.report(rejected, "document", result="consider", sub_result="rejected")
    onfido.report(rejected, "facial_similarity_photo")
    suspected = onfido.check(onfido.applicant(create_user("lee")), "complete", "consider")
    onfido.report(suspected, "document", result="consider", sub_result="suspected")

    import_django_onfido(backend="onfido_sdk")  # CONSIDER: "decline"

    assert verification_of(rejected).status == VerificationStatus.RESUBMISSION_REQUESTED
    assert verification_of(suspected).status == VerificationStatus.DECLINED


def test_the_columns_django_onfido_recorded_last_win_over_its_raw_json() -> None:
    overridden = onfido.check(onfido.applicant(create_user("mia")), "complete", "consider")
    # what django-onfido's "mark as clear" admin action does to a check: the column changes, raw keeps "consider"
    onfido.model("Check").objects.filter(pk=overridden.pk).update(result="clear")
    expired = onfido.check(onfido.applicant(create_user("noor")), "complete", "clear")
    onfido.model("Check").objects.filter(pk=expired.pk).update(status="expired", raw=None)

    import_django_onfido()

    assert verification_of(overridden).status == VerificationStatus.APPROVED
    assert verification_of(expired).provider_status == "expired/clear"


def test_documents_onfido_lists_in_a_report_make_no_rows() -> None:
    onfido_check = onfido.check(onfido.applicant(create_user("olga")), "complete", "clear")
    onfido.report(onfido_check, "document", sub_result="clear", documents=[{"id": onfido.new_id()}])

    import_django_onfido()

    assert verification_of(onfido_check).status == VerificationStatus.APPROVED
    assert not Document.objects.exists()


def test_an_older_check_still_open_is_cancelled_as_superseded_by_the_newer_one() -> None:
    history = site_with_onfido_history()

    report = import_django_onfido()

    assert report.superseded == 2
    assert verification_of(history["first_try"]).status == VerificationStatus.CANCELLED
    assert verification_of(history["cleared"]).status == VerificationStatus.APPROVED
    abandoned = verification_of(history["abandoned"])
    assert abandoned.status == VerificationStatus.CANCELLED
    assert abandoned.provider_status == "awaiting_applicant"
    rows = AuditEvent.objects.filter(object_id=str(abandoned.pk), action=AuditAction.STATUS_CHANGE)
    assert list(rows.order_by("id").values_list("to_status", "actor_type", "reason")) == [
        (VerificationStatus.AWAITING_USER, Actor.PROVIDER, IMPORT_REASON),
        (VerificationStatus.CANCELLED, Actor.SYSTEM, SUPERSEDED_REASON),
    ]


def test_every_imported_row_has_an_audit_row_saying_imported_and_each_status_its_own() -> None:
    history = site_with_onfido_history()

    import_django_onfido()

    alice = Applicant.objects.get(user=history["users"]["alice"])
    created = AuditEvent.objects.get(object_type="applicant", object_id=str(alice.pk), action=AuditAction.IMPORTED)
    assert (created.reason, created.source, created.actor_type) == (IMPORT_REASON, Source.SYSTEM, Actor.SYSTEM)
    assert created.data == {
        "imported_from": "django-onfido",
        "onfido_applicant_ids": [history["cleared"].applicant.onfido_id],
    }
    cleared = verification_of(history["cleared"])
    imported = AuditEvent.objects.get(object_id=str(cleared.pk), action=AuditAction.IMPORTED)
    assert imported.reason == IMPORT_REASON
    assert imported.data["onfido_check_id"] == history["cleared"].onfido_id
    assert imported.data["onfido_events"] == [
        {
            "resource": "check",
            "id": history["cleared"].onfido_id,
            "action": "check.completed",
            "status": "complete",
            "at": onfido.at(5).isoformat(),
        }
    ]
    decided = AuditEvent.objects.get(object_id=str(cleared.pk), action=AuditAction.STATUS_CHANGE)
    assert (decided.from_status, decided.to_status) == (VerificationStatus.PENDING, VerificationStatus.APPROVED)
    assert (decided.actor_type, decided.actor_label, decided.reason) == (Actor.PROVIDER, "onfido", IMPORT_REASON)


def test_a_second_run_changes_nothing_and_says_so() -> None:
    site_with_onfido_history()
    first = import_django_onfido()
    before = snapshot()

    second = import_django_onfido()

    assert snapshot() == before
    assert first.changed
    assert not second.changed
    assert second.applicants == {"unchanged": 5}
    assert second.verifications == {"unchanged": 6}
    assert "Nothing to import" in second.summary()


def test_a_dry_run_writes_nothing_and_counts_what_a_real_run_does() -> None:
    site_with_onfido_history()
    before = snapshot()

    dry = import_django_onfido(dry_run=True, batch_size=2)

    assert snapshot() == before
    real = import_django_onfido(batch_size=2)
    assert (dry.applicants, dry.verifications, dry.superseded) == (real.applicants, real.verifications, 2)
    assert dry.summary().startswith("Dry run, nothing written.")


def test_a_check_that_moved_on_since_the_last_run_is_brought_up_to_date() -> None:
    history = site_with_onfido_history()
    import_django_onfido()
    onfido.complete(history["retried"], "clear", minutes=40)

    report = import_django_onfido()

    assert report.verifications == {"updated": 1, "unchanged": 5}
    retried = verification_of(history["retried"])
    assert (retried.status, retried.last_event_at) == (VerificationStatus.APPROVED, onfido.at(40))
    assert Applicant.objects.get(user=history["users"]["dave"]).status == ApplicantStatus.VERIFIED


def test_a_lone_check_still_in_progress_puts_its_new_applicant_in_progress() -> None:
    """The applicant's aggregate counts the imported verification even when its first move (pending to
    processing) is one that does not refresh it."""
    onfido_check = onfido.check(onfido.applicant(create_user("grace")), "in_progress")

    import_django_onfido()

    assert verification_of(onfido_check).status == VerificationStatus.PROCESSING
    assert Applicant.objects.get(user__username="grace").status == ApplicantStatus.IN_PROGRESS


@pytest.mark.parametrize("status", ["expired", "cancelled"])
def test_a_check_django_onfido_ended_on_its_own_is_cancelled_with_the_reason(status: str) -> None:
    """django-onfido writes ``expired`` for a check deleted at Onfido: there is nothing left to poll there."""
    onfido_check = onfido.check(onfido.applicant(create_user("heidi")), status)

    import_django_onfido()

    verification = verification_of(onfido_check)
    assert verification.status == VerificationStatus.CANCELLED
    assert verification.reasons == [
        f"django-onfido marked the check {status}" + (": it no longer exists at Onfido" if status == "expired" else "")
    ]
    assert Applicant.objects.get(user__username="heidi").status == ApplicantStatus.UNVERIFIED


def test_a_user_already_on_django_kyc_keeps_their_applicant() -> None:
    user = create_user("frank")
    existing = Applicant.objects.create(user=user, first_name="Frank")
    onfido_check = onfido.check(onfido.applicant(user), "complete", "clear")

    report = import_django_onfido()

    assert report.applicants == {"unchanged": 1}
    assert verification_of(onfido_check).applicant_id == existing.pk
    assert Applicant.objects.get(pk=existing.pk).status == ApplicantStatus.VERIFIED


def test_a_check_still_open_does_not_open_a_second_verification_beside_a_django_kyc_one() -> None:
    user = create_user("hugo")
    ours = make_verification(Applicant.objects.create(user=user), VerificationStatus.PROCESSING)
    onfido_check = onfido.check(onfido.applicant(user), "in_progress")

    report = import_django_onfido()

    assert report.superseded == 1
    assert verification_of(onfido_check).status == VerificationStatus.CANCELLED
    assert Verification.objects.get(pk=ours.pk).status == VerificationStatus.PROCESSING


def test_a_check_imported_under_another_alias_is_skipped_and_named() -> None:
    onfido_check = onfido.check(onfido.applicant(create_user("grace")), "complete", "clear")
    import_django_onfido(backend="onfido_sdk")

    report = import_django_onfido()

    assert report.verifications == {"skipped": 1}
    assert report.skipped == [f"check {onfido_check.onfido_id}: already imported under backend 'onfido_sdk'"]
    assert Verification.objects.count() == 1


def test_nothing_personal_reaches_the_audit_trail() -> None:
    site_with_onfido_history()

    import_django_onfido()

    written = " ".join(str(row) for row in AuditEvent.objects.values_list("data", "reason", "actor_label"))
    for personal in ("Jane", "Doe", "1990-01-01", "alice"):
        assert personal not in written


def test_an_empty_django_onfido_imports_nothing() -> None:
    assert import_django_onfido() == ImportReport()


@pytest.mark.postgres
def test_two_runs_at_once_on_postgresql_import_each_check_once() -> None:
    if connection.vendor != "postgresql":
        pytest.skip("PostgreSQL pass only (make test-postgres)")
    site_with_onfido_history()
    barrier = threading.Barrier(2)
    reports: list[ImportReport] = []
    errors: list[BaseException] = []

    def run() -> None:
        try:
            barrier.wait(timeout=10)
            reports.append(import_django_onfido(batch_size=1))
        except BaseException as exc:
            errors.append(exc)
        finally:
            connection.close()

    threads = [threading.Thread(target=run) for _ in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)

    assert not errors, errors
    assert Verification.objects.count() == 6
    assert Applicant.objects.count() == 5
    assert sum(r.verifications["created"] for r in reports) == 6
    assert sum(r.applicants["created"] for r in reports) == 5
