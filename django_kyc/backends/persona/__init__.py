"""Persona over its REST API (``/api/v1``, JSON:API): https://docs.withpersona.com.

A verification is one inquiry, created from the site's inquiry template under an ``Idempotency-Key`` with the
applicant's opaque reference as ``reference-id``; the person completes it in Persona's hosted flow (a one-time
link) or its embedded flow (a session token from ``resume``). Webhooks are authenticated with
``Persona-Signature``; erasure redacts the inquiries. ``docs/providers/persona.md`` has the facts, with
Persona's pages, and the defaults chosen where Persona leaves something open.

``CLASS`` is ``django_kyc.backends.persona.PersonaBackend``.
"""

from __future__ import annotations

from django_kyc.backends.persona.backend import PersonaBackend
from django_kyc.backends.persona.client import DEFAULT_BASE_URL, PersonaClient, persona_error_message
from django_kyc.backends.persona.options import DEFAULT_API_VERSION
from django_kyc.backends.persona.webhooks import SIGNATURE_HEADER, sign

__all__ = [
    "DEFAULT_API_VERSION",
    "DEFAULT_BASE_URL",
    "SIGNATURE_HEADER",
    "PersonaBackend",
    "PersonaClient",
    "persona_error_message",
    "sign",
]
