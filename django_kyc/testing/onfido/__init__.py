"""A fake Onfido (API v3.6) on loopback, for tests and demos.

It speaks the paths, fields and formats of Onfido's OpenAPI specification that the Onfido backend uses, under
the ``/v3.6`` prefix: ``Authorization: Token token=<api token>`` on every call (401 otherwise), errors as
``{"error": {"type", "message", "fields"}}`` (422 ``validation_error`` for field problems), applicants (listed
newest first, deleted on a schedule and restorable), documents as ``multipart/form-data`` with Onfido's file
rules (JPG, PNG or PDF, 2 KB to 3 MB), SDK tokens (200, JWT-shaped, with ``exp``), checks and reports (with the
sandbox's ``consider``), Studio workflow runs (``GET /workflow_runs`` answers a bare array) and webhooks signed
with ``X-SHA2-Signature`` exactly as Onfido signs them. ``docs/providers/onfido.md`` describes it.

Use it in your own tests::

    with FakeOnfido(api_token="test-token", webhook_token="hook-token", callback_url=url) as onfido:
        OPTIONS = {"API_TOKEN": "test-token", "BASE_URL": onfido.api_url, "WEBHOOK_TOKENS": ["hook-token"], ...}
        ...
        onfido.decide(verification.provider_verification_id, "approved")
        onfido.deliver(verification.provider_verification_id)   # POSTs the signed webhook

or from the command line (``--auto-decide`` decides each new run or check and sends the webhooks)::

    python -m django_kyc.testing onfido --port 8107 --option api_token=test-token --auto-decide approved

The package: :mod:`.vocabulary` (outcomes, enums, rules, tokens), :mod:`.state` (options, credentials, errors),
:mod:`.api` (applicants, documents, SDK tokens, checks, reports), :mod:`.studio` (workflow runs, the hosted
page) and :mod:`.backoffice` (routes, decisions, webhooks).
"""

from __future__ import annotations

from django_kyc.testing.onfido.backoffice import FakeOnfido
from django_kyc.testing.onfido.vocabulary import (
    API_PREFIX,
    CHECK_OUTCOMES,
    DOCUMENT_TYPES,
    RUN_STATUSES,
    WATCHLIST_RECORD,
    sdk_token,
    sign,
)
from django_kyc.testing.server import FakeProviderServer, FakeRequest, FakeResponse

SERVER = FakeOnfido

__all__ = [
    "API_PREFIX",
    "CHECK_OUTCOMES",
    "DOCUMENT_TYPES",
    "RUN_STATUSES",
    "SERVER",
    "WATCHLIST_RECORD",
    "FakeOnfido",
    "FakeProviderServer",
    "FakeRequest",
    "FakeResponse",
    "sdk_token",
    "sign",
]
