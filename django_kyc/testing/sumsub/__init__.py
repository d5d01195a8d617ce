"""A fake Sumsub on loopback, for tests and demos.

It speaks the paths, fields and formats of https://docs.sumsub.com/ that the Sumsub backend uses, and is strict
where Sumsub is: every request must carry ``X-App-Token`` and an ``X-App-Access-Sig`` over ``ts + METHOD +
path?query + body`` exactly as received, with a timestamp within a minute (401 ``{"description": "Invalid
signature", …}`` otherwise); levels must exist; an ``externalUserId`` is unique; ID documents are multipart with a
``metadata`` JSON part whose ``idDocType`` and ISO alpha-3 ``country`` are mandatory; a check cannot be requested
twice or without documents (409). Errors come as ``{"description", "code", "correlationId"}``, and webhooks are
signed with ``X-Payload-Digest`` / ``X-Payload-Digest-Alg`` as Sumsub signs them. ``docs/providers/sumsub.md``
describes it ("The fake Sumsub").

Use it in your own tests::

    with FakeSumsub(app_token="sbx:test", secret_key="secret", webhook_secret="whsec") as sumsub:
        settings.DJANGO_KYC["BACKENDS"]["sumsub"]["OPTIONS"]["BASE_URL"] = sumsub.base_url
        ...
        sumsub.decide(verification.provider_applicant_id, "approved")
        body, headers = sumsub.webhook_for(verification.provider_applicant_id)

or from the command line (``--auto-decide`` walks each new applicant to ``pending`` and then the outcome)::

    python -m django_kyc.testing sumsub --port 8108 --option webhook_url=http://127.0.0.1:8000/kyc/webhooks/sumsub/ \
        --auto-decide approved

Outcomes for :meth:`FakeSumsub.decide` are the keys of :data:`OUTCOMES`. The package: :mod:`.vocabulary`
(outcomes, webhook types, ids, both signatures), :mod:`.state` (options, request signatures, errors),
:mod:`.api` (the endpoints) and :mod:`.backoffice` (routes, decisions, webhooks).
"""

from __future__ import annotations

from django_kyc.testing.server import FakeProviderServer, FakeRequest, FakeResponse
from django_kyc.testing.sumsub.backoffice import FakeSumsub
from django_kyc.testing.sumsub.vocabulary import OUTCOMES, WEBHOOK_TYPES, new_id, payload_digest, request_signature

SERVER = FakeSumsub

__all__ = [
    "OUTCOMES",
    "SERVER",
    "WEBHOOK_TYPES",
    "FakeProviderServer",
    "FakeRequest",
    "FakeResponse",
    "FakeSumsub",
    "new_id",
    "payload_digest",
    "request_signature",
]
