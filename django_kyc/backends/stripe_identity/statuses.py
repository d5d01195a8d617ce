"""Stripe Identity's VerificationSession statuses and ``last_error.code`` values in our vocabulary.

Pure tables and helpers, no HTTP: the sources and the choices made where Stripe leaves the meaning to us are in
``docs/providers/stripe_identity.md`` ("Statuses").

A session has four statuses. ``requires_input`` alone says little: it is the status of a fresh session, of one
whose person gave up, and of one whose checks failed and which Stripe lets the person try again. Which of these
it is lies in ``last_error.code``, so the map's keys for ``requires_input`` are ``(status, code)`` pairs; a code
not listed here goes to a person (the backend's ``UNKNOWN_STATUS``) with the raw code kept.
"""

from __future__ import annotations

from collections.abc import Hashable, Iterable, Mapping
from typing import Any

from django_kyc.status import VerificationStatus

V = VerificationStatus

REQUIRES_INPUT = "requires_input"

#: ``last_error.code`` (with ``requires_input``) → ours. Stripe's own lifecycle lets the person retry the same
#: session after any failed check (``resubmission_requested``); three codes are a refusal no retry can fix
#: (a local policy, made overridable with ``OPTIONS["ERROR_CODE_STATUSES"]``), and ``abandoned`` means the
#: person left without submitting.
ERROR_CODE_STATUSES: Mapping[str, str] = {
    "abandoned": V.EXPIRED,
    "consent_declined": V.DECLINED,
    "under_supported_age": V.DECLINED,
    "country_not_supported": V.DECLINED,
    "device_not_supported": V.RESUBMISSION_REQUESTED,
    "document_expired": V.RESUBMISSION_REQUESTED,
    "document_type_not_supported": V.RESUBMISSION_REQUESTED,
    "document_unverified_other": V.RESUBMISSION_REQUESTED,
    "email_unverified_other": V.RESUBMISSION_REQUESTED,
    "email_verification_declined": V.RESUBMISSION_REQUESTED,
    "id_number_insufficient_document_data": V.RESUBMISSION_REQUESTED,
    "id_number_mismatch": V.RESUBMISSION_REQUESTED,
    "id_number_unverified_other": V.RESUBMISSION_REQUESTED,
    "phone_unverified_other": V.RESUBMISSION_REQUESTED,
    "phone_verification_declined": V.RESUBMISSION_REQUESTED,
    "selfie_document_missing_photo": V.RESUBMISSION_REQUESTED,
    "selfie_face_mismatch": V.RESUBMISSION_REQUESTED,
    "selfie_manipulated": V.RESUBMISSION_REQUESTED,
    "selfie_unverified_other": V.RESUBMISSION_REQUESTED,
}


#: The plain statuses, a fresh ``requires_input`` (no error yet: the person has something to do) and one
#: ``(requires_input, code)`` key per error code.
STATUS_MAP: Mapping[Hashable, str] = {
    (REQUIRES_INPUT, ""): V.AWAITING_USER,
    "processing": V.PROCESSING,
    "verified": V.APPROVED,
    "canceled": V.CANCELLED,
    **{(REQUIRES_INPUT, code): status for code, status in ERROR_CODE_STATUSES.items()},
}


def status_keys(raw: str, error_code: str = "") -> tuple[Hashable, ...]:
    """The map key of a status: ``(requires_input, code)`` for ``requires_input`` (``""`` without an error),
    the status itself otherwise. An unknown code never falls back to the bare status: it goes to review."""
    if raw == REQUIRES_INPUT:
        return ((raw, error_code),)
    return (raw,)


def provider_status(raw: str, error_code: str = "") -> str:
    """What we keep as ``provider_status``: the status, and the error code with it (``requires_input:abandoned``)."""
    return f"{raw}:{error_code}" if raw == REQUIRES_INPUT and error_code else raw or "(empty)"


#: ``last_error.code`` → codes of our reviewer catalogue (``django_kyc.reasons``). Codes Stripe names
#: "…_other" carry no more detail than "a check failed", so they map to ``OTHER`` unless the check says more.
CATALOGUE_CODES: Mapping[str, str] = {
    "abandoned": "OTHER",
    "consent_declined": "OTHER",
    "country_not_supported": "RESTRICTED_COUNTRY",
    "device_not_supported": "OTHER",
    "document_expired": "DOCUMENT_EXPIRED",
    "document_type_not_supported": "DOCUMENT_UNSUPPORTED",
    "document_unverified_other": "OTHER",
    "email_unverified_other": "OTHER",
    "email_verification_declined": "OTHER",
    "id_number_insufficient_document_data": "DATA_MISMATCH",
    "id_number_mismatch": "DATA_MISMATCH",
    "id_number_unverified_other": "DATA_MISMATCH",
    "phone_unverified_other": "OTHER",
    "phone_verification_declined": "OTHER",
    "selfie_document_missing_photo": "DOCUMENT_INCOMPLETE",
    "selfie_face_mismatch": "SELFIE_MISMATCH",
    "selfie_manipulated": "SUSPECTED_FRAUD",
    "selfie_unverified_other": "OTHER",
    "under_supported_age": "UNDERAGE",
}


def catalogue_codes(error_codes: Iterable[str]) -> list[str]:
    """Stripe's error codes as codes of our reviewer catalogue (:data:`CATALOGUE_CODES`, then
    ``DJANGO_KYC["PROVIDER_REASON_MAP"]``)."""
    from django_kyc.reasons import normalise_reasons  # the catalogue's labels need Django settings

    return normalise_reasons([code.upper() for code in error_codes], {k.upper(): v for k, v in CATALOGUE_CODES.items()})


#: The webhook event types that announce a change of a VerificationSession.
EVENT_PREFIX = "identity.verification_session."
EVENT_TYPES = frozenset(
    EVENT_PREFIX + name for name in ("created", "processing", "requires_input", "verified", "canceled", "redacted")
)

#: ``document.type`` of a verification report → our document types.
DOCUMENT_TYPES: Mapping[str, str] = {"passport": "passport", "id_card": "id_card", "driving_license": "driving_licence"}
#: The checks a verification report may hold, each with ``status`` (``verified`` / ``unverified``) and ``error``.
REPORT_CHECKS = ("document", "selfie", "id_number", "email", "phone")

#: ``metadata`` keys carrying our references (Stripe shows them in the Dashboard; they hold no personal data).
META_VERIFICATION = "django_kyc_verification"
META_APPLICANT = "django_kyc_applicant"

#: The statuses in which Stripe redacts a session (an unfinished one is cancelled by the redaction).
REDACTABLE = frozenset({REQUIRES_INPUT, "verified"})
#: ``redaction.status`` values meaning the redaction is under way or done: nothing more to ask for.
REDACTION_DONE = frozenset({"processing", "redacted", "validated"})


def error_code_of(session: Mapping[str, Any]) -> str:
    """``last_error.code``, ``""`` when there is none."""
    error = session.get("last_error")
    code = error.get("code") if isinstance(error, Mapping) else None
    return code if isinstance(code, str) else ""
