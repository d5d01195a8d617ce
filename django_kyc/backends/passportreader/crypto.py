"""Sealed references: how an unsigned PassportReader callback can still be told apart from a forgery.

PassportReader signs nothing it sends, but it hands back the ``reference`` we gave ``session.create``. We
make that reference our verification id sealed with AES-256-GCM (:func:`~django_kyc.backends.signing.seal`),
so only we can produce one that opens. The hand-off token kept in ``provider_data`` (which admin shows) is
sealed the same way, bound to its own use by associated data so it can never pass as a reference.

The keys are derived with HKDF from ``OPTIONS["REFERENCE_KEYS"]`` (default: ``SECRET_KEY`` and its fallbacks),
newest first: new values are sealed with the first, all are tried when opening, so keys rotate without
rejecting callbacks of sessions still open. ``docs/providers/passportreader.md`` describes the rotation.
"""

from __future__ import annotations

from collections.abc import Sequence

from django.conf import settings

from django_kyc.backends.signing import as_secret_list, derive_key, open_sealed, seal
from django_kyc.exceptions import WebhookAuthenticationError

#: HKDF ``info`` for the reference keys: a secret shared with other uses yields an unrelated AES key here.
REFERENCE_PURPOSE = "django_kyc.passportreader.reference"
#: Associated data binding a sealed hand-off token to its use, so it can never pass as a reference.
TOKEN_ASSOCIATED = b"django_kyc.passportreader.session-token"


def reference_keys(configured: Sequence[bytes]) -> list[bytes]:
    """AES-256 keys, newest first: from ``configured`` secrets, else from ``SECRET_KEY`` and its fallbacks."""
    secrets = list(configured)
    if not secrets:
        secrets = as_secret_list([settings.SECRET_KEY, *getattr(settings, "SECRET_KEY_FALLBACKS", [])])
    return [derive_key(secret, REFERENCE_PURPOSE) for secret in secrets]


def seal_reference(keys: Sequence[bytes], verification_id: str) -> str:
    return seal(keys[0], {"v": str(verification_id)})


def open_reference(keys: Sequence[bytes], reference: str) -> str:
    """Our verification id from a sealed reference; :class:`WebhookAuthenticationError` if it is not ours."""
    verification_id = open_sealed(keys, reference).get("v", "")
    if not verification_id:
        raise WebhookAuthenticationError("reference names no verification")
    return verification_id


def seal_token(keys: Sequence[bytes], token: str) -> str:
    return seal(keys[0], {"t": token}, TOKEN_ASSOCIATED)


def open_token(keys: Sequence[bytes], sealed: str) -> str:
    """The hand-off token, or ``""`` when it was sealed with a key since retired (a new session will do)."""
    try:
        return open_sealed(keys, sealed, TOKEN_ASSOCIATED).get("t", "")
    except WebhookAuthenticationError:
        return ""
