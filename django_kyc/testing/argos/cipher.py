"""AES-256-ECB with PKCS#7 padding and base64, as ARGOS encrypts. Written independently of the backend's
(:mod:`django_kyc.backends.argos.crypto`: padding by hand here, the library's there), so the two check each other."""

from __future__ import annotations

import base64


def _aes(key: bytes, data: bytes, decrypt: bool) -> bytes:
    from cryptography.hazmat.primitives.ciphers import Cipher, algorithms, modes

    cipher = Cipher(algorithms.AES(key), modes.ECB())  # noqa: S305 - ARGOS's protocol
    worker = cipher.decryptor() if decrypt else cipher.encryptor()
    return worker.update(data) + worker.finalize()


def encrypt(key: bytes, plaintext: bytes) -> str:
    pad = 16 - len(plaintext) % 16
    return base64.b64encode(_aes(key, plaintext + bytes([pad]) * pad, decrypt=False)).decode()


def decrypt(key: bytes, text: str) -> bytes:
    padded = _aes(key, base64.b64decode(text, validate=True), decrypt=True)
    pad = padded[-1] if padded else 0
    if not 1 <= pad <= 16 or padded[-pad:] != bytes([pad]) * pad:
        raise ValueError("bad padding")
    return padded[:-pad]
