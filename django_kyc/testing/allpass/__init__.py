"""A fake Allpass (elKYC) Open API: ``/api/public/...`` under ``x-private-app-key``, for tests and the demo.

It answers as Allpass's API reference describes (``docs/providers/allpass.md``): every answer in the envelope
``{"status", "statusCode", "data", "time"}``, applicants by id or ``externalUserId``, 201 for creations, soft
deletion, crypto-AML searches validated as the schema says. Webhooks are encrypted the way the application is
configured: ``webhook_mode="cbc-hmac"`` (hex IV + hex AES-256-CBC ciphertext in ``data``, hex HMAC-SHA256 of
that string in ``x-allpass-signature``) or ``"gcm"`` (hex IV + hex AES-256-GCM ciphertext, hex tag in the
header).

``decide(applicant_id, status)`` plays the person and Allpass's compliance officer: any status can be set,
including ones Allpass never sends. Crypto AML is deterministic: an address or hash containing ``bad`` is high
risk, one containing ``pending`` has no score until :meth:`FakeAllpass.settle_aml`.

The modules: :mod:`.vendor` (event names, limits, the encryption), :mod:`.samples` (canned records),
:mod:`.api` (the endpoints) and :mod:`.server` (the back office). Command line (the demo)::

    python -m django_kyc.testing allpass --port 8100 --option private_app_key=demo-key \
        --option crypto_key=<64 hex> --option hmac_key=demo-hmac \
        --option callback_url=http://127.0.0.1:8000/kyc/webhooks/allpass/ --auto-decide APPROVED
"""

from __future__ import annotations

from django_kyc.testing.allpass.samples import IMAGE, QUESTIONNAIRES
from django_kyc.testing.allpass.server import FakeAllpass
from django_kyc.testing.allpass.vendor import (
    BLOCKCHAINS,
    DEFAULT_CRYPTO_KEY,
    DELETION_GRACE,
    EVENTS,
    MAX_TTL,
    TX_HASH,
    UNKNOWN_STATUS,
    encrypt_cbc,
    encrypt_gcm,
    iso,
)

SERVER = FakeAllpass

__all__ = [
    "BLOCKCHAINS",
    "DEFAULT_CRYPTO_KEY",
    "DELETION_GRACE",
    "EVENTS",
    "IMAGE",
    "MAX_TTL",
    "QUESTIONNAIRES",
    "SERVER",
    "TX_HASH",
    "UNKNOWN_STATUS",
    "FakeAllpass",
    "encrypt_cbc",
    "encrypt_gcm",
    "iso",
]
