"""Settings for the benchmark site: gunicorn serves it, a ``qcluster`` works for it.

One Django project holds all the contenders (django_kyc's webhook view, the bare one-row view and
django-onfido's view) so they run under the same middleware, database settings and server. Production-like:
DEBUG off, persistent database connections, PostgreSQL. The broker comes from ``KYC_BENCH_BROKER``
(``orm`` or ``redis``) because django-q2 reads ``Q_CLUSTER`` once, at import.
"""

from __future__ import annotations

import os
from typing import Any

import environ

env = environ.Env()

SECRET_KEY = "django-kyc-bench-not-secret"
DEBUG = False
ALLOWED_HOSTS = ["127.0.0.1", "localhost"]
USE_TZ = True
TIME_ZONE = "UTC"
ROOT_URLCONF = "bench.urls"
WSGI_APPLICATION = "bench.wsgi.application"
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

INSTALLED_APPS = [
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "rest_framework",
    "django_q",
    "django_kyc",
    "onfido",
    "bench.bareapp",
    "bench.probe",
]
MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
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

DATABASES: dict[str, dict[str, Any]] = {
    "default": env.db("KYC_BENCH_DATABASE_URL", default="postgres://postgres@127.0.0.1:5432/kyc_bench")
}
DATABASES["default"]["CONN_MAX_AGE"] = 60
# As the README recommends without a transaction-mode pooler: psycopg prepares a statement once it has run this
# many times on a cursor that binds on the server, which only django_kyc's inbox INSERT uses (every ORM query,
# the bare view's included, binds on the client). Django's default, None, prepares nothing; "none" restores it.
_prepare = env.str("KYC_BENCH_PREPARE_THRESHOLD", default="5")
DATABASES["default"]["OPTIONS"] = {"prepare_threshold": None if _prepare.lower() == "none" else int(_prepare)}

REDIS_URL = env.str("KYC_BENCH_REDIS_URL", default="redis://127.0.0.1:6379/14")
Q_CLUSTER: dict[str, Any] = {
    "name": "kyc-bench",
    "workers": env.int("KYC_BENCH_WORKERS", default=2),
    "timeout": 60,
    "retry": 90,
    "max_attempts": 1,
    "ack_failures": True,
    "catch_up": False,
    "save_limit": env.int("KYC_BENCH_SAVE_LIMIT", default=-1),  # as the README recommends
    "orm": "default",
    "poll": env.float("KYC_BENCH_POLL", default=0.2),
}
if os.environ.get("KYC_BENCH_BROKER", "orm") == "redis":
    del Q_CLUSTER["orm"], Q_CLUSTER["poll"]
    Q_CLUSTER["redis"] = REDIS_URL

DJANGO_KYC: dict[str, Any] = {
    "DEFAULT_BACKEND": "sandbox",
    "BACKENDS": {
        "sandbox": {
            "CLASS": "django_kyc.backends.sandbox.SandboxBackend",
            "OPTIONS": {"DECISION_DELAY": 0, "WEBHOOK_SECRET": "bench-sandbox-secret", "CAPTURE_PAGE": False},
        },
        "provide": {
            "CLASS": "django_kyc.backends.provide.ProvideBackend",
            "OPTIONS": {
                "TOKEN": "bench-token",
                "BASE_URL": env.str("KYC_BENCH_PROVIDE_URL", default="http://127.0.0.1:9/api/v1/"),
                "WEBHOOK_SECRET": "bench-provide-secret",
            },
        },
    },
    "ENCRYPTION_KEYS": ["YmVuY2gtZW5jcnlwdGlvbi1rZXktMzItYnl0ZXMhISE="],
    "BLIND_INDEX_KEY": "django-kyc-bench-blind-index-key",
}

# django-onfido, the peer: its webhook pulls the check from "the API", here a fake on loopback
ONFIDO_API_KEY = "bench-onfido-key"
ONFIDO_WEBHOOK_TOKEN = "bench-onfido-token"

LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "handlers": {"console": {"class": "logging.StreamHandler"}},
    "root": {"handlers": ["console"], "level": "ERROR"},
}
# W040: the API throttles' counts would live in each process's memory; the benchmarks call no throttled endpoint
SILENCED_SYSTEM_CHECKS = ["django_kyc.W001", "django_kyc.E007", "django_kyc.W040"]
