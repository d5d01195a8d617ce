"""What the fake takes from Allpass's documentation: the event names, the request limits, the ``time`` format
and the application's encryption (see ``docs/providers/allpass.md``).

The encryption here is written independently of the backend's decryption (it uses the ``cryptography``
primitives the other way round), so the two check each other, and the pinned vectors in the tests check both.
"""

from __future__ import annotations

import hashlib
import hmac
import os
import re
from datetime import datetime, timedelta, timezone

#: Applicant statuses and the webhook event announcing each.
EVENTS = {
    "INIT": "applicantCreated",
    "INCOMPLETE": "applicantIncomplete",
    "IN_PROGRESS": "applicantInProgress",
    "COMPLETED": "applicantCompleted",
    "IN_REVIEW": "applicantInReview",
    "ON_HOLD": "applicantOnHold",
    "APPROVED": "applicantApproved",
    "REJECTED": "applicantRejected",
}
#: A status Allpass does not send (for the unknown-status fallback); its event is ``applicantFrozen``.
UNKNOWN_STATUS = "FROZEN"
#: The chains the fake accepts (Allpass's ``BlockchainEnum`` lists none; the backend's default list).
BLOCKCHAINS = ("BTC", "ETH", "LTC", "BCH", "DOGE", "TRX", "BSC", "POLYGON", "SOL", "TON", "XRP", "ADA")
TX_HASH = re.compile(r"^(0x)?[a-fA-F0-9]{64}$")
MAX_TTL = 3_153_600_000
DEFAULT_CRYPTO_KEY = "6b" * 32
DELETION_GRACE = timedelta(days=30)


def iso(moment: datetime) -> str:
    """Allpass's ``time``: ISO-8601 UTC with milliseconds, e.g. ``2021-08-20T14:52:33.648Z``."""
    return moment.astimezone(timezone.utc).strftime("%Y-%m-%dT%H:%M:%S.") + f"{moment.microsecond // 1000:03d}Z"


def now() -> datetime:
    return datetime.now(timezone.utc)


def encrypt_cbc(key_hex: str, hmac_key: str, plaintext: bytes, iv: bytes | None = None) -> tuple[str, str]:
    """(data, x-allpass-signature): hex IV + hex AES-256-CBC/PKCS#7 ciphertext, hex HMAC-SHA256 of ``data``."""
    from cryptography.hazmat.primitives import padding
    from cryptography.hazmat.primitives.ciphers import Cipher, algorithms, modes

    iv = os.urandom(16) if iv is None else iv
    padder = padding.PKCS7(128).padder()
    padded = padder.update(plaintext) + padder.finalize()
    encryptor = Cipher(algorithms.AES(bytes.fromhex(key_hex)), modes.CBC(iv)).encryptor()
    data = iv.hex() + (encryptor.update(padded) + encryptor.finalize()).hex()
    return data, hmac.new(hmac_key.encode(), data.encode(), hashlib.sha256).hexdigest()


def encrypt_gcm(key_hex: str, plaintext: bytes, iv: bytes | None = None, iv_length: int = 12) -> tuple[str, str]:
    """(data, x-allpass-signature): hex IV + hex AES-256-GCM ciphertext, and the hex tag."""
    from cryptography.hazmat.primitives.ciphers import Cipher, algorithms, modes

    iv = os.urandom(iv_length) if iv is None else iv
    encryptor = Cipher(algorithms.AES(bytes.fromhex(key_hex)), modes.GCM(iv)).encryptor()
    ciphertext = encryptor.update(plaintext) + encryptor.finalize()
    return iv.hex() + ciphertext.hex(), encryptor.tag.hex()
