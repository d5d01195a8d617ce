"""A fake ARGOS ID check API (``/v3``) and Liveform, on loopback (:class:`FakeArgos`).

With ``encryption=True`` (ARGOS's "Secure Data Transmission") list answers are ``{"isEncrypted": true,
"data": <AES-256-ECB>}``, request bodies must come as ``{"body": <ciphertext>}``, webhooks are
``{"data": <ciphertext>}`` and the Liveform reads its parameters from ``encrypted=``. The key is SHA-256 of
``secret_key`` if given, else of the API key.

Nothing exists until the person starts on the Liveform: :meth:`FakeArgos.submit` (or a ``GET /liveform``
with a link the backend built, :meth:`FakeArgos.open_liveform`) creates the submission, ``incomplete``.
``decide(submission_id, outcome)`` plays ARGOS's system or agents: ``approved``, ``rejected``, ``pending``,
``incomplete``, ``retry`` (a failed attempt, the person must try again) or any other string (sent as is).

The modules: :mod:`.specimens` (vocabulary and specimen data), :mod:`.cipher`, :mod:`.state` (the project and
the answers every endpoint shares), :mod:`.office` (the person and ARGOS's back office), :mod:`.api` (the
endpoints). Command line (the demo; open the Liveform link the example project shows, it points here)::

    python -m django_kyc.testing argos --port 8105 --option api_key=argos-demo-key \\
        --option project_id=demo-project --option webhook_url=http://127.0.0.1:8000/kyc/webhooks/argos/ \\
        --auto-decide approved
"""

from __future__ import annotations

from django_kyc.testing.argos.api import FakeArgos, urlencode_query
from django_kyc.testing.argos.cipher import decrypt, encrypt
from django_kyc.testing.argos.specimens import (
    MONITOR_ANSWERS,
    QUERY_PARAMETERS,
    REPORT_PDF,
    REQUEST_TYPES,
    SPECIMEN,
    TRIGGER_FOR,
    UNKNOWN_RESULT,
    stamp,
)

SERVER = FakeArgos

__all__ = [
    "MONITOR_ANSWERS",
    "QUERY_PARAMETERS",
    "REPORT_PDF",
    "REQUEST_TYPES",
    "SERVER",
    "SPECIMEN",
    "TRIGGER_FOR",
    "UNKNOWN_RESULT",
    "FakeArgos",
    "decrypt",
    "encrypt",
    "stamp",
    "urlencode_query",
]
