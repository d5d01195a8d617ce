"""KYCAID (API 2.0): https://docs.kycaid.com/.

Two integration modes, chosen with ``OPTIONS["MODE"]``: ``"api"`` (we create the applicant, upload each file,
create each document, then the verification) and ``"form"`` (KYCAID's hosted form: a one-time form URL becomes
the client link). Callbacks are authenticated by ``x-data-integrity``. ``docs/providers/kycaid.md`` describes
both, with KYCAID's references and the defaults chosen where KYCAID leaves something open.

``CLASS`` is ``django_kyc.backends.kycaid.KycaidBackend``: the package re-exports what lived in the module.
"""

from __future__ import annotations

from django_kyc.backends.kycaid.backend import MODES, KycaidBackend
from django_kyc.backends.kycaid.client import DEFAULT_BASE_URL, KycaidClient, kycaid_error_message
from django_kyc.backends.kycaid.statuses import DECLINE_POLICIES, DECLINE_REASONS, QUALITY_REASONS, reason_codes
from django_kyc.backends.kycaid.webhooks import SIGNATURE_HEADER

__all__ = [
    "DECLINE_POLICIES",
    "DECLINE_REASONS",
    "DEFAULT_BASE_URL",
    "MODES",
    "QUALITY_REASONS",
    "SIGNATURE_HEADER",
    "KycaidBackend",
    "KycaidClient",
    "kycaid_error_message",
    "reason_codes",
]
