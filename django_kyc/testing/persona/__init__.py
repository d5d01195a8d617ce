"""A fake Persona API (``/api/v1/inquiries``) on loopback, for tests and the demo.

It answers as Persona's API reference describes (``docs/providers/persona.md``, "The fake Persona"): the API key
as a Bearer token (401 otherwise), JSON:API bodies with unknown attributes refused, ``Persona-Version`` checked
and recorded, ``Idempotency-Key`` replaying the first answer (and refusing another body under a used key),
errors in Persona's ``{"errors": [...]}`` body, inquiries listed by ``filter[reference-id]`` with cursors,
resume and one-time links with Persona's status rules, redaction, and events signed with ``Persona-Signature``
exactly as Persona signs them (one ``t=…,v1=…`` group per webhook secret) with the delivery-attempt headers.

Use it in your own tests::

    with FakePersona(api_key="persona_sandbox_x", webhook_secrets="wbhsec_x") as persona:
        ...  # OPTIONS: {"API_KEY": "persona_sandbox_x", "TEMPLATE_ID": "itmpl_…", "WEBHOOK_SECRETS": "wbhsec_x",
             #           "BASE_URL": persona.api_url}
        persona.decide(verification.provider_verification_id, "approved")
        body, headers = persona.webhook_for(verification.provider_verification_id)

or from the command line (``--auto-decide`` walks each new inquiry through ``pending`` and ``completed`` to the
outcome)::

    python -m django_kyc.testing persona --port 8110 --option api_key=persona_sandbox_demo \
        --option webhook_secrets=wbhsec_demo \
        --option webhook_url=http://127.0.0.1:8000/kyc/webhooks/persona/ --auto-decide approved

Outcomes for :meth:`FakePersona.decide` are listed in :data:`OUTCOMES`. The modules: :mod:`.api` (the
endpoints, the conventions) and :mod:`.server` (the back office: decisions, events, the hosted flow).
"""

from __future__ import annotations

from django_kyc.testing.persona.api import PersonaApi, persona_error, session_token
from django_kyc.testing.persona.server import OUTCOMES, UNKNOWN_STATUS, FakePersona

SERVER = FakePersona

__all__ = ["OUTCOMES", "SERVER", "UNKNOWN_STATUS", "FakePersona", "PersonaApi", "persona_error", "session_token"]
