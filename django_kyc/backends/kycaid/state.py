"""KYCAID's verification answers and callback bodies as our :class:`ProviderState`.

One reader for the three shapes that carry a verification: ``GET /verifications/{id}`` (with the applicant from
``GET /applicants/{id}``), ``VERIFICATION_COMPLETED`` (applicant inline) and ``VERIFICATION_STATUS_CHANGED``
(``verification_status``, no verdict). No HTTP and no database: the backend fetches, this reads.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any

from django_kyc.backends.base import DocumentResult, ProviderState
from django_kyc.backends.kycaid.statuses import (
    OUR_DOCUMENT_TYPES,
    DeclinePolicy,
    catalogue_codes,
    provider_status,
    reason_codes,
)
from django_kyc.backends.parsing import iso_date, mapping, text

MapStatus = Callable[[str, bool | None], str]


def verification_state(
    payload: Mapping[str, Any],
    *,
    map_status: MapStatus,
    policy: DeclinePolicy,
    status_key: str = "status",
    attempts_left: Any = None,
    applicant: Mapping[str, Any] | None = None,
) -> ProviderState:
    """Normalise a verification into a :class:`ProviderState`.

    The reasons are KYCAID's codes from the failed checks, the applicant and the invalid documents, merged in
    that order; ``data["kycaid"]["reason_codes"]`` holds the same as codes of our reviewer catalogue.
    Per-check results, the applicant's ``profile_status`` and each document's status and reasons are kept in
    ``data["kycaid"]``; person data goes to ``applicant_data`` (fills blanks only), never into ``data``.
    """
    status = text(payload.get(status_key)).strip().lower()
    verified_raw = payload.get("verified")
    verified = verified_raw if isinstance(verified_raw, bool) else None
    checks, reasons = _checks(payload.get("verifications"))
    person = mapping(applicant if applicant is not None else payload.get("applicant"))
    _extend(reasons, reason_codes(person.get("decline_reasons"), person.get("decline_reasons_ids")))
    raw_documents = person.get("documents")
    rows = [d for d in raw_documents if isinstance(d, Mapping)] if isinstance(raw_documents, list) else []
    for doc in rows:
        if text(doc.get("status")).lower() == "invalid":
            _extend(reasons, _reasons(doc))

    normalised = policy.apply(map_status(status, verified), reasons, attempts_left)
    data: dict[str, Any] = {
        "kycaid": {
            "verification_id": text(payload.get("verification_id")),
            "applicant_id": text(payload.get("applicant_id") or person.get("applicant_id")),
            "form_id": text(payload.get("form_id")),
            "status": status,
            "verified": verified,
            "verifications": checks,
            "profile_status": text(person.get("profile_status")),
            "documents": [
                {
                    "document_id": text(doc.get("document_id")),
                    "type": text(doc.get("type")),
                    "status": text(doc.get("status")),
                    "decline_reasons": _reasons(doc),
                }
                for doc in rows
            ],
            "reason_codes": catalogue_codes(reasons),
        }
    }
    if attempts_left is not None or "verification_attempts_left" in payload:
        data["kycaid_attempts_left"] = attempts_left
    return ProviderState(
        status=normalised,
        provider_status=provider_status(status or "missing", verified),
        reasons=tuple(reasons),
        occurred_at=None,  # KYCAID sends no event time; the transition service's rank rule orders events
        documents=[document_result(doc, policy, normalised) for doc in rows if doc.get("document_id")],
        data=data,
        applicant_data=applicant_data(person),
    )


def document_result(doc: Mapping[str, Any], policy: DeclinePolicy, verification_status: str = "") -> DocumentResult:
    """One KYCAID document as our document status, with its reasons (codes merged from both fields) and, for a
    document we did not send (the hosted form), the fields to create ours from."""
    reasons = _reasons(doc)
    fields: dict[str, Any] = {
        "type": OUR_DOCUMENT_TYPES.get(text(doc.get("type")).upper(), "other"),
        "number": text(doc.get("document_number"))[:64],
        "issue_date": iso_date(doc.get("issue_date")),
        "expiry_date": iso_date(doc.get("expiry_date")),
    }
    return DocumentResult(
        status=policy.document_status(text(doc.get("status")).lower(), reasons, verification_status),
        provider_document_id=text(doc.get("document_id")),
        reasons=tuple(reasons),
        fields={k: v for k, v in fields.items() if v},
    )


def applicant_data(applicant: Mapping[str, Any]) -> dict[str, Any]:
    """Person data KYCAID established (the form asks for it), for blank applicant fields."""
    data = {
        "first_name": text(applicant.get("first_name")),
        "middle_name": text(applicant.get("middle_name")),
        "last_name": text(applicant.get("last_name")),
        "date_of_birth": iso_date(applicant.get("dob")),
        "nationality": text(applicant.get("nationality")).upper()[:2],
        "country": text(applicant.get("residence_country")).upper()[:2],
    }
    return {key: value for key, value in data.items() if value}


def _checks(raw: Any) -> tuple[dict[str, Any], list[str]]:
    """Per-check results (``verifications.<check>``), and the reasons of the checks that failed."""
    checks: dict[str, Any] = {}
    reasons: list[str] = []
    for name, check in mapping(raw).items():
        if not isinstance(check, Mapping):
            continue
        check_reasons = _reasons(check)
        verdict = check.get("verified")
        checks[str(name)] = {
            "verified": verdict if isinstance(verdict, bool) else None,
            "comment": text(check.get("comment"))[:1000],
            "decline_reasons": check_reasons,
        }
        if verdict is False:
            _extend(reasons, check_reasons)
    return checks, reasons


def _reasons(item: Mapping[str, Any]) -> list[str]:
    return reason_codes(item.get("decline_reasons"), item.get("decline_reasons_ids"))


def _extend(reasons: list[str], more: list[str]) -> None:
    reasons.extend(reason for reason in more if reason not in reasons)
