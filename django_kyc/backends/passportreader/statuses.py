"""PassportReader's session states and chip data, and what each becomes here: tables and pure functions of a
``session.get`` answer, no HTTP, no database.

The vendor's guides name ``COMPLETED`` and ``APPROVED`` in passing but publish no list of states, so the
state table is the one seen in practice; ``docs/providers/passportreader.md`` ("Statuses") says why each
state maps where it does. A state missing from the table is kept raw and goes to a person (the base
``UNKNOWN_STATUS``), never to a decision.

Of the chip data, the portrait, the face image, the personal number and the person's IP address and user agent
are never copied into anything returned here (data minimisation); only whether a portrait or a face image came
back is noted (``docs/providers/passportreader.md``, "Chip data").
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import Any

from django_kyc.backends.parsing import iso_date
from django_kyc.status import DocumentStatus, VerificationStatus

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


# --- chip data ----------------------------------------------------------------------------------------------

#: The session's ``document_type`` → our document type; anything else is ``other``.
DOCUMENT_TYPES: Mapping[str, str] = {
    "PASSPORT": "passport",
    "ID_CARD": "id_card",
    "IDENTITY_CARD": "id_card",
    "RESIDENCE_PERMIT": "residence_permit",
    "DRIVING_LICENCE": "driving_licence",
    "DRIVING_LICENSE": "driving_licence",
}
#: Our document numbers are at most this long.
NUMBER_LENGTH = 64


def country(value: Any) -> str:
    """A two-letter ISO 3166 code as the vendor promises, or ``""`` (never a guess from another format: chips
    carry three-letter ICAO codes)."""
    text = str(value or "").strip().upper()
    return text if re.fullmatch(r"[A-Z]{2}", text) else ""


def document_type(session: Mapping[str, Any]) -> str:
    return DOCUMENT_TYPES.get(str(session.get("document_type") or "").upper(), "other")


def document_number(session: Mapping[str, Any]) -> str:
    return str(session.get("document_number") or "").strip()


def document_status(state: str) -> str:
    """A decided session's verdict on its document."""
    return DocumentStatus.ACCEPTED if state == "APPROVED" else DocumentStatus.REJECTED


def document_fields(session: Mapping[str, Any]) -> dict[str, Any]:
    """The fields of the document the chip describes (a new row is made from them when none matches)."""
    return {
        "type": document_type(session),
        "number": document_number(session)[:NUMBER_LENGTH],
        "issuing_country": country(session.get("issuing_country")),
        "expiry_date": iso_date(session.get("expiry_date")),
    }


def provider_document_id(session: Mapping[str, Any]) -> str:
    return f"passportreader-session-{session.get('id')}"


def applicant_data(session: Mapping[str, Any]) -> dict[str, Any]:
    """Chip names as printed (upper case, MRZ style): the first given name, the others as middle names.
    Re-casing names cannot be done without mistakes (McDonald, van der Berg), so it is not tried."""
    given = str(session.get("given_names") or "").split()
    return {
        "first_name": given[0] if given else "",
        "middle_name": " ".join(given[1:]),
        "last_name": " ".join(str(session.get("surname") or "").split()),
        "date_of_birth": iso_date(session.get("date_of_birth")),
        "nationality": country(session.get("nationality")),
    }


def passport_data(session: Mapping[str, Any]) -> dict[str, Any]:
    """What reviewers see in ``provider_data["passport"]``: raw values the applicant has no field for."""
    return {
        "document_type": str(session.get("document_type") or ""),
        "sex": str(session.get("sex") or ""),
        "issuer": str(session.get("issuer") or ""),
        "nationality": str(session.get("nationality") or ""),
        "issuing_country": str(session.get("issuing_country") or ""),
        "portrait_returned": bool(session.get("portrait")),
        "face_returned": bool(session.get("face")),
    }
