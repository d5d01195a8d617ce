"""KYCAID's vocabularies and ours: the status tables, decline reasons, document types and the decline policy.

Pure tables and functions (no HTTP, no database), so every mapping can be tested on its own
(``tests/backends/test_kycaid_statuses.py``). Where each fact comes from, and what KYCAID leaves open, is in
``docs/providers/kycaid.md``.
"""

from __future__ import annotations

import json
from collections.abc import Hashable, Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from django_kyc.status import DocumentStatus, VerificationStatus

#: (verification ``status``, ``verified``) -> our status. ``verified`` is ``None`` until KYCAID has a verdict.
STATUS_MAP: Mapping[tuple[str, bool | None], str] = {
    ("unused", None): VerificationStatus.AWAITING_USER,  # form not completed yet
    ("pending", None): VerificationStatus.PROCESSING,  # submitted, KYCAID is deciding
    ("completed", True): VerificationStatus.APPROVED,
    ("completed", False): VerificationStatus.DECLINED,  # DECLINE_POLICY may ask for resubmission instead
    ("completed", None): VerificationStatus.REVIEW,  # completed without a verdict: a person decides
}

#: Document ``status`` -> our document status; anything else counts as still ``submitted``.
DOCUMENT_STATUS_MAP: Mapping[str, str] = {
    "new": DocumentStatus.SUBMITTED,
    "valid": DocumentStatus.ACCEPTED,
    "invalid": DocumentStatus.REJECTED,
}

#: KYCAID's decline reason ids (``decline_reasons_ids``) and their codes (``decline_reasons``).
DECLINE_REASONS: Mapping[int, str] = {
    1: "OTHER",
    2: "WRONG_NAME",
    3: "WRONG_DOB",
    4: "AGE_RESTRICTION",
    5: "EXPIRED_DOCUMENT",
    7: "BAD_QUALITY",
    8: "FAKE_DOCUMENT",
    9: "WRONG_INFO",
    10: "PROHIBITED_JURISDICTION",
    11: "NO_SELFIE",
    12: "DIFFERENT_FACES",
    13: "WRONG_DOCUMENT",
    24: "DUPLICATE",
    25: "DOCUMENT_DAMAGED",
    26: "DOCUMENT_INCOMPLETE",
    27: "FRAUDULENT",
    28: "TAX_ID_REQUIRED",
    29: "COMPROMISED_PERSON",
    30: "EDITED_DOCUMENT",
    31: "MULTIPLE_PERSON",
    32: "COMPULSION",
    33: "LIMIT_REACHED_OTP",
    34: "IP_MISMATCH",
    35: "ANONYMIZING_NETWORK",
    36: "QES_MISMATCH",
}

#: Reasons a person can fix by sending better pictures; used by ``DECLINE_POLICY = "resubmit_quality"``.
QUALITY_REASONS: frozenset[str] = frozenset({"BAD_QUALITY", "DOCUMENT_INCOMPLETE", "NO_SELFIE", "DOCUMENT_DAMAGED"})

DECLINE_POLICIES = ("decline", "resubmit_quality")

#: Our DocumentType -> KYCAID document ``type`` (``OPTIONS["DOCUMENT_TYPES"]`` overrides any of them); a type
#: mapped to ``None`` is not sent.
DOCUMENT_TYPES: Mapping[str, str | None] = {
    "passport": "PASSPORT",
    "id_card": "GOVERNMENT_ID",
    "driving_licence": "DRIVERS_LICENSE",
    "residence_permit": "RESIDENCE_PERMIT",
    "selfie": "SELFIE_IMAGE",
    "utility_bill": "ADDRESS_DOCUMENT",
    "bank_statement": "BANK_STATEMENT",
    "other": None,
}

#: KYCAID ``type`` -> our DocumentType, for documents KYCAID reports that we did not send (the hosted form).
OUR_DOCUMENT_TYPES: Mapping[str, str] = {
    "PASSPORT": "passport",
    "FOREIGN_CITIZEN_PASSPORT": "passport",
    "DOMESTIC_PASSPORT": "passport",
    "GOVERNMENT_ID": "id_card",
    "ID_CARD": "id_card",
    "DRIVERS_LICENSE": "driving_licence",
    "RESIDENCE_PERMIT": "residence_permit",
    "SELFIE_IMAGE": "selfie",
    "ADDRESS_DOCUMENT": "utility_bill",
    "BANK_STATEMENT": "bank_statement",
}


def status_keys(status: str, verified: bool | None = None) -> tuple[Hashable, ...]:
    """The :data:`STATUS_MAP` keys a raw status tries: with its verdict, then (before completion) without one,
    so a ``pending`` that somehow carries a verdict is still ``processing`` while a ``completed`` is never
    decided by a key it does not match."""
    if status == "completed":
        return ((status, verified),)
    return ((status, verified), (status, None))


def provider_status(status: str, verified: bool | None) -> str:
    """What we keep in ``provider_status``: the status, plus the verdict once KYCAID completed."""
    if status == "completed":
        return f"completed (verified={json.dumps(verified)})"
    return status


def reason_codes(names: Any = None, ids: Any = None) -> list[str]:
    """Merge ``decline_reasons`` (codes) and ``decline_reasons_ids`` into one ordered list of codes.

    Ids are translated with :data:`DECLINE_REASONS`; an id KYCAID adds later is kept as ``REASON_<id>``
    rather than dropped, so the reviewer still sees that there was a reason.
    """
    codes: list[str] = []
    for value in [*(names if isinstance(names, list) else []), *(ids if isinstance(ids, list) else [])]:
        if isinstance(value, bool):
            continue
        if isinstance(value, int) or (isinstance(value, str) and value.isdigit()):
            code = DECLINE_REASONS.get(int(value), f"REASON_{int(value)}")
        elif isinstance(value, str) and value.strip():
            code = value.strip().upper()
        else:
            continue
        if code not in codes:
            codes.append(code)
    return codes


#: KYCAID's decline reasons (every code of :data:`DECLINE_REASONS`) → codes of our reviewer catalogue.
CATALOGUE_CODES: dict[str, str] = {
    "OTHER": "OTHER",
    "WRONG_NAME": "DATA_MISMATCH",
    "WRONG_DOB": "DATA_MISMATCH",
    "WRONG_INFO": "DATA_MISMATCH",
    "QES_MISMATCH": "DATA_MISMATCH",
    "AGE_RESTRICTION": "UNDERAGE",
    "EXPIRED_DOCUMENT": "DOCUMENT_EXPIRED",
    "BAD_QUALITY": "DOCUMENT_UNREADABLE",
    "DOCUMENT_DAMAGED": "DOCUMENT_DAMAGED",
    "DOCUMENT_INCOMPLETE": "DOCUMENT_INCOMPLETE",
    "WRONG_DOCUMENT": "DOCUMENT_UNSUPPORTED",
    "FAKE_DOCUMENT": "SUSPECTED_FRAUD",
    "FRAUDULENT": "SUSPECTED_FRAUD",
    "EDITED_DOCUMENT": "DOCUMENT_EDITED",
    "PROHIBITED_JURISDICTION": "RESTRICTED_COUNTRY",
    "NO_SELFIE": "SELFIE_MISSING",
    "DIFFERENT_FACES": "SELFIE_MISMATCH",
    "MULTIPLE_PERSON": "MULTIPLE_PERSONS",
    "DUPLICATE": "DUPLICATE_APPLICANT",
    "TAX_ID_REQUIRED": "ADDITIONAL_DOCUMENT_REQUIRED",
    "COMPROMISED_PERSON": "COMPROMISED_PERSON",
    "COMPULSION": "SUSPECTED_COERCION",
    "LIMIT_REACHED_OTP": "ATTEMPTS_EXHAUSTED",
    "IP_MISMATCH": "SUSPICIOUS_NETWORK",
    "ANONYMIZING_NETWORK": "SUSPICIOUS_NETWORK",
}


def catalogue_codes(reasons: Iterable[str]) -> list[str]:
    """KYCAID's reasons as codes of our reviewer catalogue (:data:`CATALOGUE_CODES`, then
    ``DJANGO_KYC["PROVIDER_REASON_MAP"]``), so reviewers and statistics read one vocabulary whichever provider
    declined."""
    from django_kyc.reasons import normalise_reasons  # the catalogue's labels need Django settings

    return normalise_reasons(reasons, CATALOGUE_CODES)


def document_type(our_type: str, overrides: Mapping[str, Any] | None = None) -> str | None:
    """The KYCAID ``type`` for one of our document types; ``None``: not sent."""
    if overrides and our_type in overrides:
        value = overrides[our_type]
        return str(value) if value else None
    return DOCUMENT_TYPES.get(our_type)


@dataclass(frozen=True)
class DeclinePolicy:
    """What ``completed`` + ``verified: false`` becomes (``OPTIONS["DECLINE_POLICY"]`` and
    ``["QUALITY_REASONS"]``)."""

    name: str = "decline"
    quality_reasons: frozenset[str] = QUALITY_REASONS

    def quality_only(self, reasons: Sequence[str]) -> bool:
        return bool(reasons) and all(reason in self.quality_reasons for reason in reasons)

    def apply(self, status: str, reasons: Sequence[str], attempts_left: Any) -> str:
        """Under ``"resubmit_quality"`` a decline whose reasons are all quality-type becomes
        ``resubmission_requested`` while attempts are left (``None`` = unlimited, as KYCAID documents it)."""
        if status != VerificationStatus.DECLINED or self.name != "resubmit_quality":
            return status
        attempts_ok = attempts_left is None or (isinstance(attempts_left, int) and attempts_left > 0)
        if attempts_ok and self.quality_only(reasons):
            return VerificationStatus.RESUBMISSION_REQUESTED
        return status

    def document_status(self, raw: str, reasons: Sequence[str], verification_status: str = "") -> str:
        """A document's status: a rejected one whose reasons are all quality-type is asked for again when the
        verification asks for resubmission."""
        status = DOCUMENT_STATUS_MAP.get(raw, DocumentStatus.SUBMITTED)
        if (
            status == DocumentStatus.REJECTED
            and verification_status == VerificationStatus.RESUBMISSION_REQUESTED
            and self.quality_only(reasons)
        ):
            return DocumentStatus.RESUBMISSION_REQUESTED
        return status
