"""Sumsub: https://docs.sumsub.com/.

Applicants are created for a verification level with our reference as ``externalUserId`` (and found by it
again before another is created). Two flows, chosen with ``OPTIONS["MODE"]``: ``"sdk"`` issues WebSDK access
tokens (the client token), ``"api"`` sends our documents as ID documents and requests the check. Every request
is signed with the app token's secret key; webhooks are authenticated by ``X-Payload-Digest``.
``docs/providers/sumsub.md`` describes both, with Sumsub's references and the defaults chosen where Sumsub
leaves something open.
"""

from __future__ import annotations

from django_kyc.backends.sumsub.backend import MODES, SumsubBackend
from django_kyc.backends.sumsub.client import DEFAULT_BASE_URL, SumsubClient, sign_request, sumsub_error_message
from django_kyc.backends.sumsub.statuses import CATALOGUE_CODES, DOCUMENT_TYPES, STATUS_MAP
from django_kyc.backends.sumsub.webhooks import ALGORITHM_HEADER, ALGORITHMS, DIGEST_HEADER, sign

__all__ = [
    "ALGORITHMS",
    "ALGORITHM_HEADER",
    "CATALOGUE_CODES",
    "DEFAULT_BASE_URL",
    "DIGEST_HEADER",
    "DOCUMENT_TYPES",
    "MODES",
    "STATUS_MAP",
    "SumsubBackend",
    "SumsubClient",
    "sign",
    "sign_request",
    "sumsub_error_message",
]
