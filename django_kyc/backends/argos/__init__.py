"""ARGOS Identity "ID check": identity verification on ARGOS's hosted Liveform, results read over REST.

``CLASS`` is ``django_kyc.backends.argos.ArgosBackend``. The package re-exports what lived in the former module;
the modules, each with one job: :mod:`.statuses` (ARGOS's vocabulary and the pure rules over it), :mod:`.crypto`
(AES-256-ECB), :mod:`.client` (the endpoints, error bodies and encrypted answers), :mod:`.state` (a state from
submissions), :mod:`.backend` (options, Liveform, reviews, erasure), :mod:`.webhooks`, :mod:`.aml` and
:mod:`.monitoring` (enrolment answers), :mod:`.reconcile`. Facts, options and defaults: ``docs/providers/argos.md``.
"""

from __future__ import annotations

from django_kyc.backends.argos.backend import (
    ALREADY_DELETED,
    DEFAULT_ALLOWED_IPS,
    DEFAULT_BASE_URL,
    DEFAULT_LIVEFORM_URL,
    RETAINED_DATA,
    ArgosBackend,
)
from django_kyc.backends.argos.client import ERROR_CODES, ArgosClient, argos_error_message
from django_kyc.backends.argos.crypto import ecb_decrypt, ecb_encrypt, encryption_key
from django_kyc.backends.argos.reconcile import SpilledGroups
from django_kyc.backends.argos.statuses import NO_SUBMISSION, parse_timestamp, pick_submission

__all__ = [
    "ALREADY_DELETED",
    "DEFAULT_ALLOWED_IPS",
    "DEFAULT_BASE_URL",
    "DEFAULT_LIVEFORM_URL",
    "ERROR_CODES",
    "NO_SUBMISSION",
    "RETAINED_DATA",
    "ArgosBackend",
    "ArgosClient",
    "SpilledGroups",
    "argos_error_message",
    "ecb_decrypt",
    "ecb_encrypt",
    "encryption_key",
    "parse_timestamp",
    "pick_submission",
]
