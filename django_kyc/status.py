"""Statuses and the moves allowed between them.

This module is the one place that says which status may follow which. The transition service
(:mod:`django_kyc.services.transitions`) consults these tables and is the only code that writes statuses.
"""

from __future__ import annotations

from collections.abc import Mapping

from django.db import models
from django.utils.translation import gettext_lazy as _
from django.utils.translation import pgettext_lazy


class VerificationStatus(models.TextChoices):
    PENDING = "pending", _("Pending submission")
    AWAITING_USER = "awaiting_user", _("Awaiting user")
    PROCESSING = "processing", _("Processing")
    REVIEW = "review", _("In review")
    RESUBMISSION_REQUESTED = "resubmission_requested", _("Resubmission requested")
    APPROVED = "approved", _("Approved")
    DECLINED = "declined", _("Declined")
    EXPIRED = "expired", _("Expired")
    CANCELLED = "cancelled", _("Cancelled")
    ERROR = "error", _("Error")


class DocumentStatus(models.TextChoices):
    UPLOADED = "uploaded", _("Uploaded")
    SUBMITTED = "submitted", _("Submitted")
    ACCEPTED = "accepted", _("Accepted")
    REJECTED = "rejected", _("Rejected")
    RESUBMISSION_REQUESTED = "resubmission_requested", _("Resubmission requested")
    EXPIRED = "expired", _("Expired")
    PURGED = "purged", _("Purged")


class ApplicantStatus(models.TextChoices):
    UNVERIFIED = "unverified", _("Unverified")
    IN_PROGRESS = "in_progress", _("In progress")
    ACTION_REQUIRED = "action_required", _("Action required")
    REVIEW = "review", _("In review")
    VERIFIED = "verified", _("Verified")
    #: Was verified; a periodic review or an identity document fell due and the person must verify again.
    REVERIFICATION_REQUIRED = "reverification_required", _("Re-verification required")
    REJECTED = "rejected", _("Rejected")
    SUSPENDED = "suspended", _("Suspended")


class ReviewReason(models.TextChoices):
    """Why an approved applicant's next review is due when it is (``Applicant.review_reason``)."""

    PERIODIC = "periodic", _("Periodic review")
    DOCUMENT_EXPIRY = "document_expiry", _("Document expiry")
    RISK_CHANGE = "risk_change", _("Risk change")
    SCREENING_HIT = "screening_hit", _("Screening hit")


class AmlStatus(models.TextChoices):
    PENDING = "pending", _("Pending")
    RUNNING = "running", _("Running")
    CLEAR = "clear", pgettext_lazy("AML status: no match", "Clear")
    POTENTIAL_MATCH = "potential_match", _("Potential match")
    CONFIRMED_MATCH = "confirmed_match", _("Confirmed match")
    FALSE_POSITIVE = "false_positive", _("False positive")
    ERROR = "error", _("Error")


class AmlHitStatus(models.TextChoices):
    OPEN = "open", pgettext_lazy("AML hit status", "Open")
    TRUE_POSITIVE = "true_positive", _("True positive")
    FALSE_POSITIVE = "false_positive", _("False positive")


class RiskLevel(models.TextChoices):
    LOW = "low", _("Low")
    MEDIUM = "medium", _("Medium")
    HIGH = "high", _("High")
    PROHIBITED = "prohibited", _("Prohibited")


class Actor(models.TextChoices):
    """Who caused a change, as recorded on audit rows."""

    USER = "user", _("User")
    PROVIDER = "provider", _("Provider")
    SYSTEM = "system", _("System")


class Source(models.TextChoices):
    """Through which door a change came in."""

    API = "api", _("API")
    ADMIN = "admin", _("Admin")
    WEBHOOK = "webhook", _("Webhook")
    TASK = "task", _("Task")
    POLL = "poll", _("Polling")
    SYSTEM = "system", _("System")


class AuditAction(models.TextChoices):
    """What an :class:`~django_kyc.models.AuditEvent` records. Every row's ``action`` is one of these."""

    STATUS_CHANGE = "status_change", _("Status change")
    CREATED = "created", _("Created")
    IMPORTED = "imported", _("Imported from another system")
    UPLOADED = "uploaded", _("Document uploaded")
    FILE_VIEWED = "file_viewed", _("Document file viewed")
    REPORT_VIEWED = "report_viewed", _("AML report viewed")
    EXPORTED = "exported", _("Exported")
    ASSIGNED = "assigned", _("Assigned")
    UNASSIGNED = "unassigned", _("Unassigned")
    HIT_RESOLVED = "hit_resolved", _("AML hit resolved")
    DECISION_PROPOSED = "decision_proposed", _("Decision proposed (four-eyes)")
    PROPOSAL_CONFIRMED = "proposal_confirmed", _("Proposal confirmed (four-eyes)")
    PROPOSAL_WITHDRAWN = "proposal_withdrawn", _("Proposal withdrawn (four-eyes)")
    DECISION_PUSHED = "decision_pushed", _("Decision sent to the provider")
    PUSH_FAILED = "push_failed", _("Sending the decision to the provider failed")
    POSSIBLE_DUPLICATE = "possible_duplicate", _("Possible duplicate at the provider")
    RISK_CHANGED = "risk_changed", _("Risk level changed")
    ERASURE_REQUESTED = "erasure_requested", _("Erasure requested")
    ERASURE_REFUSED = "erasure_refused", _("Erasure refused")
    PROVIDER_ERASURE = "provider_erasure", _("Erasure at the provider")
    PII_PURGED = "pii_purged", _("Personal data purged")
    REVIEW_SCHEDULED = "review_scheduled", _("Next review scheduled")
    REVIEW_DUE = "review_due", _("Review due: notice sent")


V = VerificationStatus
D = DocumentStatus
A = AmlStatus

_PROVIDER_OUTCOMES = frozenset({V.REVIEW, V.APPROVED, V.DECLINED, V.RESUBMISSION_REQUESTED})

#: Ordinary moves, available to every actor.
VERIFICATION_TRANSITIONS: Mapping[str, frozenset[str]] = {
    V.PENDING: frozenset({V.AWAITING_USER, V.PROCESSING, V.CANCELLED, V.ERROR} | _PROVIDER_OUTCOMES),
    V.AWAITING_USER: frozenset({V.PROCESSING, V.EXPIRED, V.CANCELLED, V.ERROR} | _PROVIDER_OUTCOMES),
    V.PROCESSING: frozenset({V.EXPIRED, V.CANCELLED, V.ERROR} | _PROVIDER_OUTCOMES),
    # No status lists itself: a "move" to the same status would audit and signal a change that never happened
    # (a reviewer asking twice for resubmission would notify the user twice).
    V.REVIEW: frozenset({V.CANCELLED, V.ERROR} | _PROVIDER_OUTCOMES - {V.REVIEW}),
    V.RESUBMISSION_REQUESTED: frozenset(
        {V.AWAITING_USER, V.PROCESSING, V.EXPIRED, V.CANCELLED} | _PROVIDER_OUTCOMES - {V.RESUBMISSION_REQUESTED}
    ),
    # ``error`` is technical, never a decision: a retry puts the verification back in the queue.
    V.ERROR: frozenset({V.PENDING, V.AWAITING_USER, V.PROCESSING, V.CANCELLED} | _PROVIDER_OUTCOMES),
    V.APPROVED: frozenset(),
    V.DECLINED: frozenset(),
    V.EXPIRED: frozenset(),
    V.CANCELLED: frozenset(),
}

#: Named moves out of a terminal decision. Only a person may make them, and only with a reason.
VERIFICATION_OVERRIDES: Mapping[tuple[str, str], str] = {
    (V.APPROVED, V.DECLINED): "revoke",
    (V.DECLINED, V.APPROVED): "overturn",
    (V.DECLINED, V.REVIEW): "reopen",
    (V.APPROVED, V.REVIEW): "reopen",
}

VERIFICATION_TERMINAL = frozenset(s for s, moves in VERIFICATION_TRANSITIONS.items() if not moves)
VERIFICATION_DECISIONS = frozenset({V.APPROVED, V.DECLINED})
#: An applicant may have only one verification in these states at a time.
VERIFICATION_ACTIVE = frozenset({V.PENDING, V.AWAITING_USER, V.PROCESSING, V.REVIEW, V.ERROR})

#: Personal data may be changed only before anything has been checked, or when the applicant is asked to act
#: (a re-verification is also the moment to bring the data up to date).
APPLICANT_EDITABLE = frozenset(
    {ApplicantStatus.UNVERIFIED, ApplicantStatus.ACTION_REQUIRED, ApplicantStatus.REVERIFICATION_REQUIRED}
)
#: Through the API, documents are uploaded and verifications started only in these applicant statuses. Not while
#: a verification runs or waits for a person (``in_progress``, ``review``: a document uploaded then is part of no
#: submission), not once ``verified`` (a re-verification is the site's decision, started through
#: ``services.submission``, or a review's notice: see ``api.permissions.applicant_actions``), not while
#: ``suspended``. A decline may be answered with new documents, a lapsed review with a new verification.
APPLICANT_MAY_SUBMIT = frozenset(
    {
        ApplicantStatus.UNVERIFIED,
        ApplicantStatus.ACTION_REQUIRED,
        ApplicantStatus.REJECTED,
        ApplicantStatus.REVERIFICATION_REQUIRED,
    }
)
#: The only applicant status a lapsed review or identity document takes away (to ``reverification_required``,
#: or to ``in_progress`` when a re-verification is already under way): the other statuses grant nothing a
#: site gates on, and ``suspended`` is a person's decision that only a person lifts.
APPLICANT_REVERIFICATION_FROM = frozenset({ApplicantStatus.VERIFIED})

#: Progress rank, used when two provider events carry the same (or no) timestamp: the later one in the
#: pipeline wins, so a late ``processing`` can never demote a ``review`` that arrived first.
VERIFICATION_RANK: Mapping[str, int] = {
    V.PENDING: 0,
    V.ERROR: 3,  # a provider-reported failure can end any stage; only our own retry leaves it
    V.AWAITING_USER: 1,
    V.PROCESSING: 2,
    V.REVIEW: 3,
    V.RESUBMISSION_REQUESTED: 3,
    V.APPROVED: 4,
    V.DECLINED: 4,
    V.EXPIRED: 4,
    V.CANCELLED: 4,
}

DOCUMENT_TRANSITIONS: Mapping[str, frozenset[str]] = {
    D.UPLOADED: frozenset({D.SUBMITTED, D.ACCEPTED, D.REJECTED, D.RESUBMISSION_REQUESTED, D.EXPIRED, D.PURGED}),
    D.SUBMITTED: frozenset({D.ACCEPTED, D.REJECTED, D.RESUBMISSION_REQUESTED, D.EXPIRED, D.PURGED}),
    D.RESUBMISSION_REQUESTED: frozenset({D.SUBMITTED, D.ACCEPTED, D.REJECTED, D.EXPIRED, D.PURGED}),
    D.ACCEPTED: frozenset({D.REJECTED, D.EXPIRED, D.PURGED}),
    D.REJECTED: frozenset({D.ACCEPTED, D.PURGED}),
    D.EXPIRED: frozenset({D.PURGED}),
    D.PURGED: frozenset(),
}

AML_TRANSITIONS: Mapping[str, frozenset[str]] = {
    A.PENDING: frozenset({A.RUNNING, A.CLEAR, A.POTENTIAL_MATCH, A.ERROR}),
    A.RUNNING: frozenset({A.CLEAR, A.POTENTIAL_MATCH, A.ERROR}),
    A.POTENTIAL_MATCH: frozenset({A.CONFIRMED_MATCH, A.FALSE_POSITIVE}),
    A.ERROR: frozenset({A.PENDING, A.RUNNING}),
    A.CLEAR: frozenset(),
    A.CONFIRMED_MATCH: frozenset(),
    A.FALSE_POSITIVE: frozenset(),
}

#: A hit is resolved once, by a person; reopening would need a new screening.
AML_HIT_TRANSITIONS: Mapping[str, frozenset[str]] = {
    AmlHitStatus.OPEN: frozenset({AmlHitStatus.TRUE_POSITIVE, AmlHitStatus.FALSE_POSITIVE}),
    AmlHitStatus.TRUE_POSITIVE: frozenset(),
    AmlHitStatus.FALSE_POSITIVE: frozenset(),
}

#: How the latest relevant verification maps onto the applicant aggregate.
APPLICANT_STATUS_FOR_VERIFICATION: Mapping[str, str] = {
    V.PENDING: ApplicantStatus.IN_PROGRESS,
    V.AWAITING_USER: ApplicantStatus.IN_PROGRESS,
    V.PROCESSING: ApplicantStatus.IN_PROGRESS,
    V.ERROR: ApplicantStatus.IN_PROGRESS,
    V.REVIEW: ApplicantStatus.REVIEW,
    V.RESUBMISSION_REQUESTED: ApplicantStatus.ACTION_REQUIRED,
    V.APPROVED: ApplicantStatus.VERIFIED,
    V.DECLINED: ApplicantStatus.REJECTED,
}


def verification_move(from_status: str, to_status: str) -> str | None:
    """Name the kind of move: ``"normal"``, an override name, or ``None`` when it is not allowed."""
    if to_status in VERIFICATION_TRANSITIONS.get(from_status, frozenset()):
        return "normal"
    return VERIFICATION_OVERRIDES.get((from_status, to_status))
