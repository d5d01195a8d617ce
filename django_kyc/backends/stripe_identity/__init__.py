"""Stripe Identity over Stripe's REST API (v1): https://docs.stripe.com/identity.

A verification is one VerificationSession, created under an ``Idempotency-Key`` with our verification id as
``client_reference_id``; the person completes it on Stripe's hosted page (``url``) or in Stripe's modal
(``client_secret``). Webhooks are authenticated with ``Stripe-Signature``; erasure redacts the sessions.
``docs/providers/stripe_identity.md`` has the facts, with Stripe's pages, and the defaults chosen where Stripe
leaves something open.

``CLASS`` is ``django_kyc.backends.stripe_identity.StripeIdentityBackend``.
"""

from __future__ import annotations

from django_kyc.backends.stripe_identity.backend import StripeIdentityBackend
from django_kyc.backends.stripe_identity.client import (
    DEFAULT_BASE_URL,
    IdempotencyKeyError,
    StripeIdentityClient,
    form_pairs,
    stripe_error_message,
)
from django_kyc.backends.stripe_identity.options import DEFAULT_API_VERSION
from django_kyc.backends.stripe_identity.webhooks import SIGNATURE_HEADER, sign

__all__ = [
    "DEFAULT_API_VERSION",
    "DEFAULT_BASE_URL",
    "SIGNATURE_HEADER",
    "IdempotencyKeyError",
    "StripeIdentityBackend",
    "StripeIdentityClient",
    "form_pairs",
    "sign",
    "stripe_error_message",
]
