"""Persona's inquiry statuses and events in our vocabulary.

Pure tables, no HTTP: the sources and the choices made where Persona leaves the meaning to the site are in
``docs/providers/persona.md`` ("Statuses").

An inquiry is ``created``, then ``pending`` once the person begins, then ``completed`` or ``failed`` when the
flow ends, or ``expired`` when they do not finish in time. A template with decisioning (a workflow or manual
review) then moves a completed inquiry on to ``approved``, ``declined`` or ``needs_review``. Redaction keeps
the status (``redacted-at`` says it happened).
"""

from __future__ import annotations

from collections.abc import Hashable, Mapping

from django_kyc.status import VerificationStatus

V = VerificationStatus

#: Every documented inquiry status → ours. ``completed`` waits for the decision (``processing``): a template
#: without post-inquiry decisioning approves by completing, which a site says with
#: ``OPTIONS["STATUS_OVERRIDES"] = {"completed": "approved"}``. ``failed`` is final for the inquiry (the person
#: used up their attempts; a retry is a new inquiry).
STATUS_MAP: Mapping[Hashable, str] = {
    "created": V.AWAITING_USER,
    "pending": V.AWAITING_USER,
    "completed": V.PROCESSING,
    "failed": V.DECLINED,
    "expired": V.EXPIRED,
    "needs_review": V.REVIEW,
    "approved": V.APPROVED,
    "declined": V.DECLINED,
}

#: The statuses in which the person can still work on the inquiry (a client token is worth issuing); ``POST
#: /inquiries/{id}/resume`` makes an ``expired`` one ``pending`` again.
RESUMABLE = frozenset({"created", "pending", "expired"})

#: The webhook events of an inquiry (``inquiry.*``); any of them makes us fetch the inquiry.
EVENT_PREFIX = "inquiry."
EVENT_NAMES = frozenset(
    EVENT_PREFIX + name
    for name in (
        "created",
        "started",
        "completed",
        "failed",
        "expired",
        "marked-for-review",
        "approved",
        "declined",
        "redacted",
        "transitioned",
    )
)


def provider_status(raw: str, redacted: bool = False) -> str:
    """What we keep as ``provider_status``: the status, marked when the inquiry was redacted."""
    status = raw or "(empty)"
    return f"{status}:redacted" if redacted else status
