"""A fake Veriff (Public API v1) on loopback, for tests and demos.

It speaks the paths, fields and formats of https://devdocs.veriff.com/ that the Veriff backend uses, and is
strict where Veriff is: every request must carry the integration's ``X-AUTH-CLIENT`` and, except
``POST /v1/sessions``, an ``X-HMAC-SIGNATURE`` over the body (POST / PATCH) or the session id (GET / DELETE);
media are base64 JSON with a documented ``context`` and at most 24 MB; ``PATCH`` takes only
``{"verification": {"status": "submitted"}}`` and only before submission (409 after, media too); deletion is
switched on per integration, limited to 5 an hour and 10 a day (429), and refused for a session still in
progress ("Session is not in a completed status."). Errors come as ``{"status": "fail", "code", "message"}``
and webhooks (decision and event) are signed with ``X-HMAC-SIGNATURE`` as Veriff signs them.
``docs/providers/veriff.md`` describes it ("The fake Veriff").

Use it in your own tests::

    with FakeVeriff(api_key="key", shared_secret="secret") as veriff:
        settings.DJANGO_KYC["BACKENDS"]["veriff"]["OPTIONS"]["BASE_URL"] = veriff.base_url
        ...
        veriff.decide(verification.provider_verification_id, "approved")
        body, headers = veriff.webhook_for(verification.provider_verification_id)

or from the command line (``--auto-decide`` walks each new session through ``started`` and ``submitted`` to the
outcome; the session's link is a page where a person can pick one too)::

    python -m django_kyc.testing veriff --port 8109 --option webhook_url=http://127.0.0.1:8000/kyc/webhooks/veriff/
"""

from __future__ import annotations

from django_kyc.testing.server import FakeProviderServer, FakeRequest, FakeResponse
from django_kyc.testing.veriff.server import DECISIONS, EVENTS, OUTCOMES, FakeVeriff, signature

SERVER = FakeVeriff

__all__ = [
    "DECISIONS",
    "EVENTS",
    "OUTCOMES",
    "SERVER",
    "FakeProviderServer",
    "FakeRequest",
    "FakeResponse",
    "FakeVeriff",
    "signature",
]
