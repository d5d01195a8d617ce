"""The application's encryption: AES-256-CBC with an HMAC key, or AES-256-GCM.

Allpass encrypts webhook ``data`` (and may encrypt API ``data``) with the keys on the Workplace's Application
page; the HMAC (CBC) or the GCM tag travels in ``x-allpass-signature``. ``data`` is hex IV + hex ciphertext.
What the vendor states and what it leaves open (what the HMAC covers, the GCM IV length, the keys' encodings)
is in ``docs/providers/allpass.md`` ("Webhooks" and "What Allpass's docs leave unknown"); the open parts are
options whose defaults are the likeliest reading.
"""

from __future__ import annotations

import base64
import binascii
import json
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from django_kyc.backends.signing import as_secret_list, verify_hmac
from django_kyc.exceptions import WebhookAuthenticationError

SIGNATURE_HEADER = "x-allpass-signature"
WEBHOOK_MODES = ("cbc-hmac", "gcm")
ENCODINGS = ("hex", "base64")
HMAC_KEY_ENCODINGS = ("utf8", "hex")
GCM_IV_LENGTHS = ("auto", 12, 16)
#: ``GCM_IV_LENGTH = "auto"``: the GCM standard's 12 bytes first, then the 16 a port of the CBC code would use.
AUTO_IV_LENGTHS = (12, 16)
_KEY_PROBLEM = "CRYPTO_KEY must be 64 hexadecimal characters (32 bytes)"


def crypto_key_bytes(value: str | bytes) -> bytes:
    """A 32-byte AES key from the Workplace's hex "Crypto key" (the vendor's sample code hex-decodes it)."""
    text = value.decode() if isinstance(value, bytes) else str(value)
    try:
        key = bytes.fromhex(text.strip())
    except ValueError as exc:
        raise ValueError(_KEY_PROBLEM) from exc
    if len(key) != 32:
        raise ValueError(_KEY_PROBLEM)
    return key


def crypto_key_list(value: Any) -> list[bytes]:
    """The ``CRYPTO_KEY`` option's coercer: one hex key or a list of them (newest first), each checked."""
    keys = as_secret_list(value)
    for key in keys:
        try:
            crypto_key_bytes(key)
        except ValueError as exc:
            raise ValueError("must be 64 hexadecimal characters (32 bytes): one string or a list of them.") from exc
    return keys


def decode_signature(value: str, encoding: str) -> bytes | None:
    """``x-allpass-signature`` as bytes (``"hex"`` or ``"base64"``); ``None`` when it is neither."""
    try:
        if encoding == "hex":
            return bytes.fromhex(value.strip())
        return base64.b64decode(value.strip(), validate=True)
    except (ValueError, binascii.Error):
        return None


def decrypt_cbc(key: bytes, blob: str) -> bytes:
    """``blob`` = hex IV (first 32 characters) + hex ciphertext, AES-256-CBC with PKCS#7 padding.

    Raises ``ValueError`` for anything that is not a well-formed ciphertext under ``key``.
    """
    from cryptography.hazmat.primitives import padding
    from cryptography.hazmat.primitives.ciphers import Cipher, algorithms, modes

    raw = bytes.fromhex(blob)
    iv, ciphertext = raw[:16], raw[16:]
    if len(iv) != 16 or not ciphertext or len(ciphertext) % 16:
        raise ValueError("not an AES-256-CBC ciphertext")
    decryptor = Cipher(algorithms.AES(key), modes.CBC(iv)).decryptor()
    padded = decryptor.update(ciphertext) + decryptor.finalize()
    unpadder = padding.PKCS7(128).unpadder()
    return unpadder.update(padded) + unpadder.finalize()


def decrypt_gcm(key: bytes, blob: str, tag: bytes, iv_length: int) -> bytes:
    """``blob`` = hex IV (``iv_length`` bytes) + hex ciphertext; ``tag`` from ``x-allpass-signature``.

    Raises ``ValueError`` when the tag does not verify (wrong key, wrong layout or tampering).
    """
    from cryptography.exceptions import InvalidTag
    from cryptography.hazmat.primitives.ciphers.aead import AESGCM

    raw = bytes.fromhex(blob)
    iv, ciphertext = raw[:iv_length], raw[iv_length:]
    if len(iv) != iv_length or len(tag) != 16:
        raise ValueError("not an AES-256-GCM ciphertext")
    try:
        return AESGCM(key).decrypt(iv, ciphertext + tag, None)
    except InvalidTag as exc:
        raise ValueError("GCM tag does not verify") from exc


def json_object(plaintext: bytes) -> dict[str, Any]:
    """Decrypted ``data`` as the JSON object it must be; ``ValueError`` otherwise."""
    try:
        payload = json.loads(plaintext.decode("utf-8"))
    except (UnicodeDecodeError, ValueError) as exc:
        raise ValueError("decrypted data is not JSON") from exc
    if not isinstance(payload, dict):
        raise ValueError("decrypted data is not a JSON object")
    return payload


@dataclass(frozen=True)
class ApplicationKeys:
    """One application's keys and the encryption method of its Workplace, as configured.

    Several keys of each kind may be listed (newest first) so a rotation drops no delivery: every key is tried.
    """

    mode: str = "cbc-hmac"
    crypto_keys: tuple[bytes, ...] = ()
    hmac_keys: tuple[bytes, ...] = ()
    signature_encoding: str = "hex"
    gcm_iv_lengths: tuple[int, ...] = AUTO_IV_LENGTHS

    @classmethod
    def from_config(cls, config: Mapping[str, Any]) -> ApplicationKeys:
        """From a backend's coerced options. ``HMAC_KEY_ENCODING = "utf8"`` uses the Workplace string's bytes, as
        Node's ``createHmac(alg, key)`` does with a string key; ``"hex"`` decodes it (checked by the backend's
        option rules, so it is hexadecimal here)."""
        hmac_keys = list(config.get("HMAC_KEY") or [])
        if config.get("HMAC_KEY_ENCODING") == "hex":
            hmac_keys = [bytes.fromhex(key.decode()) for key in hmac_keys]
        iv_length = config.get("GCM_IV_LENGTH") or "auto"
        return cls(
            mode=str(config.get("WEBHOOK_MODE") or "cbc-hmac"),
            crypto_keys=tuple(crypto_key_bytes(key) for key in config.get("CRYPTO_KEY") or []),
            hmac_keys=tuple(hmac_keys),
            signature_encoding=str(config.get("SIGNATURE_ENCODING") or "hex"),
            gcm_iv_lengths=AUTO_IV_LENGTHS if iv_length == "auto" else (int(iv_length),),
        )

    def verify_hmac(self, message: bytes, signature: str) -> None:
        """The CBC mode's HMAC-SHA256 under any of the HMAC keys (all tried, in constant time)."""
        if not self.hmac_keys:
            raise WebhookAuthenticationError("no HMAC_KEY configured: deliveries cannot be authenticated")
        verify_hmac(secrets=self.hmac_keys, message=message, signature=signature, encoding=self.signature_encoding)

    def decrypt(self, blob: str, signature: str) -> dict[str, Any]:
        """``data`` opened with any configured key (GCM: the tag verified too); ``ValueError`` if none opens it."""
        if not self.crypto_keys:
            raise ValueError("no CRYPTO_KEY configured")
        if self.mode == "gcm":
            tag = decode_signature(signature, self.signature_encoding)
            if tag is None:
                raise ValueError(f"{SIGNATURE_HEADER} is not a GCM tag")
            for key in self.crypto_keys:
                for length in self.gcm_iv_lengths:
                    try:
                        return json_object(decrypt_gcm(key, blob, tag, length))
                    except ValueError:
                        continue
            raise ValueError("the GCM tag does not verify with any CRYPTO_KEY")
        for key in self.crypto_keys:
            try:
                return json_object(decrypt_cbc(key, blob))
            except ValueError:
                continue
        raise ValueError("data does not decrypt with any CRYPTO_KEY")
