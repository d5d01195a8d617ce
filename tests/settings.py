"""Settings for the test suite.

``DATABASE_URL`` selects the database (SQLite file by default; PostgreSQL in CI). A real ``qcluster``
subprocess started by the pipeline tests reads the same module with ``KYC_TEST_DB_NAME`` pointing at the
test database and ``KYC_Q_*`` choosing the broker, because django-q2 reads ``Q_CLUSTER`` once at import.
"""

from __future__ import annotations

import json
import os
import tempfile
from pathlib import Path

import environ

from tests.support.services import REDIS_URL

env = environ.Env()
BASE_DIR = Path(__file__).resolve().parent.parent

SECRET_KEY = "django-kyc-tests-not-secret"
DEBUG = False
ALLOWED_HOSTS = ["*"]
USE_TZ = True
LANGUAGE_CODE = "en"
#: English and the translations django_kyc ships; a client's Accept-Language picks one (LocaleMiddleware)
LANGUAGES = [("en", "English"), ("de", "Deutsch"), ("es", "Español")]
ROOT_URLCONF = "tests.urls"
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

INSTALLED_APPS = [
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "django.contrib.staticfiles",
    "rest_framework",
    "django_q",
    "django_kyc",
    "example_project.onboarding",  # the demo frontend, driven by the browser tests
]
LOGIN_URL = "onboarding:login"
LOGIN_REDIRECT_URL = "onboarding:index"
MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.locale.LocaleMiddleware",  # tests/test_i18n.py asks for de and es with Accept-Language
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
]
TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.request",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
            ]
        },
    }
]
STATIC_URL = "/static/"

# one file per test run (a qcluster subprocess is handed the name through KYC_TEST_DB_NAME), so runs in
# parallel never share a database
_sqlite_file = Path(tempfile.gettempdir()) / f"django-kyc-test-{os.getpid()}.sqlite3"
DATABASES = {"default": env.db("DATABASE_URL", default=f"sqlite:///{BASE_DIR / '.db.sqlite3'}")}
if DATABASES["default"]["ENGINE"].endswith("sqlite3"):
    # a file, not :memory:, so a qcluster subprocess can share the test database
    DATABASES["default"]["TEST"] = {"NAME": str(_sqlite_file)}
    DATABASES["default"]["OPTIONS"] = {"timeout": 30, "transaction_mode": "IMMEDIATE"}
else:
    DATABASES["default"]["CONN_MAX_AGE"] = 0
    # as the README recommends without a transaction-mode pooler: the inbox INSERT is prepared on the server
    # (tests/test_db.py covers Django's default, None, too)
    DATABASES["default"]["OPTIONS"] = {"prepare_threshold": 5}
if os.environ.get("KYC_TEST_DB_NAME"):
    DATABASES["default"]["NAME"] = os.environ["KYC_TEST_DB_NAME"]

CACHES = {
    "default": {"BACKEND": "django.core.cache.backends.locmem.LocMemCache"},
    # the providers' client-side budgets, apart, so that every test starts with full ones (tests/conftest.py)
    "provider-rate-limits": {"BACKEND": "django.core.cache.backends.locmem.LocMemCache", "LOCATION": "rates"},
}
PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]

Q_CLUSTER: dict[str, object] = {
    "name": os.environ.get("KYC_Q_NAME", "kyc-tests"),
    "workers": 2,
    "timeout": 40,
    "retry": 60,
    "max_attempts": 1,
    "ack_failures": True,
    "catch_up": False,
    "poll": 0.1,
    "sync": os.environ.get("KYC_Q_SYNC", "1") == "1",
    "save_limit": 100,
    "orm": "default",
}
if os.environ.get("KYC_Q_BROKER") == "redis":
    del Q_CLUSTER["orm"]
    Q_CLUSTER["redis"] = REDIS_URL

# one document directory per test process, handed to its qcluster subprocesses through the environment; each
# pytest-xdist worker (make test-fast) has its own, since tests compare the files stored before and after
_xdist_worker = os.environ.get("PYTEST_XDIST_WORKER", "")
_storage_variable = f"KYC_TEST_STORAGE_{_xdist_worker}" if _xdist_worker else "KYC_TEST_STORAGE"
_storage = Path(os.environ.get(_storage_variable) or tempfile.mkdtemp(prefix="kyc-test-docs-"))
os.environ.setdefault(_storage_variable, str(_storage))

DJANGO_KYC = {
    "DEFAULT_BACKEND": "sandbox",
    "BACKENDS": {
        "sandbox": {
            "CLASS": "django_kyc.backends.sandbox.SandboxBackend",
            "OPTIONS": {"DECISION_DELAY": 0, "WEBHOOK_SECRET": ["sandbox-test-secret", "sandbox-old-secret"]},
        },
        "hosted": {
            "CLASS": "django_kyc.backends.sandbox.SandboxBackend",
            "OPTIONS": {
                "DECISION_DELAY": 0,
                "HOSTED_FLOW": True,
                "WEBHOOK_SECRET": "hosted-test-secret",
                "CAPTURE_PAGE": True,  # DEBUG is off in tests
            },
        },
    },
    "DOCUMENT_STORAGE_LOCATION": str(_storage),
    "USER_SELECTABLE_BACKENDS": ["sandbox", "hosted"],
    "RETRY_BASE_SECONDS": 2,
    "HTTP_READ_TIMEOUT": 10,
    "API_THROTTLE_RATES": {"kyc_write": "1000/hour", "kyc_upload": "1000/hour"},
    "PROVIDER_RATE_LIMIT_CACHE": "provider-rate-limits",
    # test-only keys (never use these anywhere else); tests/test_crypto.py rotates them with override_settings
    "ENCRYPTION_KEYS": ["S2tUL5J8oMZ1xJkqVbO0b3mZlT1CqW9x6yX2m1s7YtA="],
    "BLIND_INDEX_KEY": "django-kyc-tests-blind-index-key-not-secret",
}

# A test that runs qcluster with its own backends or timings (tests/resilience/test_worker_crash.py) hands
# them to the subprocess as JSON merged over the dicts above (BACKENDS entries are added, not replaced):
# the subprocess cannot see the test's override_settings.
if os.environ.get("KYC_TEST_DJANGO_KYC"):
    _extra = json.loads(os.environ["KYC_TEST_DJANGO_KYC"])
    DJANGO_KYC = {**DJANGO_KYC, **_extra, "BACKENDS": {**DJANGO_KYC["BACKENDS"], **_extra.get("BACKENDS", {})}}
if os.environ.get("KYC_TEST_Q_CLUSTER"):
    Q_CLUSTER.update(json.loads(os.environ["KYC_TEST_Q_CLUSTER"]))

LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "handlers": {"console": {"class": "logging.StreamHandler"}},
    "loggers": {"django_kyc": {"handlers": ["console"], "level": os.environ.get("KYC_LOG_LEVEL", "WARNING")}},
}
SILENCED_SYSTEM_CHECKS = [
    "django_kyc.E007",  # the suite uses the sandbox on purpose, with DEBUG off
    # the suite serves the API from one process, so a LocMemCache counts every write; the shared limit across
    # processes is tested on the example project's cache (tests/api/test_throttle_across_processes.py)
    "django_kyc.W040",
]
