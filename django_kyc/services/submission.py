"""Starting verifications and submitting them to their backend.

Submission runs in a django-q2 task in three short steps so no database lock is held during the provider
call: (1) claim the attempt and commit it, (2) call the backend, (3) record the result. A crash between (2)
and (3) leaves the verification pending with a lease; the sweeper retries it, and the backend's
idempotency (it is keyed by our verification id) prevents a second provider applicant.
"""

from __future__ import annotations

import logging
from typing import Any

from django.core.exceptions import ValidationError
from django.db import transaction
from django.db.models import F
from django.utils import timezone
from django.utils.translation import gettext as _

from django_kyc.backends import get_backend
from django_kyc.backends.base import UNANSWERED_CREATES, ClientToken, RetryPolicy, Submission, possible_duplicates
from django_kyc.backends.capabilities import Capability
from django_kyc.conf import kyc_settings
from django_kyc.exceptions import (
    KycConfigurationError,
    KycError,
    PermanentProviderError,
    ProviderError,
    UnsupportedFeature,
    VerificationConflict,
)
from django_kyc.models import Applicant, Document, Verification
from django_kyc.queue import enqueue_on_commit
from django_kyc.services import events, transitions
from django_kyc.services.audit import Change, audit, decision_reason
from django_kyc.services.retry import max_attempts, next_attempt_at, provider_call_lease
from django_kyc.status import VERIFICATION_ACTIVE, AuditAction, DocumentStatus, Source, VerificationStatus

logger = logging.getLogger("django_kyc.submission")


def start_verification(applicant: Applicant, change: Change, backend: str | None = None) -> Verification:
    """Create a pending verification and queue its submission. One active verification per applicant."""
    alias = backend or kyc_settings.DEFAULT_BACKEND
    chosen = get_backend(alias)  # fail now, with the bad key named, rather than in a worker
    try:
        chosen.check_verification_subject(applicant)
    except PermanentProviderError as exc:
        raise ValidationError(exc.message) from exc
    with transaction.atomic():
        locked = Applicant.objects.select_for_update().get(pk=applicant.pk)
        if locked.verifications.filter(status__in=VERIFICATION_ACTIVE).exists():
            raise VerificationConflict(_("This applicant already has a verification in progress."))
        verification = Verification.objects.create(applicant=locked, backend=alias)
        audit(
            change, obj=verification, applicant_id=locked.pk, action=AuditAction.CREATED, to_status=verification.status
        )
        transitions.refresh_applicant(locked.pk, change)
        enqueue_on_commit("submit_verification", str(verification.pk))
    return verification


def _claim_attempt(verification_id: Any) -> Verification | None:
    """Count the attempt and take its lease, or ``None`` when the verification is not due (or another worker
    claimed it first). Two statements in autocommit: a read, then a compare-and-set UPDATE that matches only
    the state read (the attempt count grows with every claim), so of two racing claims exactly one wins."""
    # the applicant comes along: every backend reads it to build its request
    verification = Verification.objects.select_related("applicant").get(pk=verification_id)
    now = timezone.now()
    if verification.status != VerificationStatus.PENDING:
        return None
    if verification.next_attempt_at and verification.next_attempt_at > now:
        return None
    lease_until = now + provider_call_lease(verification.backend)
    as_read: dict[str, Any] = (
        {"next_attempt_at": verification.next_attempt_at}
        if verification.next_attempt_at
        else {"next_attempt_at__isnull": True}
    )
    claimed = Verification.objects.filter(
        pk=verification.pk, status=VerificationStatus.PENDING, attempts=verification.attempts, **as_read
    ).update(attempts=F("attempts") + 1, next_attempt_at=lease_until, updated_at=now)
    if not claimed:
        return None
    verification.attempts += 1
    verification.next_attempt_at = lease_until
    verification.updated_at = now
    return verification


def submit_verification(verification_id: Any) -> None:
    """Task body: submit a pending verification; safe to run twice, concurrently or after a crash."""
    verification = _claim_attempt(verification_id)
    if verification is None:
        return
    change = Change.provider(verification.backend, Source.TASK)
    try:
        submission = get_backend(verification.backend).start_verification(verification)
    except (PermanentProviderError, KycConfigurationError, UnsupportedFeature) as exc:
        fail(verification.pk, str(exc), change)
        return
    except ProviderError as exc:
        schedule_retry(verification.pk, exc, change)
        return
    except Exception as exc:
        # An unexpected failure is retried like an outage and ends visibly in ``error`` if it persists.
        logger.exception("submission of verification %s failed unexpectedly", verification.pk)
        schedule_retry(verification.pk, ProviderError(f"unexpected error: {type(exc).__name__}"), change)
        return
    record_submission(verification.pk, submission, change)


def record_submission(verification_id: Any, submission: Submission, change: Change) -> None:
    with transaction.atomic(), events.endpoints_read_once():
        verification = transitions.lock_verification(verification_id)
        report_possible_duplicates(verification, change)
        updates: dict[str, Any] = {
            "provider_applicant_id": submission.provider_applicant_id or verification.provider_applicant_id,
            "provider_verification_id": submission.provider_verification_id or verification.provider_verification_id,
            "submitted_at": verification.submitted_at or timezone.now(),
            "next_attempt_at": None,
            "last_error": "",
        }
        if submission.client:
            updates.update(_client_fields(submission.client))
        if _sends_documents(verification.backend):
            _mark_submitted(verification, submission.documents, change)
        # If a webhook overtook us and already moved it, its status stands; we only record the references.
        if verification.status != VerificationStatus.PENDING:
            Verification.objects.filter(pk=verification.pk).update(**updates, updated_at=timezone.now())
            return
        # the references ride along with the status change: one UPDATE
        outcome = transitions.apply_provider_state(
            verification.pk, submission.state, change, updates=updates, locked=verification
        )
        if outcome == transitions.Outcome.APPLIED:
            return
        # The backend answered with a state we cannot move to from pending; left alone, the sweeper would
        # resubmit it every minute forever. Make it visible instead (the references are kept with it).
        message = f"backend returned an unusable state {submission.state.provider_status!r} for a new submission"
        transitions.transition_verification(
            verification.pk,
            VerificationStatus.ERROR,
            _with_reason(change, message),
            updates={**updates, "last_error": message},
        )


def _mark_submitted(verification: Verification, sent: tuple[str, ...] | None, change: Change) -> None:
    """Move the documents the submission sent (``Submission.documents``; ``None``: every one uploaded) from
    ``uploaded`` to ``submitted``. A backend that says it sent none spares the read: an applicant without
    documents (or with none to send) is the common case of a submission, and its record is one statement
    shorter. A document uploaded while the provider call was under way is not among those sent and stays
    ``uploaded``."""
    if sent is not None and not sent:
        return
    uploaded = Document.objects.filter(applicant_id=verification.applicant_id, status=DocumentStatus.UPLOADED)
    if sent is not None:
        uploaded = uploaded.filter(pk__in=list(sent))
    for document in uploaded:
        transitions.transition_document(document, DocumentStatus.SUBMITTED, change)


def _sends_documents(alias: str) -> bool:
    """Whether the backend sends the applicant's uploaded documents to the provider (capability
    ``document_upload``): only then are they ``submitted``. A hosted flow captures its own; ours stay
    ``uploaded``, with the provider never having seen them."""
    try:
        return get_backend(alias).supports(Capability.DOCUMENT_UPLOAD)
    except KycConfigurationError:
        return False


def report_possible_duplicates(verification: Verification, change: Change) -> None:
    """One ``possible_duplicate`` audit row per create call the backend left unanswered, then forget them.

    A call whose answer was lost (a timeout, a reset, a 5xx, a killed worker) may have created its object at
    the provider anyway. Where the provider offers a lookup the backend finds that object on the retry and
    settles the call; what is still unanswered when a submission ends (recorded, failed, given up) or a client
    token was issued could not be found again, and a reviewer should know the provider may hold a second
    applicant, session or billed verification this one does not refer to. Called with the row locked.
    """
    found = possible_duplicates(verification.provider_data)
    if not found:
        return
    for item in found:
        reason = (
            f"{item.call} at {item.attempted_at} got no answer and could not be looked up: "
            f"{verification.backend} may hold a {item.kind} this verification does not refer to"
        )
        audit(
            _with_reason(change, reason),
            obj=verification,
            applicant_id=verification.applicant_id,
            action=AuditAction.POSSIBLE_DUPLICATE,
            data={"kind": item.kind, "call": item.call, "attempted_at": item.attempted_at},
        )
    remaining = {key: value for key, value in verification.provider_data.items() if key != UNANSWERED_CREATES}
    verification.provider_data = remaining
    Verification.objects.filter(pk=verification.pk).update(provider_data=remaining)


def _client_fields(client: ClientToken) -> dict[str, Any]:
    return {
        "client_token": client.token,
        "client_link": client.link,
        "client_token_expires_at": client.expires_at,
    }


def schedule_retry(verification_id: Any, error: ProviderError, change: Change) -> None:
    """Back off and let the sweeper retry, or give up in ``error`` once the attempts are spent."""
    with transaction.atomic():
        verification = transitions.lock_verification(verification_id)
        if verification.status != VerificationStatus.PENDING:
            return
        policy = _policy(verification.backend)
        if verification.attempts >= max_attempts(policy):
            report_possible_duplicates(verification, change)
            message = f"gave up after {verification.attempts} attempts: {error}"
            transitions.transition_verification(
                verification.pk,
                VerificationStatus.ERROR,
                _with_reason(change, message),
                updates={"last_error": message, "next_attempt_at": None},
            )
            return
        verification.next_attempt_at = next_attempt_at(verification.attempts, error.retry_after, policy=policy)
        verification.last_error = str(error)
        verification.save(update_fields=["next_attempt_at", "last_error", "updated_at"])
        # ids, class and status code only: provider messages can echo what the applicant typed
        logger.info(
            "verification %s attempt %s failed (%s, HTTP %s); retry at %s",
            verification.pk,
            verification.attempts,
            type(error).__name__,
            error.status_code or "-",
            verification.next_attempt_at.isoformat(),
        )


def _policy(alias: str) -> RetryPolicy:
    try:
        return get_backend(alias).retry_policy
    except KycConfigurationError:
        return RetryPolicy()


def fail(verification_id: Any, message: str, change: Change) -> None:
    """A permanent failure: ``error`` with the provider's message, no retry.

    Like :func:`schedule_retry`, it only acts on a verification still pending: one cancelled while the
    provider call was in flight keeps its status (``cancelled -> error`` is not a move, and the task would
    otherwise fail on it).
    """
    with transaction.atomic():
        verification = transitions.lock_verification(verification_id)
        if verification.status != VerificationStatus.PENDING:
            return
        report_possible_duplicates(verification, change)
        transitions.transition_verification(
            verification.pk,
            VerificationStatus.ERROR,
            _with_reason(change, message),
            updates={"last_error": message, "next_attempt_at": None},
        )


def _with_reason(change: Change, reason: str) -> Change:
    return Change(
        actor_type=change.actor_type,
        source=change.source,
        user=change.user,
        label=change.label,
        reason=reason,
    )


def retry_verification(verification_id: Any, change: Change) -> Verification:
    """Put a verification in ``error`` back in the queue with a fresh attempt budget."""
    with transaction.atomic():
        verification = transitions.transition_verification(
            verification_id,
            VerificationStatus.PENDING,
            change,
            updates={"attempts": 0, "next_attempt_at": None, "last_error": ""},
        )
        enqueue_on_commit("submit_verification", str(verification.pk))
    return verification


def refresh_client_token(verification: Verification) -> Verification:
    """Issue a new hosted-flow link or SDK token when the current one is missing or expired, or when the
    provider asked for a resubmission (the old link points at a session that is over)."""
    expires = verification.client_token_expires_at
    current = (verification.client_token or verification.client_link) and (expires is None or expires > timezone.now())
    backend = get_backend(verification.backend)
    if not backend.supports(Capability.HOSTED_FLOW):
        # an API-mode verification has no hosted step: nothing to hand the person (a 400 at the API)
        raise UnsupportedFeature(backend.provider or verification.backend, _("a hosted flow (client links)"))
    if current and verification.status != VerificationStatus.RESUBMISSION_REQUESTED:
        return verification
    client = backend.issue_client_token(verification)
    Verification.objects.filter(pk=verification.pk).update(**_client_fields(client), updated_at=timezone.now())
    if possible_duplicates(verification.provider_data):  # what the backend checkpointed on this very object
        # issuing a token can create a provider session; an earlier try may have lost its answer
        with transaction.atomic():
            locked = transitions.lock_verification(verification.pk)
            report_possible_duplicates(locked, Change.provider(verification.backend, Source.API))
    verification.refresh_from_db()
    return verification


# --- reviewer decisions, told to the provider ----------------------------------------------------------------

#: Decisions a provider can be told about; cancelling is ours alone.
PUSHABLE = frozenset(
    {VerificationStatus.APPROVED, VerificationStatus.DECLINED, VerificationStatus.RESUBMISSION_REQUESTED}
)


def push_decision_later(verification: Verification) -> None:
    """Queue :func:`push_decision` for after the decision commits, when the backend can push decisions and
    the site asked for it (``OPTIONS["PUSH_DECISIONS"]``)."""
    if verification.status not in PUSHABLE:
        return
    backend = get_backend(verification.backend)
    if backend.supports(Capability.PUSH_DECISION) and backend.config.get("PUSH_DECISIONS"):
        enqueue_on_commit("push_decision", str(verification.pk))


def push_decision(verification_id: Any) -> None:
    """Task body: tell the provider what the reviewer decided, and why. The local decision stands either way;
    the outcome of the push is written to the audit timeline, so a failed push is visible to reviewers."""
    verification = Verification.objects.get(pk=verification_id)
    reason, reason_code = decision_reason(verification)
    try:
        get_backend(verification.backend).push_decision(
            verification, verification.status, reason=reason, reason_code=reason_code
        )
    except KycError as exc:
        Verification.objects.filter(pk=verification.pk).update(last_error=f"decision push failed: {exc}"[:2000])
        audit(
            Change.system(Source.TASK, reason=str(exc)),
            obj=verification,
            applicant_id=verification.applicant_id,
            action=AuditAction.PUSH_FAILED,
            to_status=verification.status,
        )
        return
    audit(
        Change.system(Source.TASK),
        obj=verification,
        applicant_id=verification.applicant_id,
        action=AuditAction.DECISION_PUSHED,
        to_status=verification.status,
    )
