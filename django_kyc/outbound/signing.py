"""Standard Webhooks signatures: signing our deliveries, and :func:`verify` for the services that receive them.

Signing uses the ``standardwebhooks`` package: ``v1,<base64 HMAC-SHA256 of "id.timestamp.body">`` under a
``whsec_<base64>`` secret, one signature per secret in use, space-separated (a rotation signs with the new and
the old secret until the old one expires, so receivers can switch at their own pace).

:func:`verify` is for receivers, in Python, that would rather not depend on that package; it also covers what the
package's ``Webhook.verify`` leaves out: several secrets at once (the receiver's side of a rotation), a tolerance
the receiver chooses (the package fixes five minutes), a timestamp that must be an integer number of seconds (the
package accepts ``"1e9"`` and fractions), signatures of other versions (``v1a,...``) skipped rather than
compared, a bounded number of signatures, and a clock that tests can set. Usage in a receiving view::

    from django_kyc.outbound import verify, WebhookVerificationError

    try:
        event = verify(request.body, request.headers, secrets=["whsec_..."])
    except WebhookVerificationError:
        return HttpResponse(status=400)
    # event["type"], event["data"]; request.headers["webhook-id"] identifies a repeat
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import hmac
import json
import re
import secrets as _secrets
import time
from collections.abc import Iterable, Mapping
from datetime import datetime, timezone
from typing import Any

from standardwebhooks.webhooks import Webhook

SECRET_PREFIX = "whsec_"  # noqa: S105 - the prefix, not a secret
#: Five minutes either way, as the specification suggests.
DEFAULT_TOLERANCE_SECONDS = 300
#: More signatures than this in one header is not a rotation but an attempt to make us compute many HMACs.
MAX_SIGNATURES = 10
_TIMESTAMP = re.compile(r"[0-9]{1,12}")


class WebhookVerificationError(Exception):
    """The delivery is not authentic, or not fresh: answer 4xx and do not act on it."""


def generate_secret() -> str:
    """A new ``whsec_`` secret: 32 random bytes, base64 (the specification asks for 24 to 64)."""
    return SECRET_PREFIX + base64.b64encode(_secrets.token_bytes(32)).decode("ascii")


def secret_key(secret: str) -> bytes:
    """The HMAC key of a ``whsec_`` secret; ``ValueError`` if it is not one."""
    body = secret.removeprefix(SECRET_PREFIX)
    try:
        key = base64.b64decode(body, validate=True)
    except (binascii.Error, ValueError):
        raise ValueError("a signing secret is whsec_ followed by base64") from None
    if len(key) < 24 or len(key) > 64:
        raise ValueError("a signing secret's key is 24 to 64 bytes")
    return key


def sign(message_id: str, timestamp: int, body: bytes, secrets: Iterable[str]) -> str:
    """The ``webhook-signature`` header: one ``v1,`` signature per secret, space-separated."""
    moment = datetime.fromtimestamp(timestamp, tz=timezone.utc)
    signatures = [Webhook(secret_key(secret)).sign(message_id, moment, body) for secret in secrets]
    if not signatures:
        raise ValueError("no signing secret")
    return " ".join(signatures)


def signature_headers(message_id: str, timestamp: int, body: bytes, secrets: Iterable[str]) -> dict[str, str]:
    return {
        "webhook-id": message_id,
        "webhook-timestamp": str(timestamp),
        "webhook-signature": sign(message_id, timestamp, body, secrets),
    }


def verify(
    body: bytes,
    headers: Mapping[str, str],
    *,
    secrets: Iterable[str],
    tolerance: float = DEFAULT_TOLERANCE_SECONDS,
    now: float | None = None,
    parse: bool = True,
) -> Any:
    """Check a delivery's signature and timestamp; return its parsed JSON (``None`` with ``parse=False``).

    ``body`` is the raw request body, exactly as received. ``secrets`` are every secret the receiver currently
    accepts (during a rotation: the new and the old); any one of the header's ``v1`` signatures made with any of
    them passes. Raises :class:`WebhookVerificationError` otherwise.
    """
    lowered = {str(name).lower(): value for name, value in headers.items()}
    message_id = lowered.get("webhook-id", "")
    stamp = lowered.get("webhook-timestamp", "")
    header = lowered.get("webhook-signature", "")
    if not (message_id and stamp and header):
        raise WebhookVerificationError("missing webhook-id, webhook-timestamp or webhook-signature")
    if not _TIMESTAMP.fullmatch(stamp):
        raise WebhookVerificationError("webhook-timestamp is not whole seconds")
    current = time.time() if now is None else now
    if abs(current - int(stamp)) > tolerance:
        raise WebhookVerificationError("webhook-timestamp is outside the tolerance")
    offered = []
    for part in header.split(" ")[:MAX_SIGNATURES]:
        version, _, value = part.partition(",")
        if version == "v1" and value:
            try:
                offered.append(base64.b64decode(value, validate=True))
            except (binascii.Error, ValueError):
                continue
    if not offered:
        raise WebhookVerificationError("no v1 signature")
    signed = f"{message_id}.{stamp}.".encode() + bytes(body)
    keys = [secret_key(secret) for secret in secrets]
    if not keys:
        raise ValueError("verify() needs at least one secret")
    for key in keys:
        expected = hmac.new(key, signed, hashlib.sha256).digest()
        if any(hmac.compare_digest(expected, candidate) for candidate in offered):
            return json.loads(body) if parse else None
    raise WebhookVerificationError("no signature matches")
