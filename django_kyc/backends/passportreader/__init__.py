"""PassportReader (passportreader.app, the "Iris ID" app): passports verified by their NFC chip.

``CLASS`` is ``django_kyc.backends.passportreader.PassportReaderBackend``: the package re-exports what lived in
the module. ``docs/providers/passportreader.md`` documents the options and every fact the backend relies on.
"""

from __future__ import annotations

from django_kyc.backends.passportreader.backend import DEFAULT_OPEN_URL, PassportReaderBackend
from django_kyc.backends.passportreader.client import (
    DEFAULT_BASE_URL,
    PassportReaderClient,
    passportreader_error_message,
)
from django_kyc.backends.passportreader.crypto import REFERENCE_PURPOSE, TOKEN_ASSOCIATED

__all__ = [
    "DEFAULT_BASE_URL",
    "DEFAULT_OPEN_URL",
    "REFERENCE_PURPOSE",
    "TOKEN_ASSOCIATED",
    "PassportReaderBackend",
    "PassportReaderClient",
    "passportreader_error_message",
]
