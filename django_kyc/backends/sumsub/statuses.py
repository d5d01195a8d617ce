"""Sumsub's vocabularies and ours: review statuses and answers, rejection labels, document types.

Pure tables and functions (no HTTP, no database), tested on their own in
``tests/backends/test_sumsub_statuses.py``. Where each value comes from, and what Sumsub leaves open, is in
``docs/providers/sumsub.md``.
"""

from __future__ import annotations

from collections.abc import Hashable, Iterable, Mapping
from typing import Any

from django_kyc.status import DocumentStatus, VerificationStatus

V = VerificationStatus
D = DocumentStatus

#: (``reviewStatus``, ``reviewAnswer``, ``reviewRejectType``) → our status. Before ``completed`` the status alone
#: counts (its key carries two ``None``); a ``completed`` review is decided by its answer and reject type only.
STATUS_MAP: Mapping[tuple[str, str | None, str | None], str] = {
    ("init", None, None): V.AWAITING_USER,  # documents requested: the person (or our upload) has to act
    ("awaitingUser", None, None): V.AWAITING_USER,
    ("pending", None, None): V.PROCESSING,
    ("prechecked", None, None): V.PROCESSING,
    ("queued", None, None): V.PROCESSING,
    ("awaitingService", None, None): V.PROCESSING,  # paused on an external database, answer still to come
    ("onHold", None, None): V.REVIEW,  # a compliance officer at Sumsub has to act
    ("completed", "GREEN", None): V.APPROVED,
    ("completed", "RED", "RETRY"): V.RESUBMISSION_REQUESTED,
    ("completed", "RED", "FINAL"): V.DECLINED,
}

#: The statuses in which Sumsub refuses "request a check", reset and deactivation: the check already runs.
CHECK_RUNNING = frozenset({"pending", "queued", "prechecked"})

#: Our document type → Sumsub ``idDocType``; a type mapped to ``None`` has no Sumsub counterpart and is refused.
DOCUMENT_TYPES: Mapping[str, str | None] = {
    "passport": "PASSPORT",
    "id_card": "ID_CARD",
    "driving_licence": "DRIVERS",
    "residence_permit": "RESIDENCE_PERMIT",
    "selfie": "SELFIE",
    "utility_bill": "UTILITY_BILL",
    "bank_statement": "BANK_STATEMENT",
    "other": None,
}

#: A verification step's (``reviewAnswer``, ``reviewRejectType``) → the status of the documents in it; a step
#: without an answer leaves them ``submitted``.
DOCUMENT_STATUS_MAP: Mapping[tuple[str | None, str | None], str] = {
    ("GREEN", None): D.ACCEPTED,
    ("RED", "RETRY"): D.RESUBMISSION_REQUESTED,
    ("RED", "FINAL"): D.REJECTED,
    ("RED", None): D.REJECTED,
}

#: Sumsub ``idDocType`` → our document type, for documents Sumsub captured (the WebSDK) that we never had.
OUR_DOCUMENT_TYPES: Mapping[str, str] = {value: key for key, value in DOCUMENT_TYPES.items() if value is not None}

#: ``idDocType`` values of documents that prove identity: their ``country`` is the issuing country. For the
#: others (a selfie, a utility bill) without one, the applicant's country stands in.
IDENTITY_DOCUMENTS: frozenset[str] = frozenset({"PASSPORT", "ID_CARD", "DRIVERS", "RESIDENCE_PERMIT"})

#: ``idDocType`` values that have two sides: Sumsub does not complete the step until both are sent.
TWO_SIDED: frozenset[str] = frozenset({"ID_CARD", "DRIVERS", "RESIDENCE_PERMIT"})

#: Sumsub's rejection labels (``reviewResult.rejectLabels``) → codes of our reviewer catalogue. A label not
#: listed here becomes ``OTHER`` (see :func:`catalogue_codes`); ``DJANGO_KYC["PROVIDER_REASON_MAP"]`` overrides.
CATALOGUE_CODES: dict[str, str] = {
    # temporary rejections (RETRY): https://docs.sumsub.com/reference/temporary-rejection
    "UNSATISFACTORY_PHOTOS": "DOCUMENT_UNREADABLE",
    "SCREENSHOTS": "DOCUMENT_UNREADABLE",
    "BLACK_AND_WHITE": "DOCUMENT_UNREADABLE",
    "LOW_QUALITY": "DOCUMENT_UNREADABLE",
    "INCOMPLETE_DOCUMENT": "DOCUMENT_INCOMPLETE",
    "DOCUMENT_PAGE_MISSING": "DOCUMENT_INCOMPLETE",
    "FRONT_SIDE_MISSING": "DOCUMENT_INCOMPLETE",
    "BACK_SIDE_MISSING": "DOCUMENT_INCOMPLETE",
    "DOCUMENT_DAMAGED": "DOCUMENT_DAMAGED",
    "EXPIRATION_DATE": "DOCUMENT_EXPIRED",
    "ID_INVALID": "DOCUMENT_UNSUPPORTED",
    "NOT_DOCUMENT": "DOCUMENT_UNSUPPORTED",
    "GRAPHIC_EDITOR": "DOCUMENT_EDITED",
    "WRONG_ADDRESS": "DATA_MISMATCH",
    "INCONSISTENT_PROFILE": "DATA_MISMATCH",
    "INCORRECT_SOCIAL_NUMBER": "DATA_MISMATCH",
    "PROBLEMATIC_APPLICANT_DATA": "DATA_MISMATCH",
    "REQUESTED_DATA_MISMATCH": "DATA_MISMATCH",
    "DB_DATA_NOT_FOUND": "DATA_MISMATCH",
    "ADDITIONAL_DOCUMENT_REQUIRED": "ADDITIONAL_DOCUMENT_REQUIRED",
    "BAD_SELFIE": "SELFIE_MISSING",
    "BAD_VIDEO_SELFIE": "SELFIE_MISSING",
    "BAD_FACE_MATCHING": "SELFIE_MISMATCH",
    "SELFIE_MISMATCH": "SELFIE_MISMATCH",
    # final rejections (FINAL): https://docs.sumsub.com/reference/final-rejection
    "FORGERY": "SUSPECTED_FRAUD",
    "DOCUMENT_TEMPLATE": "SUSPECTED_FRAUD",
    "FRAUDULENT_PATTERNS": "SUSPECTED_FRAUD",
    "FRAUDULENT_LIVENESS": "SUSPECTED_FRAUD",
    "SPAM": "SUSPECTED_FRAUD",
    "DUPLICATE": "DUPLICATE_APPLICANT",
    "BLACKLIST": "COMPROMISED_PERSON",
    "COMPROMISED_PERSONS": "COMPROMISED_PERSON",
    "CRIMINAL": "COMPROMISED_PERSON",
    "ADVERSE_MEDIA": "COMPROMISED_PERSON",
    "SANCTIONS": "SANCTIONS_MATCH",
    "PEP": "SANCTIONS_MATCH",
    "AGE_REQUIREMENT_MISMATCH": "UNDERAGE",
    "WRONG_USER_REGION": "RESTRICTED_COUNTRY",
    "REGULATIONS_VIOLATIONS": "RESTRICTED_COUNTRY",
    "EXTERNAL_DECISION_REJECTION": "OTHER",  # our own reviewer's rejection, pushed to Sumsub
    "OTHER": "OTHER",
}


def answer(review_result: Any) -> tuple[str | None, str | None]:
    """(``reviewAnswer``, ``reviewRejectType``) of a ``reviewResult`` object, upper-cased; ``None`` when absent."""
    result = review_result if isinstance(review_result, Mapping) else {}
    verdict = str(result.get("reviewAnswer") or "").strip().upper() or None
    reject_type = str(result.get("reviewRejectType") or "").strip().upper() or None
    return verdict, reject_type if verdict == "RED" else None


def status_keys(status: str, verdict: str | None = None, reject_type: str | None = None) -> tuple[Hashable, ...]:
    """The :data:`STATUS_MAP` keys a review tries: ``completed`` only with its answer (a ``completed`` without one,
    or a ``RED`` of an undocumented reject type, maps to nothing and goes to review); any other status by itself,
    whatever answer it still carries (``awaitingService`` comes with ``GREEN``)."""
    if status == "completed":
        return ((status, verdict, reject_type),)
    return ((status, None, None),)


def provider_status(status: str, verdict: str | None = None, reject_type: str | None = None) -> str:
    """What we keep in ``provider_status``: the review status, then the answer and reject type once completed
    (``completed/RED/RETRY``)."""
    if status != "completed":
        return status or "(none)"
    return "/".join(part for part in (status, verdict or "(no answer)", reject_type) if part)


def reject_labels(review_result: Any) -> list[str]:
    """``rejectLabels`` as a list of distinct upper-case strings (a single string is taken as one label)."""
    result = review_result if isinstance(review_result, Mapping) else {}
    raw = result.get("rejectLabels")
    items = raw if isinstance(raw, list) else [raw] if isinstance(raw, str) else []
    labels: list[str] = []
    for item in items:
        label = str(item).strip().upper() if isinstance(item, str) else ""
        if label and label not in labels:
            labels.append(label)
    return labels


def catalogue_codes(labels: Iterable[str]) -> list[str]:
    """Sumsub's labels as codes of our reviewer catalogue (:data:`CATALOGUE_CODES`, then
    ``DJANGO_KYC["PROVIDER_REASON_MAP"]``), so reviewers and statistics read one vocabulary."""
    from django_kyc.reasons import normalise_reasons  # the catalogue's labels need Django settings

    return normalise_reasons(labels, CATALOGUE_CODES)


def document_status(review_result: Any) -> str:
    """Our status for the documents of a step with this ``reviewResult``."""
    return DOCUMENT_STATUS_MAP.get(answer(review_result), D.SUBMITTED)


def document_type(our_type: str, overrides: Mapping[str, Any] | None = None) -> str | None:
    """Sumsub's ``idDocType`` for one of our document types; ``None``: Sumsub has none for it."""
    if overrides and our_type in overrides:
        value = overrides[our_type]
        return str(value) if value else None
    return DOCUMENT_TYPES.get(our_type)
