"""The sandbox provider's webhooks built by hand, the way the sandbox documents them (body and signature)."""

from __future__ import annotations

import hashlib
import hmac
import json
import time
import uuid
from collections.abc import Mapping, Sequence
from datetime import datetime
from typing import Any

from django_kyc.models import Verification

SANDBOX_SECRET = "sandbox-test-secret"
SANDBOX_OLD_SECRET = "sandbox-old-secret"


def sandbox_event(
    verification: Verification | None,
    status: str,
    occurred_at: datetime,
    *,
    event_id: str | None = None,
    reference: str | None = None,
    provider_ref: str = "",
    documents: Sequence[Mapping[str, Any]] = (),
    reasons: Sequence[str] = (),
) -> bytes:
    """A sandbox provider event body, built by hand the way the provider documents it."""
    payload = {
        "event_id": event_id or f"evt_{uuid.uuid4().hex}",
        "type": "verification.updated",
        "verification_id": provider_ref or (verification.provider_verification_id if verification else ""),
        "reference": reference if reference is not None else str(verification.pk if verification else ""),
        "status": status,
        "reasons": list(reasons),
        "documents": [dict(doc) for doc in documents],
        "occurred_at": occurred_at.isoformat(),
    }
    return json.dumps(payload).encode()


def sandbox_signature(body: bytes, secret: str = SANDBOX_SECRET, timestamp: int | None = None) -> str:
    """The sandbox's documented recipe: ``t=<unix>,v1=<hex HMAC-SHA256(secret, "<t>." + body)>``."""
    stamp = int(time.time()) if timestamp is None else timestamp
    mac = hmac.new(secret.encode(), f"{stamp}.".encode() + body, hashlib.sha256).hexdigest()
    return f"t={stamp},v1={mac}"
