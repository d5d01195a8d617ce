"""Veriff (Public API v1): https://devdocs.veriff.com/.

One session per verification, created with our ids as ``vendorData`` / ``endUserId``. Two flows, chosen with
``OPTIONS["MODE"]``: ``"hosted"`` hands out the session's link to Veriff's flow, ``"api"`` uploads our documents
as base64 media and submits the session. Requests carry ``X-AUTH-CLIENT`` and an ``X-HMAC-SIGNATURE``;
webhooks are authenticated by ``X-HMAC-SIGNATURE`` over the raw body (and optionally Veriff's source
addresses). Deletion keeps within Veriff's budget of 10 sessions a day and 5 an hour.
``docs/providers/veriff.md`` describes both flows, with Veriff's references and the defaults chosen where Veriff
leaves something open.
"""

from __future__ import annotations

from django_kyc.backends.veriff.backend import MODES, VeriffBackend
from django_kyc.backends.veriff.client import DEFAULT_BASE_URL, VeriffClient, sign, veriff_error_message
from django_kyc.backends.veriff.statuses import CATALOGUE_CODES, STATUS_MAP
from django_kyc.backends.veriff.webhooks import VERIFF_IPS

__all__ = [
    "CATALOGUE_CODES",
    "DEFAULT_BASE_URL",
    "MODES",
    "STATUS_MAP",
    "VERIFF_IPS",
    "VeriffBackend",
    "VeriffClient",
    "sign",
    "veriff_error_message",
]
