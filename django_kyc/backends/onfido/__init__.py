"""Onfido (Entrust Identity Verification), API v3.6: https://documentation.identity.entrust.com/.

Three modes, chosen with ``OPTIONS["MODE"]``: ``"workflow"`` (an Onfido Studio workflow run, whose SDK token and
link are the hosted flow), ``"sdk"`` (a classic SDK token; the check follows the person's capture) and ``"api"``
(we upload the documents and create the check). Webhooks are authenticated by ``X-SHA2-Signature``.
``docs/providers/onfido.md`` describes each, with Onfido's references and the defaults chosen where Onfido leaves
something open.

``CLASS`` is ``django_kyc.backends.onfido.OnfidoBackend``.
"""

from __future__ import annotations

from django_kyc.backends.onfido.backend import OnfidoBackend
from django_kyc.backends.onfido.client import REGIONS, OnfidoClient, onfido_error_message, region_url
from django_kyc.backends.onfido.options import MODES
from django_kyc.backends.onfido.statuses import check_status, report_status, workflow_run_status
from django_kyc.backends.onfido.webhooks import SIGNATURE_HEADER, sign

__all__ = [
    "MODES",
    "REGIONS",
    "SIGNATURE_HEADER",
    "OnfidoBackend",
    "OnfidoClient",
    "check_status",
    "onfido_error_message",
    "region_url",
    "report_status",
    "sign",
    "workflow_run_status",
]
