"""A fake KYCAID (API 2.0) on loopback, for tests and demos.

It speaks the paths, fields and formats of https://docs.kycaid.com/ that the KYCAID backend uses:
``Authorization: Token <api token>`` on every call (403 otherwise), validation failures as HTTP 422
``{"type": "validation", "errors": [{"parameter", "message"}]}``, 36-character hex ids, applicants, files
(multipart), documents (create / get / update / delete), verifications, one-time form URLs (with the
reference's ``verificaiton_id`` spelling), and callbacks signed with ``x-data-integrity`` exactly as KYCAID
signs them. ``docs/providers/kycaid.md`` describes it ("The fake KYCAID").

Use it in your own tests::

    with FakeKycaid(api_token="test-token") as kycaid:
        settings.DJANGO_KYC["BACKENDS"]["kycaid"]["OPTIONS"]["BASE_URL"] = kycaid.base_url
        ...
        kycaid.decide(verification.provider_verification_id, "approved")
        kycaid.deliver(verification.provider_verification_id)   # POSTs the signed callback

or from the command line (``--auto-decide`` decides each new verification and calls back)::

    python -m django_kyc.testing kycaid --port 8101 --option api_token=test-token --auto-decide approved

Outcomes for :meth:`FakeKycaid.decide` are the keys of :data:`OUTCOMES`. The package: :mod:`.vocabulary`
(outcomes, types, fields, ids, the signature), :mod:`.validation` (422 checks), :mod:`.state` (options,
credentials, error formats), :mod:`.api` (applicants, files, documents), :mod:`.verifications` (verifications,
forms, the hosted page) and :mod:`.backoffice` (routes, decisions, callbacks).
"""

from __future__ import annotations

from django_kyc.testing.kycaid.backoffice import FakeKycaid
from django_kyc.testing.kycaid.vocabulary import (
    APPLICANT_FIELDS,
    DOCUMENT_FIELDS,
    DOCUMENT_TYPES,
    FILE_SLOTS,
    OUTCOMES,
    new_id,
    sign,
)
from django_kyc.testing.server import FakeProviderServer, FakeRequest, FakeResponse

SERVER = FakeKycaid

__all__ = [
    "APPLICANT_FIELDS",
    "DOCUMENT_FIELDS",
    "DOCUMENT_TYPES",
    "FILE_SLOTS",
    "OUTCOMES",
    "SERVER",
    "FakeKycaid",
    "FakeProviderServer",
    "FakeRequest",
    "FakeResponse",
    "new_id",
    "sign",
]
