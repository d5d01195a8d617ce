"""An inquiry as our state, and a session token and one-time link as a client token. Pure: the inquiry comes in
as Persona answered it (``GET /inquiries/{id}``, a JSON:API document with ``data`` and ``included``).

Kept for reviewers (``provider_data["persona"]``): the inquiry's id, status, template and timestamps, whether
and when it was redacted, and each included verification's type, status and failed checks. Never kept: the
``fields`` and the ``name-*`` / ``birthdate`` / ``address-*`` attributes (personal data that stays at
Persona), the session token (a key to the person's inquiry) and the one-time link.
"""

from __future__ import annotations

import base64
import binascii
import json
from collections.abc import Callable, Mapping
from datetime import datetime, timedelta
from datetime import timezone as dt_timezone
from typing import Any

from django_kyc.backends.parsing import iso_datetime, mapping, text
from django_kyc.backends.persona.statuses import provider_status
from django_kyc.backends.values import ClientToken, ProviderState

#: The inquiry's timestamps worth a reviewer's eye (no personal data).
TIMESTAMPS = (
    "created-at",
    "started-at",
    "completed-at",
    "failed-at",
    "expired-at",
    "decisioned-at",
    "marked-for-review-at",
    "redacted-at",
)
#: At most this many failed checks are kept per verification.
CHECK_LIMIT = 20


def inquiry_state(
    document: Mapping[str, Any], map_status: Callable[[str], str], occurred_at: datetime | None = None
) -> ProviderState:
    """The inquiry's status as ours; the failed checks of its included verifications are the reasons."""
    inquiry = mapping(document.get("data"))
    attributes = mapping(inquiry.get("attributes"))
    raw = text(attributes.get("status"))
    redacted = attributes.get("redacted-at") is not None
    verifications = included_verifications(document)
    reasons = tuple(dict.fromkeys(name for item in verifications for name in item["failed_checks"]))
    template = mapping(mapping(mapping(inquiry.get("relationships")).get("inquiry-template")).get("data"))
    data = {
        "persona": {
            "inquiry_id": text(inquiry.get("id")),
            "status": raw,
            "template": text(template.get("id")) or None,
            "redacted": redacted,
            **{name.replace("-", "_"): text(attributes.get(name)) or None for name in TIMESTAMPS},
            "verifications": verifications,
        }
    }
    return ProviderState(
        status=map_status(raw),
        provider_status=provider_status(raw, redacted),
        reasons=reasons,
        occurred_at=occurred_at,
        data=data,
    )


def included_verifications(document: Mapping[str, Any]) -> list[dict[str, Any]]:
    """Each ``verification/…`` resource in ``included``: its id, type, status and the names of its failed
    checks (``attributes.checks[].status == "failed"``)."""
    found = []
    for item in document.get("included") or []:
        if not isinstance(item, Mapping) or not text(item.get("type")).startswith("verification"):
            continue
        attributes = mapping(item.get("attributes"))
        checks = attributes.get("checks")
        failed = [
            text(check.get("name"))[:64]
            for check in (checks if isinstance(checks, list) else [])
            if isinstance(check, Mapping) and text(check.get("status")) == "failed" and text(check.get("name"))
        ]
        found.append(
            {
                "id": text(item.get("id")),
                "type": text(item.get("type")),
                "status": text(attributes.get("status")),
                "failed_checks": failed[:CHECK_LIMIT],
            }
        )
    return found


def inquiry_status(document: Mapping[str, Any]) -> str:
    return text(mapping(mapping(document.get("data")).get("attributes")).get("status"))


def created_at(inquiry: Mapping[str, Any]) -> datetime | None:
    return iso_datetime(mapping(inquiry.get("attributes")).get("created-at"))


def token_expiry(token: str) -> datetime | None:
    """The ``exp`` of a session token (a JWT), read without checking its signature (it is Persona's to check):
    only to report how long it is good for. ``None`` when it is not a JWT with a numeric ``exp``."""
    parts = token.split(".")
    if len(parts) != 3:
        return None
    try:
        claims = json.loads(base64.urlsafe_b64decode(parts[1] + "=" * (-len(parts[1]) % 4)))
        exp = claims.get("exp") if isinstance(claims, dict) else None
        if isinstance(exp, bool) or not isinstance(exp, int | float):
            return None
        return datetime.fromtimestamp(exp, tz=dt_timezone.utc)
    except (binascii.Error, ValueError, UnicodeDecodeError, OverflowError, OSError):
        return None


def client_token(
    session_token: str, link: str, requested_at: datetime, *, session_ttl: int, link_ttl: int
) -> ClientToken:
    """The session token and one-time link, expiring when the first of them does: the token's own ``exp``
    (else ``session_ttl`` after ``requested_at``), the link ``link_ttl`` after ``requested_at`` (measured from
    before the calls: never promised longer than Persona honours them)."""
    if not (session_token or link):
        return ClientToken()
    expiries = []
    if session_token:
        expiries.append(token_expiry(session_token) or requested_at + timedelta(seconds=session_ttl))
    if link:
        expiries.append(requested_at + timedelta(seconds=link_ttl))
    return ClientToken(token=session_token, link=link, expires_at=min(expiries))
