"""Allpass's applicant statuses and webhook events in our vocabulary, and what a reviewer reads in an applicant.

Pure tables and helpers, no HTTP: the sources and the choices made where Allpass is silent are in
``docs/providers/allpass.md`` ("Statuses").
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from django_kyc.backends.parsing import text
from django_kyc.status import VerificationStatus

V = VerificationStatus

#: Applicant ``status`` (upper case) → ours. Allpass's API reference shows only ``INIT``; the others are the
#: states its applicant webhooks announce. ``COMPLETED`` is no decision: the flow is done and checks have run.
STATUS_MAP: Mapping[str, str] = {
    "INIT": V.AWAITING_USER,
    "INCOMPLETE": V.AWAITING_USER,
    "IN_PROGRESS": V.PROCESSING,
    "COMPLETED": V.PROCESSING,
    "IN_REVIEW": V.REVIEW,
    "ON_HOLD": V.REVIEW,
    "APPROVED": V.APPROVED,
    "REJECTED": V.DECLINED,
}
#: Applicant webhook event → the applicant status it announces.
EVENT_TABLE: Mapping[str, str] = {
    "applicantCreated": "INIT",
    "applicantIncomplete": "INCOMPLETE",
    "applicantInProgress": "IN_PROGRESS",
    "applicantCompleted": "COMPLETED",
    "applicantInReview": "IN_REVIEW",
    "applicantOnHold": "ON_HOLD",
    "applicantApproved": "APPROVED",
    "applicantRejected": "REJECTED",
}
#: Events that report progress only: the applicant's current status is read back instead.
PROGRESS_EVENTS: frozenset[str] = frozenset({"applicantStepPassed"})
#: A service result that is worth a reason for reviewers.
FAILED_SERVICE_STATUSES = ("REJECTED", "FAILED", "ERROR")
#: Reasons are cut to this many characters (they are shown in lists, and stored with each verification).
REASON_LIMIT = 500


def status_for_event(event: str) -> str:
    """The applicant status an event announces; ``""`` for an event that names none (progress, unknown)."""
    return EVENT_TABLE.get(event, "")


def reasons_from(review: Mapping[str, Any], services: Sequence[Any] = ()) -> list[str]:
    """Review comment, review warnings (a string or a list), then failed services' reason / error message:
    why a person should look, in the order a reviewer wants it, without repeats."""
    reasons: list[str] = []

    def add(value: Any) -> None:
        if isinstance(value, list):
            for item in value:
                add(item)
        elif isinstance(value, str) and value.strip() and value.strip()[:REASON_LIMIT] not in reasons:
            reasons.append(value.strip()[:REASON_LIMIT])

    add(review.get("comment"))
    add(review.get("warnings"))
    for service in services:
        if isinstance(service, Mapping) and text(service.get("status")).upper() in FAILED_SERVICE_STATUSES:
            name = text(service.get("service")) or "service"
            for key in ("reason", "errorMessage"):
                if service.get(key):
                    add(f"{name}: {service[key]}")
    return reasons


def warnings_from(value: Any) -> list[str]:
    """A webhook's ``warnings`` as reasons (a list of strings, by Allpass's payload description)."""
    return [str(item)[:REASON_LIMIT] for item in value if item] if isinstance(value, list) else []


def strip_images(value: Any) -> Any:
    """A copy of ``value`` with base64 images (``image`` keys) replaced by their size: the document pictures
    Allpass returns stay at Allpass (reviewers open them in the Workplace), so our rows do not grow by
    megabytes per verification."""
    if isinstance(value, Mapping):
        return {
            key: (
                f"(image omitted, {len(item)} characters)"
                if key == "image" and isinstance(item, str) and item
                else strip_images(item)
            )
            for key, item in value.items()
        }
    if isinstance(value, list):
        return [strip_images(item) for item in value]
    return value
