"""A VerificationSession as our state and as a client token. Pure: the session comes in as Stripe answered it
(``GET /v1/identity/verification_sessions/{id}`` or an event's ``data.object``).

Kept for reviewers (``provider_data["stripe_identity"]``): the status, ``last_error`` (code and Stripe's
reason), the id of the last verification report and each of its checks' results, the type, ``livemode`` and the
redaction status. Never kept:
``client_secret`` (Stripe: do not store or log it), ``url`` (a single-use link), ``verified_outputs`` and
``provided_details`` (personal data that stays at Stripe).
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from datetime import date, datetime, timedelta
from datetime import timezone as dt_timezone
from typing import Any

from django_kyc.backends.parsing import mapping, text
from django_kyc.backends.stripe_identity.statuses import (
    DOCUMENT_TYPES,
    REPORT_CHECKS,
    REQUIRES_INPUT,
    catalogue_codes,
    error_code_of,
    provider_status,
)
from django_kyc.backends.values import ClientToken, DocumentResult, ProviderState
from django_kyc.status import DocumentStatus

#: Stripe's ``last_error.reason`` is free text meant for people; kept to this many characters.
REASON_LIMIT = 500


def unix_time(value: Any) -> datetime | None:
    """Stripe's timestamps are Unix seconds; anything else is ``None``."""
    if isinstance(value, bool) or not isinstance(value, int | float):
        return None
    try:
        return datetime.fromtimestamp(value, tz=dt_timezone.utc)
    except (OverflowError, OSError, ValueError):
        return None


def session_state(
    session: Mapping[str, Any],
    map_status: Callable[[str, str], str],
    occurred_at: datetime | None = None,
    report: Mapping[str, Any] | None = None,
) -> ProviderState:
    """The session's status (with its ``last_error.code``) as ours; the code is the reason, Stripe's sentence
    for it is kept beside it for reviewers. With the session's verification ``report``: each check's result,
    and the document Stripe read (:func:`document_result`)."""
    raw = text(session.get("status"))
    code = error_code_of(session)
    error = mapping(session.get("last_error"))
    redaction = mapping(session.get("redaction"))
    reasons = (code,) if code else ()
    data = {
        "stripe_identity": {
            "session_id": text(session.get("id")),
            "status": raw,
            "last_error": {"code": code, "reason": text(error.get("reason"))[:REASON_LIMIT]} if code else None,
            "reason_codes": catalogue_codes(reasons),
            "last_verification_report": _id_of(session.get("last_verification_report")),
            "type": text(session.get("type")),
            "livemode": session.get("livemode") if isinstance(session.get("livemode"), bool) else None,
            "redaction": text(redaction.get("status")) or None,
        }
    }
    document = None
    if report is not None:
        data["stripe_identity"]["checks"] = report_checks(report)
        document = document_result(report)
    return ProviderState(
        status=map_status(raw, code),
        provider_status=provider_status(raw, code),
        reasons=reasons,
        occurred_at=occurred_at,
        documents=(document,) if document else (),
        data=data,
    )


def report_checks(report: Mapping[str, Any]) -> dict[str, dict[str, str]]:
    """Each check the report holds: its status and error code (no personal data)."""
    checks = {}
    for name in REPORT_CHECKS:
        check = report.get(name)
        if isinstance(check, Mapping):
            checks[name] = {"status": text(check.get("status")), "error": text(mapping(check.get("error")).get("code"))}
    return checks


def document_result(report: Mapping[str, Any]) -> DocumentResult | None:
    """The document Stripe read, as a document of ours: accepted when its check passed, rejected with the
    check's error code otherwise. Only its type, issuing country and dates are taken, not its number or the
    names and birth date on it (they stay at Stripe). ``None`` when Stripe read no document."""
    document = mapping(report.get("document"))
    kind = text(document.get("type"))
    if not kind:
        return None
    status = text(document.get("status"))
    error = text(mapping(document.get("error")).get("code"))
    return DocumentResult(
        status=DocumentStatus.ACCEPTED if status == "verified" else DocumentStatus.REJECTED,
        provider_document_id=f"stripe-{text(report.get('id'))}",
        reasons=(error,) if error else (),
        fields={
            "type": DOCUMENT_TYPES.get(kind, "other"),
            "issuing_country": text(document.get("issuing_country")).upper()[:2],
            "issue_date": stripe_date(document.get("issued_date")),
            "expiry_date": stripe_date(document.get("expiration_date")),
        },
    )


def stripe_date(value: Any) -> date | None:
    """Stripe's ``{"day", "month", "year"}``; ``None`` when incomplete or impossible."""
    parts = mapping(value)
    try:
        return date(int(parts["year"]), int(parts["month"]), int(parts["day"]))
    except (KeyError, TypeError, ValueError):
        return None


def client_token(
    session: Mapping[str, Any], requested_at: datetime, ttl_seconds: int, *, with_secret: bool = True
) -> ClientToken:
    """The SDK secret (unless ``with_secret`` is off) and hosted link of a session the person can still act on
    (``requires_input``), expiring ``ttl_seconds`` after ``requested_at`` (measured from before the call: never
    promised longer than Stripe honours it). Any other status: an empty token (nothing left for the person)."""
    secret, link = text(session.get("client_secret")) if with_secret else "", text(session.get("url"))
    if text(session.get("status")) != REQUIRES_INPUT or not (secret or link):
        return ClientToken()
    return ClientToken(token=secret, link=link, expires_at=requested_at + timedelta(seconds=ttl_seconds))


def _id_of(value: Any) -> str | None:
    """An expandable field: the id, or the expanded object's id."""
    if isinstance(value, str):
        return value or None
    if isinstance(value, Mapping):
        return text(value.get("id")) or None
    return None
