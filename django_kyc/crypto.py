"""Field-level encryption of personal data, and blind indexes for the few exact lookups we need.

Why in-house rather than a package: the maintained option (django-fernet-encrypted-fields) derives its keys
from ``SECRET_KEY`` and silently returns ciphertext when a key is wrong. KYC data must outlive a
``SECRET_KEY`` rotation and must never be shown (or re-saved) as garbage, so here:

* keys are dedicated: ``DJANGO_KYC["ENCRYPTION_KEYS"]``, a list of Fernet keys, newest first. Values are
  encrypted with the first key; every key is tried on decryption (:class:`cryptography.fernet.MultiFernet`),
  so adding a new key in front is safe at any time and old keys can go once ``kyc_rotate_keys`` has run;
* a value no key can decrypt raises :class:`DecryptionError`, which names the setting;
* encrypted columns are plain text in the database and support no lookups except ``isnull``: an equality
  lookup against a randomised ciphertext would silently match nothing. Exact lookups go through a blind
  index column instead (:func:`blind_index`, HMAC-SHA256 under a separate ``BLIND_INDEX_KEY``).

Keys are read from settings on every use (parsed objects are cached per key tuple), so
``override_settings(DJANGO_KYC=...)`` works and nothing is read at import time.
"""

from __future__ import annotations

import base64
import binascii
import datetime
import hashlib
import hmac
import json
import unicodedata
from collections.abc import Sequence
from functools import lru_cache
from typing import Any

from cryptography.fernet import Fernet, InvalidToken, MultiFernet
from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import models
from django.db.backends.base.base import BaseDatabaseWrapper
from django.db.models.expressions import Expression

from django_kyc.conf import kyc_settings
from django_kyc.exceptions import KycConfigurationError

KEYS_SETTING = 'DJANGO_KYC["ENCRYPTION_KEYS"]'
BLIND_INDEX_SETTING = 'DJANGO_KYC["BLIND_INDEX_KEY"]'

#: Minimum length of ``BLIND_INDEX_KEY``: an HMAC key shorter than the digest weakens it.
MIN_BLIND_INDEX_KEY_LENGTH = 32
#: One-line commands that print a new key. The system checks quote them, so a hint needs no document that the
#: installed wheel does not ship.
FERNET_KEY_COMMAND = "python -c 'from cryptography.fernet import Fernet; print(Fernet.generate_key().decode())'"
BLIND_INDEX_KEY_COMMAND = "python -c 'import secrets; print(secrets.token_urlsafe(48))'"

_DEV_ENCRYPTION_CONTEXT = b"django_kyc.encryption.development-key"
_DEV_BLIND_INDEX_CONTEXT = b"django_kyc.blind-index.development-key"


class DecryptionError(KycConfigurationError):
    """A stored value cannot be decrypted with any configured key.

    A configuration error, not a data error: the usual cause is a key removed from ``ENCRYPTION_KEYS``
    before ``kyc_rotate_keys`` re-encrypted the rows that used it.
    """


# --- keys ---------------------------------------------------------------------------------------------------


def _as_key_list(value: Any) -> list[str | bytes]:
    if value in (None, "", b""):
        return []
    if isinstance(value, str | bytes):
        return [value]
    if isinstance(value, Sequence):
        return list(value)
    raise KycConfigurationError(f"{KEYS_SETTING} must be a list of Fernet keys, newest first.")


def validate_encryption_keys(value: Any) -> list[str]:
    """Problems with a configured key list, one message per bad key (empty when every key is usable)."""
    try:
        keys = _as_key_list(value)
    except KycConfigurationError as exc:
        return [str(exc)]
    problems = []
    for position, key in enumerate(keys):
        try:
            Fernet(key)
        except (ValueError, TypeError, binascii.Error):
            problems.append(
                f"{KEYS_SETTING}[{position}] is not a Fernet key (32 url-safe base64-encoded bytes); "
                f"generate one with `{FERNET_KEY_COMMAND}`."
            )
    return problems


def _development_key(context: bytes) -> bytes:
    """A key derived from ``SECRET_KEY``, used only when DEBUG is on and no key is configured.

    It keeps a fresh development checkout working without ever storing plaintext; the system check warns
    (W020/W021) and production (DEBUG off) refuses to run without real keys.
    """
    digest = hmac.new(str(settings.SECRET_KEY).encode(), context, hashlib.sha256).digest()
    return base64.urlsafe_b64encode(digest)


def configured_encryption_keys() -> tuple[bytes, ...]:
    """The key list to use now: the configured keys, or the DEBUG development key, else an error."""
    keys = _as_key_list(kyc_settings.ENCRYPTION_KEYS)
    if not keys:
        if settings.DEBUG:
            return (_development_key(_DEV_ENCRYPTION_CONTEXT),)
        raise KycConfigurationError(
            f"{KEYS_SETTING} is not set; django_kyc refuses to store personal data unencrypted. "
            "Set it to a list of Fernet keys, newest first."
        )
    if all(isinstance(key, str | bytes) for key in keys):
        return _checked_keys(tuple(keys))
    return _check_keys(keys)  # e.g. a bytearray: not hashable, so checked every time as before


@lru_cache(maxsize=8)
def _checked_keys(keys: tuple[str | bytes, ...]) -> tuple[bytes, ...]:
    """:func:`_check_keys` once per key list: every encrypted value read or written asks for the keys, and
    building a ``Fernet`` per key to validate them cost more than finding the cached ``MultiFernet``. A list
    that fails raises and is not cached, so it fails on every use, as before."""
    return _check_keys(keys)


def _check_keys(keys: Sequence[str | bytes]) -> tuple[bytes, ...]:
    problems = validate_encryption_keys(keys)
    if problems:
        raise KycConfigurationError(problems[0])
    return tuple(key.encode() if isinstance(key, str) else bytes(key) for key in keys)


@lru_cache(maxsize=8)
def _multifernet(keys: tuple[bytes, ...]) -> MultiFernet:
    return MultiFernet([Fernet(key) for key in keys])


@lru_cache(maxsize=8)
def _primary(key: bytes) -> Fernet:
    return Fernet(key)


def get_fernet() -> MultiFernet:
    """The current :class:`MultiFernet`: encrypts with the first key, decrypts with any."""
    return _multifernet(configured_encryption_keys())


def blind_index_key() -> bytes:
    """``BLIND_INDEX_KEY`` as bytes; separate from the encryption keys so one leaking does not expose both."""
    key = kyc_settings.BLIND_INDEX_KEY
    if not key:
        if settings.DEBUG:
            return _development_key(_DEV_BLIND_INDEX_CONTEXT)
        raise KycConfigurationError(
            f"{BLIND_INDEX_SETTING} is not set; it is needed to look up encrypted document numbers."
        )
    raw = key.encode() if isinstance(key, str) else bytes(key)
    if len(raw) < MIN_BLIND_INDEX_KEY_LENGTH:
        raise KycConfigurationError(f"{BLIND_INDEX_SETTING} must be at least {MIN_BLIND_INDEX_KEY_LENGTH} characters.")
    return raw


# --- values -------------------------------------------------------------------------------------------------


def encrypt_bytes(plaintext: bytes) -> str:
    """A Fernet token (ASCII) for ``plaintext`` under the primary key."""
    return get_fernet().encrypt(plaintext).decode("ascii")


def decrypt_bytes(token: str, *, label: str = "a value") -> bytes:
    """The plaintext of ``token``; raises :class:`DecryptionError` (naming the setting) if no key fits."""
    try:
        return get_fernet().decrypt(token.encode("ascii"))
    except (InvalidToken, UnicodeEncodeError) as exc:
        raise DecryptionError(
            f"Cannot decrypt {label}: no key in {KEYS_SETTING} matches it (or it is not encrypted). "
            "Was a key removed before `manage.py kyc_rotate_keys` re-encrypted the data?"
        ) from exc


def encrypt_str(plaintext: str) -> str:
    """A Fernet token for ``plaintext`` encoded as UTF-8."""
    return encrypt_bytes(plaintext.encode("utf-8"))


def decrypt_str(token: str, *, label: str = "a value") -> str:
    """The text of ``token`` (see :func:`decrypt_bytes`)."""
    return decrypt_bytes(token, label=label).decode("utf-8")


def is_current_token(token: str) -> bool:
    """Whether ``token`` is already encrypted under the primary key (so rotation can skip it)."""
    try:
        _primary(configured_encryption_keys()[0]).decrypt(token.encode("ascii"))
    except (InvalidToken, UnicodeEncodeError):
        return False
    return True


def normalize_identifier(value: str) -> str:
    """The form a blind index is computed on: NFKC, upper case, no whitespace.

    People type "ab 123 456" for "AB123456"; both must find the same document.
    """
    folded = unicodedata.normalize("NFKC", value).upper()
    return "".join(folded.split())


def blind_index(value: str | None) -> str:
    """HMAC-SHA256 hex of the normalised ``value`` under ``BLIND_INDEX_KEY``; ``""`` for an empty value.

    Equal inputs give equal indexes, which leaks frequencies: index only high-entropy identifiers (document
    numbers), never low-cardinality fields such as a country or a birth year.
    """
    normalized = normalize_identifier(value or "")
    if not normalized:
        return ""
    return hmac.new(blind_index_key(), normalized.encode("utf-8"), hashlib.sha256).hexdigest()


# --- fields -------------------------------------------------------------------------------------------------


class EncryptedFieldMixin:
    """Turns a field into an encrypted text column while keeping its Python type, forms and serializers.

    Subclasses pair this mixin with a Django field class and define how a Python value becomes text
    (:meth:`to_plaintext`) and back (:meth:`from_plaintext`); Fernet encrypts bytes, so text is UTF-8 encoded
    on the way in (:meth:`to_bytes`) and decoded on the way out (:meth:`from_bytes`), which a field whose
    value is already bytes replaces.
    """

    encrypted = True

    def get_internal_type(self) -> str:
        return "TextField"

    def to_plaintext(self, value: Any) -> str:
        return str(value)

    def from_plaintext(self, text: str) -> Any:
        return text

    def to_bytes(self, value: Any) -> bytes:
        return self.to_plaintext(value).encode("utf-8")

    def from_bytes(self, data: bytes) -> Any:
        return self.from_plaintext(data.decode("utf-8"))

    def _label(self) -> str:
        model = getattr(self, "model", None)
        name = getattr(self, "name", "?")
        return f"{model._meta.label}.{name}" if model is not None else str(name)

    def get_db_prep_value(self, value: Any, connection: BaseDatabaseWrapper, prepared: bool = False) -> Any:
        if not prepared:
            value = self.get_prep_value(value)  # type: ignore[attr-defined]
        if value is None or hasattr(value, "as_sql"):
            return value
        return encrypt_bytes(self.to_bytes(value))

    def get_db_prep_save(self, value: Any, connection: BaseDatabaseWrapper) -> Any:
        if value is None or hasattr(value, "as_sql"):
            return value
        return self.get_db_prep_value(value, connection, prepared=False)

    def from_db_value(self, value: Any, expression: Expression, connection: BaseDatabaseWrapper) -> Any:
        if value is None:
            return None
        return self.from_bytes(decrypt_bytes(value, label=self._label()))

    def get_lookup(self, lookup_name: str) -> Any:
        """Only ``isnull``: comparing ciphertexts would silently match nothing. Use a blind index."""
        if lookup_name != "isnull":
            return None
        return super().get_lookup(lookup_name)  # type: ignore[misc]

    def get_transform(self, lookup_name: str) -> Any:
        return None


class EncryptedCharField(EncryptedFieldMixin, models.CharField):
    """A ``CharField`` stored encrypted; ``max_length`` limits the plaintext (the column is unbounded text)."""


class EncryptedTextField(EncryptedFieldMixin, models.TextField):
    """A ``TextField`` stored encrypted."""


class EncryptedBinaryField(EncryptedFieldMixin, models.BinaryField):
    """A ``BinaryField`` stored encrypted: exactly the bytes given come back, whatever they encode.

    For raw data that is not necessarily text (a webhook delivery: JSON may be UTF-16, a provider may send
    anything it signs). The column is the same text of Fernet tokens as every encrypted field, and Fernet
    encrypts bytes, so a column an :class:`EncryptedTextField` wrote reads back as its text's UTF-8 bytes:
    a field can change from one to the other without rewriting a row.

    ``str`` is refused rather than encoded: text reaching a bytes field means someone decoded the raw bytes
    already, which is the loss this field exists to prevent.
    """

    def to_bytes(self, value: Any) -> bytes:
        if isinstance(value, bytes | bytearray | memoryview):
            return bytes(value)
        raise TypeError(f"{self._label()} holds bytes, not {type(value).__name__}.")

    def from_bytes(self, data: bytes) -> bytes:
        return data


class EncryptedDateField(EncryptedFieldMixin, models.DateField):
    """A ``DateField`` stored encrypted as an ISO date; still a :class:`datetime.date` in Python."""

    def to_plaintext(self, value: Any) -> str:
        if not isinstance(value, datetime.date):
            value = self.to_python(value)
        return str(value.isoformat())

    def from_plaintext(self, text: str) -> datetime.date | None:
        return datetime.date.fromisoformat(text) if text else None


class EncryptedJSONField(EncryptedFieldMixin, models.JSONField):
    """A ``JSONField`` stored as encrypted JSON text: key lookups are impossible, reads and writes are not."""

    def to_plaintext(self, value: Any) -> str:
        return json.dumps(value, cls=self.encoder)

    def from_plaintext(self, text: str) -> Any:
        try:
            return json.loads(text, cls=self.decoder)
        except json.JSONDecodeError as exc:  # pragma: no cover - only a corrupted column gets here
            raise ValidationError(f"{self._label()} holds invalid JSON.") from exc


class BlindIndexField(models.CharField):
    """The blind index of another field (``source``), recomputed whenever the row is saved.

    ``save(update_fields=[...])`` must name this field too when it names the source (models do it in
    ``save``); ``QuerySet.update()`` and ``bulk_update()`` bypass it, so set the index there yourself.
    """

    def __init__(self, *args: Any, source: str = "", **kwargs: Any) -> None:
        self.source = source
        kwargs.setdefault("max_length", 64)
        kwargs.setdefault("blank", True)
        kwargs.setdefault("editable", False)
        kwargs.setdefault("db_index", True)
        super().__init__(*args, **kwargs)

    def deconstruct(self) -> Any:
        name, path, args, kwargs = super().deconstruct()
        kwargs["source"] = self.source
        for key, default in (("max_length", 64), ("blank", True), ("editable", False), ("db_index", True)):
            if kwargs.get(key) == default:
                del kwargs[key]
        return name, path, args, kwargs

    def pre_save(self, model_instance: models.Model, add: bool) -> str:
        value = blind_index(getattr(model_instance, self.source))
        setattr(model_instance, self.attname, value)
        return value


def blind_index_fields(model: type[models.Model]) -> list[BlindIndexField]:
    """The blind-index fields of ``model``."""
    return [field for field in model._meta.concrete_fields if isinstance(field, BlindIndexField)]


def encrypted_fields(model: type[models.Model]) -> list[models.Field[Any, Any]]:
    """The encrypted concrete fields of ``model``, for rotation and for tests."""
    return [field for field in model._meta.concrete_fields if isinstance(field, EncryptedFieldMixin)]
