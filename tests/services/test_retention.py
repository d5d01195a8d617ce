"""Retention dates, the erasure-request register, legal holds and the purge (docs/retention.md)."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
import time_machine
from django.test import override_settings
from django.utils import timezone

from django_kyc.models import (
    Applicant,
    AuditEvent,
    Document,
    DocumentFile,
    ErasureRequest,
    ErasureSource,
    ErasureStatus,
    Verification,
    WebhookEvent,
)
from django_kyc.models.retention import compute_retention_until
from django_kyc.services import retention, transitions
from django_kyc.services.audit import Change
from django_kyc.status import DocumentStatus, VerificationStatus
from django_kyc.testing.argos import FakeArgos
from tests.backends.contract import ALIAS
from tests.backends.test_argos import ADMIN, API_KEY, PROJECT_ID, ArgosContract, options_for, started
from tests.support.factories import make_verification
from tests.support.kyc_settings import kyc_settings_with, suite_backends

V = VerificationStatus
pytestmark = pytest.mark.django_db

SIX_YEARS = timedelta(days=6 * 366)


def decided(applicant: Applicant, status: str = V.APPROVED) -> Verification:
    """A verification decided through the transition service, so the audit remembers the decision."""
    verification = make_verification(applicant, V.REVIEW, reasons=["DOC_OK"], provider_data={"name": "Jane"})
    return transitions.transition_verification(verification.pk, status, Change.system())


def ended(applicant: Applicant, ago: timedelta) -> Applicant:
    return retention.end_relationship(applicant, timezone.now() - ago)


# --- dates ----------------------------------------------------------------------------------------------


def test_retention_counts_whole_years_from_the_relationship_end() -> None:
    end = datetime(2020, 3, 1, 12, 0, tzinfo=UTC)
    assert compute_retention_until(end) == datetime(2025, 3, 1, 12, 0, tzinfo=UTC)
    leap = datetime(2024, 2, 29, tzinfo=UTC)
    assert compute_retention_until(leap) == datetime(2029, 2, 28, tzinfo=UTC)
    assert compute_retention_until(None) is None  # the relationship lasts: no date yet


def test_retention_follows_the_settings_and_the_country() -> None:
    end = datetime(2020, 1, 1, tzinfo=UTC)
    with override_settings(DJANGO_KYC=kyc_settings_with(RETENTION_YEARS=7, RETENTION_YEARS_BY_COUNTRY={"ES": 10})):
        assert compute_retention_until(end, "FR") == datetime(2027, 1, 1, tzinfo=UTC)
        assert compute_retention_until(end, "es") == datetime(2030, 1, 1, tzinfo=UTC)


def test_saving_the_applicant_keeps_retention_until_in_step(make_applicant: Callable[..., Applicant]) -> None:
    applicant = make_applicant(with_document=False)
    assert applicant.retention_until is None
    applicant.relationship_ended_at = datetime(2021, 6, 1, tzinfo=UTC)
    applicant.save(update_fields=["relationship_ended_at"])
    applicant.refresh_from_db()
    assert applicant.retention_until == datetime(2026, 6, 1, tzinfo=UTC)


# --- erasure requests ------------------------------------------------------------------------------------


def test_erasure_outside_retention_is_honoured_at_once(make_applicant: Callable[..., Applicant]) -> None:
    applicant = make_applicant()
    decided(applicant)
    ended(applicant, SIX_YEARS)

    request = retention.request_erasure(applicant, note="email of 3 May")

    assert request.status == ErasureStatus.DONE
    assert request.completed_at is not None
    applicant.refresh_from_db()
    assert applicant.pii_redacted_at is not None
    assert applicant.first_name == ""


def test_erasure_without_any_decision_is_honoured_at_once(make_applicant: Callable[..., Applicant]) -> None:
    """Nothing was ever decided, so AML record keeping asks nothing of us: no reason to wait."""
    applicant = make_applicant()
    pending = make_verification(applicant, V.AWAITING_USER)

    request = retention.request_erasure(applicant)

    assert request.status == ErasureStatus.DONE
    pending.refresh_from_db()
    assert pending.status == V.CANCELLED  # a half-finished verification does not carry on without the person


def test_erasure_inside_retention_is_recorded_and_honoured_when_it_lapses(
    make_applicant: Callable[..., Applicant],
) -> None:
    applicant = make_applicant()
    decided(applicant)
    ended(applicant, timedelta(days=30))

    request = retention.request_erasure(applicant, source=ErasureSource.SUBJECT)

    assert request.status == ErasureStatus.SCHEDULED
    assert request.due_at == applicant.retention_until
    assert "retention" in request.note
    assert retention.request_erasure(applicant).pk == request.pk  # a repeated request records nothing new
    assert retention.purge_due().outcomes == {}
    applicant.refresh_from_db()
    assert applicant.pii_redacted_at is None
    assert applicant.first_name == "Jane"

    assert applicant.retention_until is not None
    with time_machine.travel(applicant.retention_until + timedelta(hours=1)):
        report = retention.purge_due()

    assert report.outcomes == {retention.PURGED: 1}
    request.refresh_from_db()
    assert request.status == ErasureStatus.DONE
    assert request.completed_at is not None
    applicant.refresh_from_db()
    assert applicant.first_name == ""
    assert applicant.pii_redacted_at is not None


def test_erasure_during_the_relationship_waits_for_its_end(make_applicant: Callable[..., Applicant]) -> None:
    applicant = make_applicant()
    decided(applicant)

    request = retention.request_erasure(applicant)
    assert request.status == ErasureStatus.SCHEDULED
    assert request.due_at is None
    assert "has not ended" in request.note

    ended(applicant, timedelta(days=1))
    request.refresh_from_db()
    assert request.due_at == applicant.retention_until


def test_a_user_without_purge_permission_only_records(make_applicant: Callable[..., Applicant], user: Any) -> None:
    applicant = make_applicant()
    request = retention.request_erasure(applicant, user=user, source=ErasureSource.STAFF, execute=False)
    assert request.status == ErasureStatus.SCHEDULED
    assert request.requested_by == user
    assert request.due_at is not None
    assert request.due_at <= timezone.now()
    applicant.refresh_from_db()
    assert applicant.pii_redacted_at is None

    assert retention.purge_due().outcomes == {retention.PURGED: 1}  # the daily run executes it
    request.refresh_from_db()
    assert request.status == ErasureStatus.DONE


def test_legal_hold_blocks_the_purge_and_the_request_waits(make_applicant: Callable[..., Applicant]) -> None:
    applicant = make_applicant(legal_hold=True, legal_hold_reason="court order 12/2024")
    decided(applicant)
    ended(applicant, SIX_YEARS)

    request = retention.request_erasure(applicant)

    assert request.status == ErasureStatus.SCHEDULED
    assert "legal hold" in request.note
    assert retention.purge(applicant.pk).outcome == retention.LEGAL_HOLD
    report = retention.purge_due()
    assert report.outcomes == {}
    assert report.held == 1
    applicant.refresh_from_db()
    assert applicant.first_name == "Jane"

    applicant.legal_hold = False
    applicant.save()
    assert retention.purge_due().outcomes == {retention.PURGED: 1}
    request.refresh_from_db()
    assert request.status == ErasureStatus.DONE


def test_refusing_a_request_needs_a_reason(make_applicant: Callable[..., Applicant], user: Any) -> None:
    applicant = make_applicant()
    decided(applicant)
    request = retention.request_erasure(applicant)
    change = Change.by_user(user, "admin")
    with pytest.raises(Exception, match="reason"):
        retention.refuse_erasure(request, "", change)
    refused = retention.refuse_erasure(request, "identity of the requester not confirmed", change)
    assert refused.status == ErasureStatus.REFUSED
    assert AuditEvent.objects.filter(applicant=applicant, action="erasure_refused").exists()


# --- the purge -------------------------------------------------------------------------------------------


def test_purge_keeps_the_decision_skeleton_and_the_audit(make_applicant: Callable[..., Applicant], user: Any) -> None:
    applicant = make_applicant(
        user=user, email="jane@example.com", phone="+441234", city="Leeds", external_id="crm-7", country="GB"
    )
    applicant.date_of_birth = datetime(1990, 1, 2).date()
    applicant.save()
    verification = decided(applicant, V.DECLINED)
    WebhookEvent.objects.create(
        backend="sandbox", event_id="e1", body=b'{"name": "Jane Smith"}', verification=verification
    )
    ended(applicant, SIX_YEARS)
    row = DocumentFile.objects.get(document__applicant=applicant)
    storage, name, sha = row.file.storage, row.file.name, row.sha256
    assert storage.exists(name)
    audit_before = set(AuditEvent.objects.filter(applicant=applicant).values_list("pk", flat=True))

    result = retention.purge(applicant.pk)

    assert result.outcome == retention.PURGED
    assert result.files == 1
    assert result.documents == 1
    applicant.refresh_from_db()
    for field in ("first_name", "last_name", "email", "phone", "city", "external_id"):
        assert getattr(applicant, field) == "", field
    assert applicant.date_of_birth is None
    assert applicant.user is None
    assert applicant.reference
    assert applicant.nationality == "GB"
    assert applicant.country == "GB"
    assert applicant.status == "rejected"  # the decision stays
    assert not storage.exists(name)
    row.refresh_from_db()
    assert row.file.name == ""
    assert row.sha256 == sha
    document = Document.objects.get(applicant=applicant)
    assert document.status == DocumentStatus.PURGED
    assert document.number == ""
    assert document.type == "passport"
    verification.refresh_from_db()
    assert verification.status == V.DECLINED
    assert verification.reasons == ["DOC_OK"]
    assert verification.decided_at is not None
    assert verification.provider_data == {}
    assert WebhookEvent.objects.get(event_id="e1").body == b""
    audit_after = set(AuditEvent.objects.filter(applicant=applicant).values_list("pk", flat=True))
    assert audit_before < audit_after  # nothing removed, the purge itself recorded
    actions = set(AuditEvent.objects.filter(pk__in=audit_after - audit_before).values_list("action", flat=True))
    assert {"pii_purged", "provider_erasure", "status_change"} <= actions

    assert retention.purge(applicant.pk).outcome == retention.ALREADY_PURGED  # idempotent


def test_purge_inside_retention_does_nothing(make_applicant: Callable[..., Applicant]) -> None:
    applicant = make_applicant()
    decided(applicant)
    ended(applicant, timedelta(days=365))
    assert retention.purge(applicant.pk).outcome == retention.RETAINED
    applicant.refresh_from_db()
    assert applicant.first_name == "Jane"


def test_dry_run_changes_nothing(make_applicant: Callable[..., Applicant]) -> None:
    applicant = make_applicant()
    decided(applicant)
    ended(applicant, SIX_YEARS)
    audit_count = AuditEvent.objects.count()
    row = DocumentFile.objects.get(document__applicant=applicant)

    result = retention.purge(applicant.pk, dry_run=True)
    report = retention.purge_due(dry_run=True)

    assert result.outcome == retention.WOULD_PURGE
    assert result.files == 1
    assert result.providers == {"sandbox": "would delete"}
    assert report.outcomes == {retention.WOULD_PURGE: 1}
    assert report.summary().startswith("dry run")
    applicant.refresh_from_db()
    assert applicant.first_name == "Jane"
    assert applicant.pii_redacted_at is None
    assert row.file.storage.exists(row.file.name)
    assert AuditEvent.objects.count() == audit_count


def test_a_backend_without_deletion_is_noted_not_a_failure(make_applicant: Callable[..., Applicant]) -> None:
    backends = suite_backends(plain={"CLASS": "django_kyc.backends.base.KycBackend", "OPTIONS": {}})
    applicant = make_applicant()
    make_verification(applicant, V.CANCELLED, backend="plain")
    ended(applicant, SIX_YEARS)
    with override_settings(DJANGO_KYC=kyc_settings_with(BACKENDS=backends)):
        result = retention.purge(applicant.pk)
    assert result.outcome == retention.PURGED
    assert result.providers["plain"].startswith("unsupported")
    note = AuditEvent.objects.get(applicant=applicant, action="provider_erasure")
    assert note.reason.startswith("plain: unsupported")


# --- provider deletion over real HTTP (the ARGOS fake) ---------------------------------------------------


@pytest.fixture
def fake() -> Iterator[FakeArgos]:
    with FakeArgos(api_key=API_KEY, project_id=PROJECT_ID, admin=ADMIN) as server:
        yield server


@pytest.fixture
def argos_configured(fake: FakeArgos) -> Iterator[Callable[..., None]]:
    managers: list[Any] = []

    def apply(**extra: Any) -> None:
        manager = ArgosContract().configured(options_for(fake, **extra))
        manager.__enter__()
        managers.append(manager)

    yield apply
    while managers:
        managers.pop().__exit__(None, None, None)


def test_purge_deletes_at_argos(
    fake: FakeArgos, argos_configured: Callable[..., None], make_applicant: Callable[..., Applicant]
) -> None:
    argos_configured()
    applicant = make_applicant(email="jane@example.com")
    verification = started(applicant)
    ref = fake.open_liveform(verification.client_link)
    ended(applicant, SIX_YEARS)

    result = retention.purge(applicant.pk)

    assert result.outcome == retention.PURGED
    assert result.providers == {ALIAS: "deleted"}
    assert [row["submission_id"] for row in fake.deleted] == [ref]
    assert not fake.submission(ref)["email"]


def test_a_failing_provider_leaves_the_applicant_due(
    fake: FakeArgos, argos_configured: Callable[..., None], make_applicant: Callable[..., Applicant]
) -> None:
    argos_configured()
    applicant = make_applicant()
    started(applicant)
    ended(applicant, SIX_YEARS)
    argos_configured(BASE_URL="http://127.0.0.1:9/v3", READ_TIMEOUT=0.5, CONNECT_TIMEOUT=0.5)  # nobody listens

    result = retention.purge(applicant.pk)

    assert result.outcome == retention.PROVIDER_FAILED
    applicant.refresh_from_db()
    assert applicant.pii_redacted_at is None
    assert applicant.first_name == "Jane"
    assert retention.due_applicants().filter(pk=applicant.pk).exists()  # the next run retries
    assert ErasureRequest.objects.count() == 0


def test_a_provider_asking_to_wait_paces_the_erasure_and_a_later_run_completes_it(
    fake: FakeArgos, argos_configured: Callable[..., None], make_applicant: Callable[..., Applicant]
) -> None:
    argos_configured()
    applicant = make_applicant()
    ref = fake.open_liveform(started(applicant).client_link)
    ended(applicant, SIX_YEARS)
    fake.fail_next(1, status=429, retry_after=60, message="too many deletions")

    report = retention.purge_due()

    assert dict(report.outcomes) == {retention.PROVIDER_PACED: 1}
    (row,) = AuditEvent.objects.filter(applicant=applicant, action="provider_erasure")
    assert row.data[ALIAS].startswith("paced: retry after 60 s (")
    applicant.refresh_from_db()
    assert applicant.pii_redacted_at is None
    assert retention.due_applicants().filter(pk=applicant.pk).exists()

    report = retention.purge_due()

    assert dict(report.outcomes) == {retention.PURGED: 1}
    assert [item["submission_id"] for item in fake.deleted] == [ref]
