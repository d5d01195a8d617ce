"""A fake Stripe Identity API (``/v1/identity/verification_sessions``) on loopback, for tests and the demo.

It answers as Stripe's API reference describes (``docs/providers/stripe_identity.md``, "The fake Stripe"): the
secret key as a Bearer token or HTTP Basic user name (401 otherwise), form-encoded bodies in bracket notation with
unknown parameters refused, ``Stripe-Version`` checked and recorded, ``Idempotency-Key`` replaying the first answer
(and refusing other parameters under a used key), errors in Stripe's ``{"error": {...}}`` body, sessions listed
with ``client_reference_id`` / ``created`` filters and cursors, cancel and redact with Stripe's status rules, and
events signed with ``Stripe-Signature`` exactly as Stripe signs them (one ``v1`` per endpoint secret, and the
test-mode ``v0``).

Use it in your own tests::

    with FakeStripeIdentity(secret_key="sk_test_x", webhook_secrets="whsec_x") as stripe:
        ...  # OPTIONS: {"SECRET_KEY": "sk_test_x", "WEBHOOK_SECRETS": "whsec_x", "BASE_URL": stripe.base_url}
        stripe.decide(verification.provider_verification_id, "verified")
        body, headers = stripe.webhook_for(verification.provider_verification_id)

or from the command line (``--auto-decide`` walks each new session through ``processing`` to the outcome)::

    python -m django_kyc.testing stripe_identity --port 8104 --option secret_key=sk_test_demo \
        --option webhook_secrets=whsec_demo \
        --option webhook_url=http://127.0.0.1:8000/kyc/webhooks/stripe_identity/ --auto-decide verified

Outcomes for :meth:`FakeStripeIdentity.decide` are listed in :data:`OUTCOMES`. The modules: :mod:`.forms`
(bracket notation, parameter checks, error bodies), :mod:`.api` (the endpoints) and :mod:`.server` (the back
office: decisions, events, the hosted page).
"""

from __future__ import annotations

from django_kyc.testing.stripe_identity.api import StripeIdentityApi
from django_kyc.testing.stripe_identity.forms import parse_form
from django_kyc.testing.stripe_identity.server import ERROR_REASONS, OUTCOMES, UNKNOWN_STATUS, FakeStripeIdentity

SERVER = FakeStripeIdentity

__all__ = [
    "ERROR_REASONS",
    "OUTCOMES",
    "SERVER",
    "UNKNOWN_STATUS",
    "FakeStripeIdentity",
    "StripeIdentityApi",
    "parse_form",
]
