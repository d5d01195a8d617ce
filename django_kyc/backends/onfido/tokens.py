"""When an Onfido SDK token expires.

Onfido's specification gives SDK tokens no lifetime. The tokens are JWTs, and a JWT states its own expiry
(``exp``, seconds since the epoch), so that is what the client token's expiry is; a token that does not
decode as one falls back to ``OPTIONS["SDK_TOKEN_TTL"]`` counted from before the request. The claim is read, not
verified: the token is Onfido's to check, we only need to know when to ask for a new one.
"""

from __future__ import annotations

import base64
import binascii
import json
from datetime import datetime, timedelta
from datetime import timezone as dt_timezone

from django.utils import timezone


def jwt_expiry(token: str) -> datetime | None:
    """The ``exp`` claim of a JWT, or ``None`` when ``token`` is not one or states none."""
    parts = token.split(".")
    if len(parts) != 3:
        return None
    try:
        claims = json.loads(base64.urlsafe_b64decode(parts[1] + "=" * (-len(parts[1]) % 4)))
    except (binascii.Error, ValueError):
        return None
    exp = claims.get("exp") if isinstance(claims, dict) else None
    if isinstance(exp, bool) or not isinstance(exp, int | float):
        return None
    try:
        return datetime.fromtimestamp(exp, tz=dt_timezone.utc)
    except (OverflowError, OSError, ValueError):
        return None


def token_expiry(token: str, fallback_seconds: float, requested: datetime | None = None) -> datetime:
    """The token's own expiry, else ``fallback_seconds`` after ``requested`` (default: now)."""
    return jwt_expiry(token) or (requested or timezone.now()) + timedelta(seconds=fallback_seconds)
