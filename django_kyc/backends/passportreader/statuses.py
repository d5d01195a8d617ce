"""PassportReader's session states and what each one means here: tables only, no HTTP, no database.

The vendor's guides name ``COMPLETED`` and ``APPROVED`` in passing but publish no list of states, so the
table below is the one seen in practice; ``docs/providers/passportreader.md`` ("Statuses") says why each
state maps where it does. A state missing from the table is kept raw and goes to a person (the base
``UNKNOWN_STATUS``), never to a decision.
"""

from __future__ import annotations

from collections.abc import Mapping

from django_kyc.status import VerificationStatus

V = VerificationStatus

#: Session ``state`` → our status. ``FAILED`` / ``ABORTED`` end the session without a result: the person has to
#: try again, so ``resubmission_requested`` (not ``error``: nothing failed on our side, and a later decision of
#: a re-opened session can still be applied from it).
STATUS_MAP: Mapping[str, str] = {
    "CREATED": V.AWAITING_USER,
    "INITIATED": V.AWAITING_USER,
    "COMPLETED": V.PROCESSING,
    "APPROVED": V.APPROVED,
    "REJECTED": V.DECLINED,
    "FAILED": V.RESUBMISSION_REQUESTED,
    "ABORTED": V.RESUBMISSION_REQUESTED,
}

#: The reasons a state gives the person and the reviewer (the provider sends none of its own).
STATE_REASONS: Mapping[str, tuple[str, ...]] = {
    "FAILED": ("SESSION_FAILED",),
    "ABORTED": ("SESSION_ABORTED",),
}

#: States whose session carries chip data worth reading with ``session.get``.
DECIDED_STATES = frozenset({"APPROVED", "REJECTED"})
#: States in which the person can still use the session's hand-off token.
OPEN_STATES = frozenset({"CREATED", "INITIATED"})
#: States after which a retry needs a new session (this one will never produce a decision).
DEAD_STATES = frozenset({"FAILED", "ABORTED"})


def reasons_for(state: str) -> tuple[str, ...]:
    return STATE_REASONS.get(state, ())


def shown(state: str) -> str:
    """The raw state as ``provider_status`` keeps it: an empty answer stays visible as such."""
    return state or "(empty)"
