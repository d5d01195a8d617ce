"""ARGOS's "Secure Data Transmission": AES-256-ECB, PKCS#7 padding, base64 text, key = SHA-256 of the API key
(or of the dashboard's ``secretKey``). Facts and the test vector: ``docs/providers/argos.md`` ("Encryption").

ECB is ARGOS's choice, not ours: it has no IV and no integrity, and identical blocks encrypt identically. It
keeps a body secret from whoever lacks the key; it does not prove who sent it, so decrypted webhooks are still
only hints (fetch-on-notify) and the IP allow-list stays on.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import json
from typing import Any


def encryption_key(secret: str) -> bytes:
    """ARGOS's key: the 32-byte SHA-256 digest of the API key (or of the dashboard's ``secretKey``)."""
    return hashlib.sha256(secret.encode("utf-8")).digest()


def ecb_encrypt(key: bytes, plaintext: bytes) -> str:
    """AES-256-ECB with PKCS#7 padding, base64 text (the encoding the vendor's examples imply)."""
    from cryptography.hazmat.primitives import padding
    from cryptography.hazmat.primitives.ciphers import Cipher, algorithms, modes

    padder = padding.PKCS7(128).padder()
    padded = padder.update(plaintext) + padder.finalize()
    encryptor = Cipher(algorithms.AES(key), modes.ECB()).encryptor()  # noqa: S305 - the vendor's protocol
    return base64.b64encode(encryptor.update(padded) + encryptor.finalize()).decode("ascii")


def ecb_decrypt(key: bytes, text: str) -> bytes:
    """Inverse of :func:`ecb_encrypt`; ``ValueError`` for anything that is not such a ciphertext."""
    from cryptography.hazmat.primitives import padding
    from cryptography.hazmat.primitives.ciphers import Cipher, algorithms, modes

    try:
        raw = base64.b64decode(text.strip(), validate=True)
    except (binascii.Error, ValueError) as exc:
        raise ValueError("not base64") from exc
    if not raw or len(raw) % 16:
        raise ValueError("not a whole number of AES blocks")
    decryptor = Cipher(algorithms.AES(key), modes.ECB()).decryptor()  # noqa: S305 - the vendor's protocol
    padded = decryptor.update(raw) + decryptor.finalize()
    unpadder = padding.PKCS7(128).unpadder()
    return unpadder.update(padded) + unpadder.finalize()


def seal_json(key: bytes, payload: Any) -> str:
    """A JSON value as ARGOS's ciphertext (request bodies, the Liveform's ``encrypted=`` parameter)."""
    return ecb_encrypt(key, json.dumps(payload, separators=(",", ":")).encode())


def open_json(key: bytes, text: str) -> Any:
    """The JSON value inside one of ARGOS's ciphertexts; ``ValueError`` when it does not decrypt to JSON."""
    return json.loads(ecb_decrypt(key, text))
