"""Allpass.ai (elKYC OÜ), over its "Open API": a hosted flow, encrypted webhooks, and crypto AML.

We create an applicant (our reference as ``externalUserId``), mint a client token and link, and the person
completes Allpass's flow; results arrive as encrypted webhooks and can always be read back. Wallets and
transactions are screened over the API (person AML is a step of the flow). Everything the backend relies on,
with the vendor's pages, is in ``docs/providers/allpass.md``.

The modules: :mod:`.statuses` (the tables), :mod:`.client` (transport, the envelope, every endpoint),
:mod:`.crypto` (the application's encryption), :mod:`.webhooks`, :mod:`.aml` and :mod:`.backend` (the glue).
``CLASS`` is ``django_kyc.backends.allpass.AllpassBackend``: the package re-exports what lived in the module.
"""

from __future__ import annotations

from django_kyc.backends.allpass.backend import AllpassBackend
from django_kyc.backends.allpass.client import AllpassClient, allpass_error_message, is_not_found
from django_kyc.backends.allpass.crypto import SIGNATURE_HEADER, crypto_key_bytes, decrypt_cbc, decrypt_gcm

__all__ = [
    "SIGNATURE_HEADER",
    "AllpassBackend",
    "AllpassClient",
    "allpass_error_message",
    "crypto_key_bytes",
    "decrypt_cbc",
    "decrypt_gcm",
    "is_not_found",
]
