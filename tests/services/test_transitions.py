"""The transition service: the one writer of statuses, its audit rows, signals and ordering rules."""

from __future__ import annotations

import itertools
from collections.abc import Iterator
from datetime import timedelta
from typing import Any

import pytest
from django.db import connection, transaction
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from django_kyc import signals
from django_kyc.backends.base import DocumentResult, ProviderState
from django_kyc.exceptions import InvalidTransition
from django_kyc.models import AmlCheck, Applicant, AuditEvent, Document, Verification
from django_kyc.models.verification import DecisionSource
from django_kyc.services import transitions
from django_kyc.services.audit import Change
from django_kyc.services.transitions import Outcome
from django_kyc.status import (
    AML_TRANSITIONS,
    DOCUMENT_TRANSITIONS,
    VERIFICATION_OVERRIDES,
    VERIFICATION_TRANSITIONS,
    Actor,
    AmlStatus,
    ApplicantStatus,
    AuditAction,
    DocumentStatus,
    Source,
    VerificationStatus,
)
from tests.support.factories import make_verification

V = VerificationStatus
SIGNAL_NAMES = [
    "verification_status_changed",
    "verification_completed",
    "applicant_status_changed",
    "document_status_changed",
    "aml_check_status_changed",
]

pytestmark = pytest.mark.django_db


@pytest.fixture
def signal_log() -> Iterator[list[tuple[str, dict[str, Any]]]]:
    received: list[tuple[str, dict[str, Any]]] = []
    handlers = {}
    for name in SIGNAL_NAMES:

        def handler(sender: Any, _name: str = name, **kwargs: Any) -> None:
            kwargs.pop("signal", None)
            received.append((_name, kwargs))

        handlers[name] = handler
        getattr(signals, name).connect(handler, weak=False)
    yield received
    for name, handler in handlers.items():
        getattr(signals, name).disconnect(handler)


@pytest.fixture
def applicant(make_applicant: Any) -> Applicant:
    return make_applicant(with_document=False)


def provider_change(source: str = Source.WEBHOOK) -> Change:
    return Change.provider("sandbox", source)


def verification_audits(verification: Verification) -> list[tuple[str, str]]:
    return list(
        AuditEvent.objects.filter(object_type="verification", object_id=str(verification.pk))
        .order_by("id")
        .values_list("from_status", "to_status")
    )


# --- transition_verification ----------------------------------------------------------------------------


def test_transition_writes_audit_row_and_updates_applicant(applicant: Applicant, reviewer: Any) -> None:
    verification = make_verification(applicant, V.REVIEW)
    change = Change.by_user(reviewer, Source.ADMIN, reason="documents match", reason_code="VERIFIED_MANUALLY")

    result = transitions.transition_verification(verification.pk, V.APPROVED, change)

    verification.refresh_from_db()
    assert result.status == verification.status == V.APPROVED
    assert verification.decided_at is not None
    assert verification.decision_source == DecisionSource.REVIEWER
    row = AuditEvent.objects.get(object_type="verification", object_id=str(verification.pk))
    assert (row.from_status, row.to_status) == (V.REVIEW, V.APPROVED)
    assert row.actor == reviewer
    assert row.actor_label == "reviewer"
    assert row.actor_type == Actor.USER
    assert row.source == Source.ADMIN
    assert row.reason == "documents match"
    assert row.reason_code == "VERIFIED_MANUALLY"
    assert row.applicant_id == applicant.pk
    applicant.refresh_from_db()
    assert applicant.status == ApplicantStatus.VERIFIED
    assert applicant.verified_at is not None
    applicant_row = AuditEvent.objects.get(
        object_type="applicant", object_id=str(applicant.pk), action=AuditAction.STATUS_CHANGE
    )
    assert (applicant_row.from_status, applicant_row.to_status) == (
        ApplicantStatus.UNVERIFIED,
        ApplicantStatus.VERIFIED,
    )


def test_signals_are_sent_only_after_commit(
    applicant: Applicant, signal_log: list[tuple[str, dict[str, Any]]], django_capture_on_commit_callbacks: Any
) -> None:
    verification = make_verification(applicant, V.PROCESSING)

    with django_capture_on_commit_callbacks(execute=True) as callbacks:
        transitions.transition_verification(verification.pk, V.REVIEW, Change.system(Source.TASK))
        assert signal_log == []
    assert len(callbacks) == 2
    assert [name for name, _ in signal_log] == ["verification_status_changed", "applicant_status_changed"]
    changed = signal_log[0][1]
    assert changed["verification"].pk == verification.pk
    assert (changed["from_status"], changed["to_status"]) == (V.PROCESSING, V.REVIEW)
    assert (changed["actor_type"], changed["source"]) == (Actor.SYSTEM, Source.TASK)

    signal_log.clear()
    with django_capture_on_commit_callbacks(execute=True):
        transitions.transition_verification(verification.pk, V.DECLINED, provider_change())
        assert signal_log == []
    assert [name for name, _ in signal_log] == [
        "verification_status_changed",
        "verification_completed",
        "applicant_status_changed",
    ]
    assert signal_log[1][1]["status"] == V.DECLINED


def test_a_move_that_cannot_change_the_aggregate_leaves_the_applicant_alone(
    applicant: Applicant, signal_log: list[tuple[str, dict[str, Any]]], django_capture_on_commit_callbacks: Any
) -> None:
    """Pending → processing (every submission) keeps the applicant "in progress": no locking read of it, no
    audit row, no applicant signal."""
    verification = make_verification(applicant, V.PENDING)
    transitions.refresh_applicant(applicant.pk, Change.system(Source.TASK))  # as start_verification leaves it
    applicant.refresh_from_db()
    assert applicant.status == ApplicantStatus.IN_PROGRESS
    applicant_rows = AuditEvent.objects.filter(object_type="applicant", object_id=str(applicant.pk))
    rows_before = applicant_rows.count()

    with CaptureQueriesContext(connection) as queries, django_capture_on_commit_callbacks(execute=True):
        transitions.transition_verification(verification.pk, V.PROCESSING, Change.system(Source.TASK))
    assert not [query["sql"] for query in queries if 'FROM "django_kyc_applicant"' in query["sql"]]
    assert [name for name, _ in signal_log] == ["verification_status_changed"]
    assert applicant_rows.count() == rows_before
    applicant.refresh_from_db()
    assert applicant.status == ApplicantStatus.IN_PROGRESS


@pytest.mark.parametrize("status", [V.AWAITING_USER, V.PROCESSING, V.REVIEW, V.RESUBMISSION_REQUESTED, V.ERROR])
def test_completed_signal_only_for_terminal_statuses(
    applicant: Applicant,
    status: str,
    signal_log: list[tuple[str, dict[str, Any]]],
    django_capture_on_commit_callbacks: Any,
) -> None:
    verification = make_verification(applicant, V.PENDING)
    with django_capture_on_commit_callbacks(execute=True):
        transitions.transition_verification(verification.pk, status, provider_change())
    names = [name for name, _ in signal_log]
    assert "verification_status_changed" in names
    assert "verification_completed" not in names


def test_rolled_back_transition_sends_nothing_and_leaves_no_audit(
    applicant: Applicant, signal_log: list[tuple[str, dict[str, Any]]], django_capture_on_commit_callbacks: Any
) -> None:
    verification = make_verification(applicant, V.PROCESSING)

    class Boom(Exception):
        pass

    def approve_then_fail() -> None:
        with transaction.atomic():
            transitions.transition_verification(verification.pk, V.APPROVED, provider_change())
            raise Boom

    with django_capture_on_commit_callbacks(execute=True), pytest.raises(Boom):
        approve_then_fail()

    verification.refresh_from_db()
    assert verification.status == V.PROCESSING
    assert signal_log == []
    assert not AuditEvent.objects.exists()


@pytest.mark.parametrize(("from_status", "to_status"), list(itertools.product(V.values, V.values)))
def test_service_enforces_the_verification_table(
    applicant: Applicant, reviewer: Any, from_status: str, to_status: str
) -> None:
    """Every pair: a person with a reason may make exactly the normal moves plus the named overrides."""
    verification = make_verification(applicant, from_status)
    change = Change.by_user(reviewer, Source.ADMIN, reason="checked", reason_code="OTHER")
    allowed = to_status in VERIFICATION_TRANSITIONS[from_status] or (from_status, to_status) in VERIFICATION_OVERRIDES
    if allowed:
        transitions.transition_verification(verification.pk, to_status, change)
        verification.refresh_from_db()
        assert verification.status == to_status
        assert verification_audits(verification) == [(from_status, to_status)]
    else:
        with pytest.raises(InvalidTransition):
            transitions.transition_verification(verification.pk, to_status, change)
        verification.refresh_from_db()
        assert verification.status == from_status
        assert verification_audits(verification) == []


def test_invalid_transition_message_names_plain_statuses(applicant: Applicant) -> None:
    """Reviewers read this message in admin; enum reprs such as ``VerificationStatus.PENDING`` mean nothing."""
    verification = make_verification(applicant, V.PROCESSING)
    with pytest.raises(InvalidTransition) as caught:
        transitions.transition_verification(verification.pk, V.PENDING, provider_change())
    assert str(caught.value) == "Verification cannot move from 'processing' to 'pending'"
    assert (caught.value.from_status, caught.value.to_status) == ("processing", "pending")


@pytest.mark.parametrize(("from_status", "to_status"), sorted(VERIFICATION_OVERRIDES))
@pytest.mark.parametrize(
    "change",
    [
        pytest.param(Change.system(Source.TASK, reason="automatic"), id="system"),
        pytest.param(Change(actor_type=Actor.PROVIDER, source=Source.WEBHOOK, reason="x"), id="provider"),
    ],
)
def test_overrides_refuse_anyone_but_a_person(
    applicant: Applicant, from_status: str, to_status: str, change: Change
) -> None:
    verification = make_verification(applicant, from_status)
    with pytest.raises(InvalidTransition, match="needs a person and a reason"):
        transitions.transition_verification(verification.pk, to_status, change)
    verification.refresh_from_db()
    assert verification.status == from_status


@pytest.mark.parametrize(("from_status", "to_status"), sorted(VERIFICATION_OVERRIDES))
def test_overrides_need_a_reason(applicant: Applicant, reviewer: Any, from_status: str, to_status: str) -> None:
    verification = make_verification(applicant, from_status)
    with pytest.raises(InvalidTransition, match="needs a person and a reason"):
        transitions.transition_verification(verification.pk, to_status, Change.by_user(reviewer, Source.ADMIN))
    verification.refresh_from_db()
    assert verification.status == from_status


def test_revoke_and_reopen_keep_the_decision_fields_true(applicant: Applicant, reviewer: Any) -> None:
    verification = make_verification(applicant, V.PROCESSING)
    transitions.transition_verification(verification.pk, V.APPROVED, provider_change())
    verification.refresh_from_db()
    assert verification.decision_source == DecisionSource.PROVIDER

    revoke = Change.by_user(reviewer, Source.ADMIN, reason="document reported stolen", reason_code="SUSPECTED_FRAUD")
    transitions.transition_verification(verification.pk, V.DECLINED, revoke)
    verification.refresh_from_db()
    assert verification.status == V.DECLINED
    assert verification.decision_source == DecisionSource.REVIEWER
    applicant.refresh_from_db()
    assert applicant.status == ApplicantStatus.REJECTED

    reopen = Change.by_user(reviewer, Source.ADMIN, reason_code="OTHER")
    transitions.transition_verification(verification.pk, V.REVIEW, reopen)
    verification.refresh_from_db()
    assert verification.status == V.REVIEW
    assert verification.decided_at is None
    assert verification.decision_source == ""
    applicant.refresh_from_db()
    assert applicant.status == ApplicantStatus.REVIEW
    row = AuditEvent.objects.filter(object_type="verification").order_by("-id").first()
    assert row is not None
    assert (row.from_status, row.to_status, row.reason_code) == (V.DECLINED, V.REVIEW, "OTHER")


# --- apply_provider_state --------------------------------------------------------------------------------


def state(status: str, occurred_at: Any = None, raw: str = "", **kwargs: Any) -> ProviderState:
    return ProviderState(status=status, provider_status=raw or f"raw_{status}", occurred_at=occurred_at, **kwargs)


def snapshot(verification: Verification) -> dict[str, Any]:
    verification.refresh_from_db()
    return {
        field: getattr(verification, field)
        for field in (
            "status",
            "provider_status",
            "provider_data",
            "reasons",
            "last_event_at",
            "updated_at",
            "decided_at",
        )
    }


def test_older_event_is_stale_and_changes_nothing(applicant: Applicant) -> None:
    now = timezone.now()
    verification = make_verification(
        applicant, V.PROCESSING, last_event_at=now, provider_status="processing", provider_data={"a": 1}
    )
    before = snapshot(verification)

    outcome = transitions.apply_provider_state(
        verification.pk, state(V.REVIEW, now - timedelta(seconds=1), data={"b": 2}), provider_change()
    )

    assert outcome is Outcome.STALE
    assert snapshot(verification) == before
    assert not AuditEvent.objects.exists()


def test_newer_event_is_applied_and_recorded(applicant: Applicant) -> None:
    now = timezone.now()
    verification = make_verification(applicant, V.PROCESSING, last_event_at=now, provider_data={"a": 1})
    later = now + timedelta(seconds=5)

    outcome = transitions.apply_provider_state(
        verification.pk,
        state(V.REVIEW, later, raw="needs_review", reasons=["LOW_QUALITY"], data={"b": 2}),
        provider_change(),
    )

    assert outcome is Outcome.APPLIED
    verification.refresh_from_db()
    assert verification.status == V.REVIEW
    assert verification.provider_status == "needs_review"
    assert verification.last_event_at == later
    assert verification.provider_data == {"a": 1, "b": 2}
    assert verification.reasons == ["LOW_QUALITY"]
    row = AuditEvent.objects.get(object_type="verification")
    assert (row.actor_type, row.actor_label, row.source) == (Actor.PROVIDER, "sandbox", Source.WEBHOOK)
    assert row.data == {"provider_status": "needs_review"}


def test_timestamps_beat_rank(applicant: Applicant) -> None:
    """A newer event may move back down the pipeline when the table allows it (user resubmitted)."""
    now = timezone.now()
    verification = make_verification(applicant, V.RESUBMISSION_REQUESTED, last_event_at=now)
    outcome = transitions.apply_provider_state(
        verification.pk, state(V.PROCESSING, now + timedelta(seconds=1)), provider_change()
    )
    assert outcome is Outcome.APPLIED
    verification.refresh_from_db()
    assert verification.status == V.PROCESSING


@pytest.mark.parametrize(
    ("last_offset", "event_offset"),
    [
        pytest.param(0, 0, id="equal"),
        pytest.param(None, None, id="both-missing"),
        pytest.param(0, None, id="event-missing"),
        pytest.param(None, 0, id="last-missing"),
    ],
)
def test_untimed_events_follow_the_rank_rule(
    applicant: Applicant, last_offset: int | None, event_offset: int | None
) -> None:
    now = timezone.now()
    last = None if last_offset is None else now + timedelta(seconds=last_offset)
    occurred = None if event_offset is None else now + timedelta(seconds=event_offset)
    verification = make_verification(applicant, V.REVIEW, last_event_at=last)
    before = snapshot(verification)

    lower = transitions.apply_provider_state(verification.pk, state(V.PROCESSING, occurred), provider_change())
    assert lower is Outcome.STALE
    assert snapshot(verification) == before

    higher = transitions.apply_provider_state(verification.pk, state(V.APPROVED, occurred), provider_change())
    assert higher is Outcome.APPLIED
    verification.refresh_from_db()
    assert verification.status == V.APPROVED
    assert verification.last_event_at == (occurred if last is None else last)


@pytest.mark.parametrize(
    ("terminal", "target"),
    [
        (terminal, target)
        for terminal in (V.APPROVED, V.DECLINED, V.EXPIRED, V.CANCELLED)
        for target in (V.PROCESSING, V.REVIEW, V.APPROVED, V.DECLINED, V.RESUBMISSION_REQUESTED)
        if target != terminal
    ],
)
def test_terminal_status_is_never_regressed(applicant: Applicant, terminal: str, target: str) -> None:
    now = timezone.now()
    verification = make_verification(applicant, terminal, last_event_at=now)
    before = snapshot(verification)
    outcome = transitions.apply_provider_state(
        verification.pk, state(target, now + timedelta(minutes=1)), provider_change()
    )
    assert outcome is Outcome.TERMINAL
    assert snapshot(verification) == before
    assert not AuditEvent.objects.exists()


def test_same_status_refreshes_provider_fields_without_an_audit_row(applicant: Applicant) -> None:
    now = timezone.now()
    verification = make_verification(applicant, V.PROCESSING, last_event_at=now, provider_data={"a": 1})
    later = now + timedelta(seconds=3)
    outcome = transitions.apply_provider_state(
        verification.pk, state(V.PROCESSING, later, raw="checking", data={"b": 2}), provider_change()
    )
    assert outcome is Outcome.UNCHANGED
    verification.refresh_from_db()
    assert verification.status == V.PROCESSING
    assert verification.provider_status == "checking"
    assert verification.last_event_at == later
    assert verification.provider_data == {"a": 1, "b": 2}
    assert not AuditEvent.objects.exists()


@pytest.mark.parametrize(
    ("current", "target"),
    [(V.REVIEW, V.AWAITING_USER), (V.PROCESSING, V.PENDING), (V.PROCESSING, V.AWAITING_USER)],
)
def test_forbidden_provider_move_is_ignored(
    applicant: Applicant, current: str, target: str, django_capture_on_commit_callbacks: Any
) -> None:
    now = timezone.now()
    verification = make_verification(applicant, current, last_event_at=now)
    before = snapshot(verification)
    with django_capture_on_commit_callbacks() as callbacks:
        outcome = transitions.apply_provider_state(
            verification.pk, state(target, now + timedelta(seconds=1)), provider_change()
        )
    assert outcome is Outcome.FORBIDDEN
    assert snapshot(verification) == before
    assert callbacks == []
    assert not AuditEvent.objects.exists()


@pytest.mark.parametrize("when", ["same-timestamp", "untimed"])
@pytest.mark.parametrize(
    ("provider_status", "raw", "decision", "news"),
    [
        (V.REVIEW, "needs_review", V.RESUBMISSION_REQUESTED, V.PROCESSING),
        (V.APPROVED, "approved", V.REVIEW, V.DECLINED),  # a reviewer reopened the provider's approval
    ],
)
def test_the_last_applied_provider_state_seen_again_does_not_undo_a_person(
    applicant: Applicant, reviewer: Any, when: str, provider_status: str, raw: str, decision: str, news: str
) -> None:
    """Polling re-reads the provider's current state on every pass; what it already told us is no news.

    Without this rule a reviewer's request for resubmission (or a reopen) is reverted by the next poll:
    equal timestamps fall back to the rank rule, and ``review`` outranks nothing it would need to.
    """
    decided_at = timezone.now()
    verification = make_verification(applicant, V.PROCESSING)
    first = state(provider_status, decided_at, raw=raw)
    assert transitions.apply_provider_state(verification.pk, first, provider_change()) is Outcome.APPLIED
    reason = Change.by_user(reviewer, Source.ADMIN, reason="blurry photo", reason_code="DOCUMENT_UNREADABLE")
    transitions.transition_verification(verification.pk, decision, reason)
    before = snapshot(verification)

    again = first if when == "same-timestamp" else state(provider_status, None, raw=raw)
    outcome = transitions.apply_provider_state(verification.pk, again, provider_change(Source.POLL))

    assert outcome is Outcome.STALE
    assert snapshot(verification) == before
    # news from the provider still gets through: a later event with a new raw status
    later = state(news, decided_at + timedelta(minutes=5), raw=f"raw_{news}")
    assert transitions.apply_provider_state(verification.pk, later, provider_change()) is Outcome.APPLIED
    verification.refresh_from_db()
    assert verification.status == news


def test_a_resubmission_result_is_always_news(applicant: Applicant, reviewer: Any) -> None:
    """A retried verification is pending again; its new submission's result applies even if the provider's raw
    status reads as it did before the failure."""
    verification = make_verification(applicant, V.PROCESSING, provider_status="processing")
    transitions.transition_verification(verification.pk, V.ERROR, Change.system(reason="stuck"))
    transitions.transition_verification(verification.pk, V.PENDING, Change.by_user(reviewer, Source.ADMIN))
    outcome = transitions.apply_provider_state(
        verification.pk, state(V.PROCESSING, None, raw="processing"), Change.provider("sandbox", Source.TASK)
    )
    assert outcome is Outcome.APPLIED
    verification.refresh_from_db()
    assert verification.status == V.PROCESSING


def test_provider_decision_records_provider_as_decider(applicant: Applicant) -> None:
    verification = make_verification(applicant, V.PROCESSING)
    transitions.apply_provider_state(verification.pk, state(V.DECLINED, timezone.now()), provider_change())
    verification.refresh_from_db()
    assert verification.status == V.DECLINED
    assert verification.decision_source == DecisionSource.PROVIDER
    assert verification.decided_at is not None


# --- documents ---------------------------------------------------------------------------------------------


def make_document(applicant: Applicant, status: str = DocumentStatus.SUBMITTED, **fields: Any) -> Document:
    return Document.objects.create(applicant=applicant, type="passport", status=status, **fields)


def test_document_results_are_applied(applicant: Applicant, make_applicant: Any) -> None:
    by_our_id = make_document(applicant)
    by_provider_id = make_document(applicant, provider_document_id="prov-doc-2")
    purged = make_document(applicant, status=DocumentStatus.PURGED)
    stranger = make_document(make_applicant(last_name="Other", with_document=False))
    verification = make_verification(applicant, V.PROCESSING)

    outcome = transitions.apply_provider_state(
        verification.pk,
        state(
            V.APPROVED,
            timezone.now(),
            documents=[
                DocumentResult(status=DocumentStatus.ACCEPTED, document_id=str(by_our_id.pk)),
                DocumentResult(status=DocumentStatus.REJECTED, provider_document_id="prov-doc-2", reasons=["GLARE"]),
                DocumentResult(status=DocumentStatus.ACCEPTED, document_id=str(purged.pk)),
                DocumentResult(status=DocumentStatus.REJECTED, document_id=str(stranger.pk)),
            ],
        ),
        provider_change(),
    )

    assert outcome is Outcome.APPLIED
    statuses = {doc.pk: (doc.status, doc.reasons) for doc in Document.objects.all()}
    assert statuses[by_our_id.pk] == (DocumentStatus.ACCEPTED, [])
    assert statuses[by_provider_id.pk] == (DocumentStatus.REJECTED, ["GLARE"])
    assert statuses[purged.pk] == (DocumentStatus.PURGED, [])
    assert statuses[stranger.pk] == (DocumentStatus.SUBMITTED, [])
    document_moves = set(
        AuditEvent.objects.filter(object_type="document").values_list("object_id", "from_status", "to_status")
    )
    assert document_moves == {
        (str(by_our_id.pk), DocumentStatus.SUBMITTED, DocumentStatus.ACCEPTED),
        (str(by_provider_id.pk), DocumentStatus.SUBMITTED, DocumentStatus.REJECTED),
    }


def test_malformed_document_reference_does_not_block_the_verification(applicant: Applicant) -> None:
    """A provider's own document id in the wrong field must be skipped, not fail the whole event."""
    document = make_document(applicant)
    verification = make_verification(applicant, V.PROCESSING)
    outcome = transitions.apply_provider_state(
        verification.pk,
        state(
            V.APPROVED,
            timezone.now(),
            documents=[
                DocumentResult(status=DocumentStatus.ACCEPTED, document_id="doc_9f2c-not-a-uuid"),
                DocumentResult(status=DocumentStatus.ACCEPTED, document_id=str(document.pk)),
            ],
        ),
        provider_change(),
    )
    assert outcome is Outcome.APPLIED
    verification.refresh_from_db()
    document.refresh_from_db()
    assert verification.status == V.APPROVED
    assert document.status == DocumentStatus.ACCEPTED


def test_document_results_applied_when_status_unchanged(applicant: Applicant) -> None:
    document = make_document(applicant)
    verification = make_verification(applicant, V.REVIEW)
    outcome = transitions.apply_provider_state(
        verification.pk,
        state(V.REVIEW, timezone.now(), documents=[DocumentResult(DocumentStatus.ACCEPTED, str(document.pk))]),
        provider_change(),
    )
    assert outcome is Outcome.UNCHANGED
    document.refresh_from_db()
    assert document.status == DocumentStatus.ACCEPTED


@pytest.mark.parametrize(
    ("from_status", "to_status"), list(itertools.product(DocumentStatus.values, DocumentStatus.values))
)
def test_service_enforces_the_document_table(applicant: Applicant, from_status: str, to_status: str) -> None:
    document = make_document(applicant, status=from_status)
    change = provider_change()
    if to_status == from_status:
        assert transitions.transition_document(document, to_status, change) is False
    elif to_status in DOCUMENT_TRANSITIONS[from_status]:
        assert transitions.transition_document(document, to_status, change, ["R1"]) is True
    else:
        with pytest.raises(InvalidTransition):
            transitions.transition_document(document, to_status, change)
    document.refresh_from_db()
    moved = to_status != from_status and to_status in DOCUMENT_TRANSITIONS[from_status]
    assert document.status == (to_status if moved else from_status)
    assert AuditEvent.objects.filter(object_type="document").count() == (1 if moved else 0)


# --- AML checks -------------------------------------------------------------------------------------------


@pytest.mark.parametrize(("from_status", "to_status"), list(itertools.product(AmlStatus.values, AmlStatus.values)))
def test_service_enforces_the_aml_table(applicant: Applicant, from_status: str, to_status: str) -> None:
    check = AmlCheck.objects.create(applicant=applicant, backend="sandbox", status=from_status)
    change = Change.system(Source.TASK)
    if to_status in AML_TRANSITIONS[from_status]:
        transitions.transition_aml_check(check.pk, to_status, change, updates={"last_error": "x"})
        check.refresh_from_db()
        assert (check.status, check.last_error) == (to_status, "x")
        row = AuditEvent.objects.get(object_type="amlcheck")
        assert (row.from_status, row.to_status) == (from_status, to_status)
    else:
        with pytest.raises(InvalidTransition):
            transitions.transition_aml_check(check.pk, to_status, change)
        check.refresh_from_db()
        assert check.status == from_status
        assert not AuditEvent.objects.exists()


# --- the applicant aggregate ------------------------------------------------------------------------------


def test_suspended_applicant_stays_suspended(applicant: Applicant, reviewer: Any) -> None:
    verification = make_verification(applicant, V.PROCESSING)
    suspend = Change.by_user(reviewer, Source.ADMIN, reason="chargeback investigation")
    transitions.set_applicant_status(applicant.pk, ApplicantStatus.SUSPENDED, suspend)

    outcome = transitions.apply_provider_state(verification.pk, state(V.APPROVED, timezone.now()), provider_change())

    assert outcome is Outcome.APPLIED
    applicant.refresh_from_db()
    assert applicant.status == ApplicantStatus.SUSPENDED
    lift = Change.by_user(reviewer, Source.ADMIN, reason="resolved")
    transitions.set_applicant_status(applicant.pk, ApplicantStatus.VERIFIED, lift)
    applicant.refresh_from_db()
    assert applicant.status == ApplicantStatus.VERIFIED
    moves = list(
        AuditEvent.objects.filter(object_type="applicant", action=AuditAction.STATUS_CHANGE)
        .order_by("id")
        .values_list("from_status", "to_status")
    )
    assert moves == [
        (ApplicantStatus.UNVERIFIED, ApplicantStatus.SUSPENDED),
        (ApplicantStatus.SUSPENDED, ApplicantStatus.VERIFIED),
    ]


def test_suspension_needs_a_person_and_a_reason(applicant: Applicant, reviewer: Any) -> None:
    with pytest.raises(InvalidTransition):
        transitions.set_applicant_status(applicant.pk, ApplicantStatus.SUSPENDED, Change.system(reason="automatic"))
    with pytest.raises(InvalidTransition):
        transitions.set_applicant_status(
            applicant.pk, ApplicantStatus.SUSPENDED, Change.by_user(reviewer, Source.ADMIN)
        )
    with pytest.raises(InvalidTransition, match="derived"):
        transitions.set_applicant_status(
            applicant.pk, ApplicantStatus.VERIFIED, Change.by_user(reviewer, Source.ADMIN, reason="because")
        )
    applicant.refresh_from_db()
    assert applicant.status == ApplicantStatus.UNVERIFIED


def test_aggregate_skips_cancelled_and_expired_verifications(applicant: Applicant) -> None:
    older = make_verification(applicant, V.PROCESSING)
    transitions.transition_verification(older.pk, V.APPROVED, provider_change())
    newer = make_verification(applicant, V.PROCESSING)
    transitions.transition_verification(newer.pk, V.REVIEW, provider_change())
    applicant.refresh_from_db()
    assert applicant.status == ApplicantStatus.REVIEW

    transitions.transition_verification(newer.pk, V.CANCELLED, Change.system())
    applicant.refresh_from_db()
    assert applicant.status == ApplicantStatus.VERIFIED


@pytest.mark.parametrize(
    ("new_status", "aggregate"),
    [
        (VerificationStatus.PENDING, ApplicantStatus.VERIFIED),
        (VerificationStatus.PROCESSING, ApplicantStatus.VERIFIED),
        (VerificationStatus.ERROR, ApplicantStatus.VERIFIED),
        (VerificationStatus.REVIEW, ApplicantStatus.REVIEW),
        (VerificationStatus.DECLINED, ApplicantStatus.REJECTED),
        (VerificationStatus.RESUBMISSION_REQUESTED, ApplicantStatus.ACTION_REQUIRED),
    ],
)
def test_reverification_under_way_keeps_an_earlier_approval(
    make_applicant: Any, new_status: str, aggregate: str
) -> None:
    applicant = make_applicant()
    make_verification(applicant, VerificationStatus.APPROVED)
    make_verification(applicant, new_status)
    assert transitions.derive_applicant_status(applicant) == aggregate


def test_in_progress_after_a_decline_is_in_progress(make_applicant: Any) -> None:
    applicant = make_applicant()
    make_verification(applicant, VerificationStatus.DECLINED)
    make_verification(applicant, VerificationStatus.PROCESSING)
    assert transitions.derive_applicant_status(applicant) == ApplicantStatus.IN_PROGRESS
