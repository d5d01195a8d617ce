"""Webhook signature helpers shared by every backend.

All comparisons are constant-time and run over the raw request bytes. Secrets come as a list so a
provider secret can be rotated without dropping deliveries signed with the previous one.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import time
from collections.abc import Iterable, Sequence

from django_kyc.exceptions import WebhookAuthenticationError, WebhookSignatureMissing, WebhookSignatureStale

DEFAULT_TOLERANCE_SECONDS = 300


def as_secret_list(value: str | bytes | Sequence[str | bytes] | None) -> list[bytes]:
    """Accept one secret or a list of them (newest first) and return them as bytes."""
    if value is None:
        return []
    items: Iterable[str | bytes] = [value] if isinstance(value, str | bytes) else value
    return [item.encode() if isinstance(item, str) else bytes(item) for item in items if item]


def hmac_digest(secret: bytes, message: bytes, algorithm: str = "sha256") -> bytes:
    return hmac.new(secret, message, getattr(hashlib, algorithm)).digest()


def hmac_hex(secret: bytes, message: bytes, algorithm: str = "sha256") -> str:
    return hmac_digest(secret, message, algorithm).hex()


def hmac_base64(secret: bytes, message: bytes, algorithm: str = "sha256") -> str:
    return base64.b64encode(hmac_digest(secret, message, algorithm)).decode("ascii")


def constant_time_equals(expected: str | bytes, given: str | bytes) -> bool:
    left = expected.encode() if isinstance(expected, str) else expected
    right = given.encode() if isinstance(given, str) else given
    return hmac.compare_digest(left, right)


def verify_hmac(
    *,
    secrets: Sequence[bytes],
    message: bytes,
    signature: str,
    algorithm: str = "sha256",
    encoding: str = "hex",
) -> None:
    """Raise unless ``signature`` is the HMAC of ``message`` under one of ``secrets``."""
    if not signature:
        raise WebhookSignatureMissing("signature header missing")
    if not secrets:
        raise WebhookAuthenticationError("no webhook secret configured")
    encode = hmac_hex if encoding == "hex" else hmac_base64
    candidate = signature.strip()
    if encoding == "hex":
        candidate = candidate.lower()
    matched = False
    for secret in secrets:
        # evaluate every secret so timing does not reveal which one matched
        matched |= constant_time_equals(encode(secret, message, algorithm), candidate)
    if not matched:
        raise WebhookAuthenticationError("signature mismatch")


def check_timestamp(timestamp: str | int | float, tolerance: float = DEFAULT_TOLERANCE_SECONDS) -> int:
    """Parse a signed Unix timestamp and reject it when it is outside the tolerance window."""
    try:
        value = int(float(timestamp))
    except (TypeError, ValueError, OverflowError) as exc:  # "inf" and "1e400" overflow: still just bad input
        raise WebhookAuthenticationError("signature timestamp is not a number") from exc
    if abs(time.time() - value) > tolerance:
        raise WebhookSignatureStale("signature timestamp outside the tolerance window")
    return value


def parse_signature_header(header: str, separator: str = ",") -> dict[str, list[str]]:
    """Parse ``t=123,v1=abc,v1=def`` into ``{"t": ["123"], "v1": ["abc", "def"]}``."""
    parts: dict[str, list[str]] = {}
    for item in header.split(separator):
        key, sep, value = item.strip().partition("=")
        if sep:
            parts.setdefault(key.strip(), []).append(value.strip())
    return parts


# --- timestamped signature headers ----------------------------------------------------------------------
# ``t=<unix>,<key>=<hex HMAC-SHA256(secret, "<t>." + body)>``: the sandbox signs this way (key ``v1``) and
# so does Provide (key ``s``). Signing the timestamp with the body is what makes a replay window possible.


def sign_timestamped(secret: bytes, body: bytes, timestamp: int, signature_key: str = "v1") -> str:
    return f"t={timestamp},{signature_key}={hmac_hex(secret, f'{timestamp}.'.encode() + body)}"


def verify_timestamped(
    header: str,
    body: bytes,
    secrets: Sequence[bytes],
    *,
    tolerance: float = DEFAULT_TOLERANCE_SECONDS,
    signature_key: str = "v1",
    group_separator: str | None = None,
) -> int:
    """Check a :func:`sign_timestamped` header over the raw body; returns the signed timestamp.

    Several signatures under the same key are allowed (a sender mid-rotation may send one per secret). With
    ``group_separator``, the header may also hold several whole ``t=…,v1=…`` groups (Persona sends one group per
    secret during a rotation, separated by spaces): the delivery is accepted when any group verifies. Refused
    as stale only when every group is; otherwise as a mismatch.
    """
    if not header.strip():
        raise WebhookSignatureMissing("signature header missing")
    groups = header.split(group_separator) if group_separator is not None else [header]
    failures: list[WebhookAuthenticationError] = []
    for group in (item for item in groups if item.strip()):
        try:
            return _verify_group(parse_signature_header(group), body, secrets, tolerance, signature_key)
        except WebhookSignatureMissing:
            raise
        except WebhookAuthenticationError as exc:
            failures.append(exc)
    mismatch = next((exc for exc in failures if not isinstance(exc, WebhookSignatureStale)), None)
    raise mismatch or failures[0]


def _verify_group(
    parts: dict[str, list[str]], body: bytes, secrets: Sequence[bytes], tolerance: float, signature_key: str
) -> int:
    """One ``t=…,<key>=…[,<key>=…]`` group: its timestamp within ``tolerance``, and any signature matching."""
    timestamp = check_timestamp((parts.get("t") or [""])[0], tolerance)
    message = f"{timestamp}.".encode() + body
    failure: WebhookAuthenticationError | None = None
    for signature in parts.get(signature_key) or [""]:
        try:
            verify_hmac(secrets=secrets, message=message, signature=signature)
            return timestamp
        except WebhookSignatureMissing:
            raise
        except WebhookAuthenticationError as exc:
            failure = exc
    assert failure is not None
    raise failure


# --- sealed references (for providers that do not sign their webhooks) ---------------------------------


def derive_key(secret: str | bytes, purpose: str) -> bytes:
    """A 32-byte key for one purpose, derived with HKDF so one setting can serve several uses safely."""
    from cryptography.hazmat.primitives import hashes
    from cryptography.hazmat.primitives.kdf.hkdf import HKDF

    material = secret.encode() if isinstance(secret, str) else secret
    return HKDF(algorithm=hashes.SHA256(), length=32, salt=None, info=purpose.encode()).derive(material)


def seal(key: bytes, payload: dict[str, str], associated: bytes = b"") -> str:
    """Encrypt and authenticate ``payload`` (AES-256-GCM) into a URL-safe token.

    Used as the opaque ``reference`` given to providers whose callbacks are unsigned: a callback is only
    believed if its reference opens with our key, so a forged one cannot name a verification.
    """
    import json
    import os

    from cryptography.hazmat.primitives.ciphers.aead import AESGCM

    nonce = os.urandom(12)
    plaintext = json.dumps(payload, separators=(",", ":"), sort_keys=True).encode()
    token = nonce + AESGCM(key).encrypt(nonce, plaintext, associated)
    return base64.urlsafe_b64encode(token).decode("ascii").rstrip("=")


def open_sealed(keys: Sequence[bytes], token: str, associated: bytes = b"") -> dict[str, str]:
    """Open a token made by :func:`seal` with any of ``keys``; raise :class:`WebhookAuthenticationError`."""
    import binascii
    import json

    from cryptography.exceptions import InvalidTag
    from cryptography.hazmat.primitives.ciphers.aead import AESGCM

    try:
        raw = base64.urlsafe_b64decode(token + "=" * (-len(token) % 4))
    except (binascii.Error, ValueError) as exc:
        raise WebhookAuthenticationError("reference is not a sealed token") from exc
    if len(raw) < 12 + 16:
        raise WebhookAuthenticationError("reference is not a sealed token")
    for key in keys:
        try:
            plaintext = AESGCM(key).decrypt(raw[:12], raw[12:], associated)
        except InvalidTag:
            continue
        data = json.loads(plaintext)
        if isinstance(data, dict):
            return {str(k): str(v) for k, v in data.items()}
    raise WebhookAuthenticationError("reference does not open with our key")


# --- source-address allow-lists (for providers whose only control is a fixed egress IP) -----------------


def source_ip(remote_addr: str, forwarded_for: str = "", trusted_proxies: int = 0) -> str:
    """The address a delivery came from.

    ``remote_addr`` is the only address nobody can forge, so it is the answer unless the site says it runs
    behind ``trusted_proxies`` reverse proxies. Each proxy appends the address it received the request from
    to ``X-Forwarded-For``, so with N trusted proxies the sender is the N-th entry from the right; entries
    further left were written by the sender itself and prove nothing. Too few entries: ``""`` (refused).
    """
    if trusted_proxies <= 0:
        return remote_addr.strip()
    hops = [hop.strip() for hop in forwarded_for.split(",") if hop.strip()]
    if len(hops) < trusted_proxies:
        return ""
    return hops[-trusted_proxies]


def check_source_ip(address: str, allowed: Iterable[str]) -> None:
    """Raise :class:`WebhookAuthenticationError` unless ``address`` is in one of the ``allowed`` addresses
    or networks (``"52.78.194.237"``, ``"10.0.0.0/8"``, IPv6 alike)."""
    import ipaddress

    try:
        ip = ipaddress.ip_address(address.strip())
    except ValueError as exc:
        raise WebhookAuthenticationError("delivery source address unknown") from exc
    for entry in allowed:
        try:
            if ip in ipaddress.ip_network(str(entry).strip(), strict=False):
                return
        except ValueError:
            continue  # a malformed entry allows nothing (system checks are the place to report it)
    raise WebhookAuthenticationError(f"delivery from {ip} is not from an allowed address")
