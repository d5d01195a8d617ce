"""Django settings for ``bench.bulk``: the test suite's settings plus the two things the benchmark varies.

The benchmark runs each management command in a child process (``python -m django <command>``), and a
child can only be configured through its environment, so everything it needs is read from there:

* ``DATABASE_URL`` / ``KYC_TEST_DB_NAME`` / ``KYC_TEST_STORAGE`` — read by :mod:`tests.settings` itself
  (the throwaway benchmark database and document directory);
* ``KYC_BENCH_ENCRYPTION_KEYS`` — a comma-separated ``ENCRYPTION_KEYS`` list, newest first, so the key
  rotation child can run with a new key in front of the one the rows were seeded under;
* ``KYC_BENCH_ARGOS_URL`` — the loopback fake ARGOS API, registered as backend ``argos``: reconciliation
  needs a provider that can list its submissions, and ARGOS is the one that can.

Everything else is exactly :mod:`tests.settings`, so the commands run with the configuration the test
suite exercises.
"""

from __future__ import annotations

import os
from typing import Any, cast

from bench.bulk_argos import ARGOS_ALIAS, ARGOS_API_KEY, ARGOS_PROJECT_ID
from tests.settings import *  # noqa: F403 - this module *is* tests.settings plus a few overrides
from tests.settings import DJANGO_KYC as _SUITE_KYC

DJANGO_KYC = dict(cast(dict[str, Any], _SUITE_KYC))

_keys = os.environ.get("KYC_BENCH_ENCRYPTION_KEYS", "").strip()
if _keys:
    DJANGO_KYC["ENCRYPTION_KEYS"] = [key.strip() for key in _keys.split(",") if key.strip()]

_argos_url = os.environ.get("KYC_BENCH_ARGOS_URL", "").strip().rstrip("/")
if _argos_url:
    DJANGO_KYC["BACKENDS"] = {
        **cast(dict[str, Any], _SUITE_KYC["BACKENDS"]),
        ARGOS_ALIAS: {
            "CLASS": "django_kyc.backends.argos.ArgosBackend",
            "OPTIONS": {
                "API_KEY": ARGOS_API_KEY,
                "PROJECT_ID": ARGOS_PROJECT_ID,
                "BASE_URL": f"{_argos_url}/v3",
                "LIVEFORM_URL": f"{_argos_url}/liveform",
                "ALLOWED_IPS": ["127.0.0.1"],
            },
        },
    }
