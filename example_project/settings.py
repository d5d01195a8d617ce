"""Settings of the demo site.

Everything that differs between machines comes from the environment (or an optional ``.env`` file at the
repository root; see ``.env.example`` for every variable). The defaults need nothing installed: SQLite,
django-q2's ORM broker and a database cache, with all runtime state under ``.demo/`` (git-ignored), so
``make demo`` works from a fresh clone. ``DATABASE_URL`` switches to PostgreSQL, ``REDIS_URL`` the broker and
the cache to Redis.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import environ
from django.core.exceptions import ImproperlyConfigured

import django_kyc

BASE_DIR = Path(__file__).resolve().parent.parent
#: Runtime state of the demo: database, uploaded documents, collected static files.
STATE_DIR = BASE_DIR / ".demo"
# SQLite cannot create its file in a missing directory, and this runs before any command does.
STATE_DIR.mkdir(exist_ok=True)

env = environ.Env()
if (BASE_DIR / ".env").is_file():
    environ.Env.read_env(BASE_DIR / ".env")

INSECURE_KEY = "django-insecure-demo-key-for-the-example-project-only"
DEBUG = env.bool("DEBUG", default=True)
SECRET_KEY = env.str("SECRET_KEY", default=INSECURE_KEY)
if not DEBUG and SECRET_KEY == INSECURE_KEY:
    raise ImproperlyConfigured("Set SECRET_KEY when DEBUG is off; the built-in key is public.")
ALLOWED_HOSTS = env.list("ALLOWED_HOSTS", default=["127.0.0.1", "localhost"])

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
    "example_project.onboarding",
]
MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    # after sessions, before common: the language comes from the set_language cookie or Accept-Language
    "django.middleware.locale.LocaleMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
]
ROOT_URLCONF = "example_project.urls"
WSGI_APPLICATION = "example_project.wsgi.application"
TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [],
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

# --- database ------------------------------------------------------------------------------------------
DATABASES: dict[str, dict[str, Any]] = {
    "default": env.db("DATABASE_URL", default=f"sqlite:///{STATE_DIR / 'db.sqlite3'}")
}
if DATABASES["default"]["ENGINE"].endswith("sqlite3"):
    # runserver and the qcluster workers (separate processes) write to the same file. WAL lets readers
    # and the writer work at once, IMMEDIATE takes the write lock when a transaction starts (so it waits
    # for the busy timeout instead of failing on a lock upgrade), and 30 s covers a slow writer.
    DATABASES["default"]["OPTIONS"] = {
        "timeout": 30,
        "transaction_mode": "IMMEDIATE",
        "init_command": "PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL",
    }
else:
    DATABASES["default"]["CONN_MAX_AGE"] = 60
    DATABASES["default"]["CONN_HEALTH_CHECKS"] = True
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

# --- cache ---------------------------------------------------------------------------------------------
# One store shared by every process: django_kyc's API throttles count a user's writes here, and a per-process
# cache (Django's default LocMemCache) would let each web worker count on its own (system check W040).
# Redis when REDIS_URL is set, otherwise a table in the database (`manage.py createcachetable`; `make demo`
# runs it).
REDIS_URL = env.str("REDIS_URL", default="")
CACHES: dict[str, dict[str, Any]] = {
    "default": (
        {"BACKEND": "django.core.cache.backends.redis.RedisCache", "LOCATION": REDIS_URL}
        if REDIS_URL
        else {"BACKEND": "django.core.cache.backends.db.DatabaseCache", "LOCATION": "django_kyc_demo_cache"}
    )
}

# --- auth ----------------------------------------------------------------------------------------------
LOGIN_URL = "onboarding:login"
LOGIN_REDIRECT_URL = "onboarding:index"
LOGOUT_REDIRECT_URL = "onboarding:login"
AUTH_PASSWORD_VALIDATORS: list[dict[str, str]] = []  # the demo accounts use "admin" and "demo"

# --- i18n, static --------------------------------------------------------------------------------------
LANGUAGE_CODE = "en"
# the languages django_kyc ships translations for; LocaleMiddleware picks one per request, and
# POST /i18n/setlang/ (Django's set_language view) lets a visitor choose
LANGUAGES = [("en", "English"), ("de", "Deutsch"), ("es", "Español")]
TIME_ZONE = "UTC"
USE_I18N = True
USE_TZ = True  # stored in UTC; shown in TIME_ZONE with the active language's date and number formats
STATIC_URL = "static/"
STATIC_ROOT = STATE_DIR / "static"

# --- uploads -------------------------------------------------------------------------------------------
# A KYC upload is one or two images; django_kyc enforces the per-file size limit (MAX_UPLOAD_BYTES).
DATA_UPLOAD_MAX_NUMBER_FILES = 5

# --- django REST framework -----------------------------------------------------------------------------
# The onboarding page calls the API from the same origin, so the session cookie (with the CSRF header)
# is the only authentication the demo needs.
REST_FRAMEWORK = {
    "DEFAULT_AUTHENTICATION_CLASSES": ["rest_framework.authentication.SessionAuthentication"],
}

# --- django-q2 -----------------------------------------------------------------------------------------
# timeout < retry so a running task is never handed out twice; max_attempts=1 + ack_failures because
# django_kyc keeps its own retry state (attempts, next_attempt_at) and its sweeper re-enqueues due work.
Q_CLUSTER: dict[str, Any] = {
    "name": "django_kyc_demo",
    "workers": 2,
    # above the slowest provider call (PassportReader asks for 60 s reads; system check django_kyc.W004)
    "timeout": 150,
    "retry": 180,
    "max_attempts": 1,
    "ack_failures": True,
    "catch_up": False,
    "save_limit": -1,  # outcomes live on django_kyc's rows; failures are still stored
    "orm": "default",
    "poll": 0.5,
}
if REDIS_URL:
    del Q_CLUSTER["orm"], Q_CLUSTER["poll"]
    Q_CLUSTER["redis"] = REDIS_URL

# --- django-kyc ----------------------------------------------------------------------------------------
SANDBOX_CLASS = "django_kyc.backends.sandbox.SandboxBackend"
# DEVELOPMENT ONLY: keys published in this repository, for the demo's made-up applicants. They are used only
# while DEBUG is on and KYC_ENCRYPTION_KEYS / KYC_BLIND_INDEX_KEY are unset; never copy them to a real site
# (README, "Add it to an existing site", shows how to generate your own).
DEV_ENCRYPTION_KEY = "BaoNXnqeAn53bbVxxhQPIXVvT-nqPoljGVK6uU8_H_c="
DEV_BLIND_INDEX_KEY = "zuthE78xekRS8Jy6BUU3tfcRccd-vN7IeOt3k5le5ZCzeWZPd0-mwfZWmODnD28L"


def sandbox_options(alias: str, **extra: Any) -> dict[str, Any]:
    """Options shared by both sandbox aliases; each alias still signs and is addressed separately."""
    options: dict[str, Any] = {
        "DECISION_DELAY": env.float("SANDBOX_DECISION_DELAY", default=3.0),
        "PUBLIC_BASE_URL": env.str("SANDBOX_PUBLIC_BASE_URL", default=""),
        **extra,
    }
    secrets = env.list("SANDBOX_WEBHOOK_SECRETS", default=[])
    if secrets:
        options["WEBHOOK_SECRET"] = secrets  # newest first; older ones keep verifying during a rotation
    webhook_base = env.str("SANDBOX_WEBHOOK_BASE_URL", default="").rstrip("/")
    if webhook_base:
        # Deliver decisions over real HTTP to this site's webhook endpoint instead of in process.
        options["WEBHOOK_URL"] = f"{webhook_base}/kyc/webhooks/{alias}/"
    return options


SANCTIONS_SAMPLES = Path(django_kyc.__file__).resolve().parent / "sanctions" / "samples"
SANCTIONS_SAMPLE_FILES = {
    "ofac_sdn": ("SDN.CSV", "ALT.CSV", "ADD.CSV", "SDN_COMMENTS.CSV"),
    "ofac_cons": ("CONS_PRIM.CSV", "CONS_ALT.CSV", "CONS_ADD.CSV", "CONS_COMMENTS.CSV"),
    "un_sc": ("consolidated.xml",),
    "eu_fsf": ("xmlFullSanctionsList_1_1.xml",),
    "uk_sl": ("UK-Sanctions-List.xml",),
}

DJANGO_KYC: dict[str, Any] = {
    "DEFAULT_BACKEND": "sandbox",
    "BACKENDS": {
        "sandbox": {"CLASS": SANDBOX_CLASS, "OPTIONS": sandbox_options("sandbox")},
        "sandbox_hosted": {
            "CLASS": SANDBOX_CLASS,
            "OPTIONS": sandbox_options("sandbox_hosted", HOSTED_FLOW=True),
        },
        # Sanctions screening against the official lists in this database (load them: manage.py
        # kyc_load_lists); person screenings started without a backend go here (AML_BACKEND).
        "lists": {"CLASS": "django_kyc.backends.lists.ListsBackend"},
    },
    "AML_BACKEND": env.str("KYC_AML_BACKEND", default="lists"),
    # Identity documents never go under MEDIA_ROOT: only the permission-checked admin view serves them.
    "DOCUMENT_STORAGE_LOCATION": str(STATE_DIR / "private" / "kyc-documents"),
    # Field and file encryption: KYC_ENCRYPTION_KEYS / KYC_BLIND_INDEX_KEY, or with DEBUG on the demo's own
    # development keys below (so its output is not three copies of warnings W020/W021). With DEBUG off and
    # no keys set, the system checks refuse to start (E020/E021).
    "ENCRYPTION_KEYS": env.list("KYC_ENCRYPTION_KEYS", default=[DEV_ENCRYPTION_KEY] if DEBUG else []),
    "BLIND_INDEX_KEY": env.str("KYC_BLIND_INDEX_KEY", default=DEV_BLIND_INDEX_KEY if DEBUG else ""),
    # Four-eyes: decisions on high-risk applicants become proposals a second reviewer confirms.
    "FOUR_EYES": env.bool("KYC_FOUR_EYES", default=True),
    # The official sanctions lists, from the small sample files in each authority's format that ship with
    # django_kyc (fictional names): the demo needs no network. KYC_OFFICIAL_SANCTIONS_LISTS=1 loads the real ones.
    "SANCTIONS_LISTS": (
        {"ofac_sdn": {}, "ofac_cons": {}, "un_sc": {}, "eu_fsf": {}, "uk_sl": {}}
        if env.bool("KYC_OFFICIAL_SANCTIONS_LISTS", default=False)
        else {
            source: {name: (SANCTIONS_SAMPLES / name).as_uri() for name in files}
            for source, files in SANCTIONS_SAMPLE_FILES.items()
        }
    ),
}

# --- real provider backends, switched on by their credentials ------------------------------------------
# Each block adds an alias when its credentials are set; KYC_DEFAULT_BACKEND picks the default. Point the
# BASE_URLs at a fake server (python -m django_kyc.testing <provider> --port N) to run the demo offline.
SITE_URL = env.str("SITE_URL", default="http://127.0.0.1:8000").rstrip("/")


def webhook_url(alias: str) -> str:
    return f"{SITE_URL}/kyc/webhooks/{alias}/"


if env.str("KYCAID_API_TOKEN", default=""):
    DJANGO_KYC["BACKENDS"]["kycaid"] = {
        "CLASS": "django_kyc.backends.kycaid.KycaidBackend",
        "OPTIONS": {
            "API_TOKEN": env.str("KYCAID_API_TOKEN"),
            "FORM_ID": env.str("KYCAID_FORM_ID", default="demo-form"),
            "BASE_URL": env.str("KYCAID_BASE_URL", default="https://api.kycaid.com/"),
            "CALLBACK_URL": webhook_url("kycaid"),
            "MODE": env.str("KYCAID_MODE", default="api"),  # or "form" for KYCAID's hosted form
            "REDIRECT_URL": env.str("KYCAID_REDIRECT_URL", default=f"{SITE_URL}/"),
            "WEBHOOK_TOKENS": env.list("KYCAID_WEBHOOK_TOKENS", default=[]),
            "DECLINE_POLICY": env.str("KYCAID_DECLINE_POLICY", default="resubmit_quality"),
        },
    }
if env.str("PROVIDE_TOKEN", default=""):
    DJANGO_KYC["BACKENDS"]["provide"] = {
        "CLASS": "django_kyc.backends.provide.ProvideBackend",
        "OPTIONS": {
            "TOKEN": env.str("PROVIDE_TOKEN"),
            "BASE_URL": env.str("PROVIDE_BASE_URL", default="https://ident.provide.services/api/v1/"),
            "PROVIDER": env.str("PROVIDE_PROVIDER", default="vouched"),
            "WEBHOOK_URL": webhook_url("provide"),
            "WEBHOOK_SECRET": env.list("PROVIDE_WEBHOOK_SECRET", default=[]),
            "PUSH_DECISIONS": env.bool("PROVIDE_PUSH_DECISIONS", default=True),
        },
    }
if env.str("PASSPORTREADER_PUBLIC_KEY", default=""):
    DJANGO_KYC["BACKENDS"]["passportreader"] = {
        "CLASS": "django_kyc.backends.passportreader.PassportReaderBackend",
        "OPTIONS": {
            "PUBLIC_KEY": env.str("PASSPORTREADER_PUBLIC_KEY"),
            "SECRET": env.str("PASSPORTREADER_SECRET", default=""),
            "BASE_URL": env.str("PASSPORTREADER_BASE_URL", default="https://passportreader.app/api/v1/"),
            "CALLBACK_URL": webhook_url("passportreader"),
            "REDIRECT_URL": env.str("PASSPORTREADER_REDIRECT_URL", default=f"{SITE_URL}/"),
            "FACE_VERIFICATION": env.bool("PASSPORTREADER_FACE_VERIFICATION", default=True),
        },
    }
if env.str("ALLPASS_PRIVATE_APP_KEY", default=""):
    DJANGO_KYC["BACKENDS"]["allpass"] = {
        "CLASS": "django_kyc.backends.allpass.AllpassBackend",
        "OPTIONS": {
            "PRIVATE_APP_KEY": env.str("ALLPASS_PRIVATE_APP_KEY"),
            "BASE_URL": env.str("ALLPASS_BASE_URL"),  # Allpass does not publish its production host
            "FLOW_NAME": env.str("ALLPASS_FLOW_NAME", default="basic-kyc"),
            "WEBHOOK_MODE": env.str("ALLPASS_WEBHOOK_MODE", default="cbc-hmac"),
            "CRYPTO_KEY": env.list("ALLPASS_CRYPTO_KEY", default=[]),
            "HMAC_KEY": env.list("ALLPASS_HMAC_KEY", default=[]),
        },
    }
if env.str("ARGOS_API_KEY", default=""):
    DJANGO_KYC["BACKENDS"]["argos"] = {
        "CLASS": "django_kyc.backends.argos.ArgosBackend",
        "OPTIONS": {
            "API_KEY": env.str("ARGOS_API_KEY"),
            "PROJECT_ID": env.str("ARGOS_PROJECT_ID", default="demo-project"),
            "BASE_URL": env.str("ARGOS_BASE_URL", default="https://rest-api.argosidentity.com/v3"),
            "LIVEFORM_URL": env.str("ARGOS_LIVEFORM_URL", default="https://form.argosidentity.com/"),
            "ALLOWED_IPS": env.list("ARGOS_ALLOWED_IPS", default=["52.78.194.237"]),
        },
    }
if env.str("ONFIDO_API_TOKEN", default=""):
    DJANGO_KYC["BACKENDS"]["onfido"] = {
        "CLASS": "django_kyc.backends.onfido.OnfidoBackend",
        "OPTIONS": {
            "API_TOKEN": env.str("ONFIDO_API_TOKEN"),
            "REGION": env.str("ONFIDO_REGION", default="eu"),  # the API host: api.<region>.onfido.com
            "BASE_URL": env.str("ONFIDO_BASE_URL", default=""),  # a fake server instead of the region's host
            "WEBHOOK_TOKENS": env.list("ONFIDO_WEBHOOK_TOKENS", default=[]),
            "MODE": env.str("ONFIDO_MODE", default="workflow"),  # or "sdk", or "api" (our documents)
            "WORKFLOW_ID": env.str("ONFIDO_WORKFLOW_ID", default="demo-workflow"),
            "COMPLETED_REDIRECT_URL": env.str("ONFIDO_COMPLETED_REDIRECT_URL", default=f"{SITE_URL}/"),
        },
    }
if env.str("STRIPE_IDENTITY_SECRET_KEY", default=""):
    DJANGO_KYC["BACKENDS"]["stripe_identity"] = {
        "CLASS": "django_kyc.backends.stripe_identity.StripeIdentityBackend",
        "OPTIONS": {
            "SECRET_KEY": env.str("STRIPE_IDENTITY_SECRET_KEY"),
            "WEBHOOK_SECRETS": env.list("STRIPE_IDENTITY_WEBHOOK_SECRETS", default=[]),
            "BASE_URL": env.str("STRIPE_IDENTITY_BASE_URL", default="https://api.stripe.com"),
            "RETURN_URL": env.str("STRIPE_IDENTITY_RETURN_URL", default=f"{SITE_URL}/"),
            "REQUIRE_MATCHING_SELFIE": env.bool("STRIPE_IDENTITY_REQUIRE_MATCHING_SELFIE", default=True),
        },
    }
if env.str("SUMSUB_APP_TOKEN", default=""):
    DJANGO_KYC["BACKENDS"]["sumsub"] = {
        "CLASS": "django_kyc.backends.sumsub.SumsubBackend",
        "OPTIONS": {
            "APP_TOKEN": env.str("SUMSUB_APP_TOKEN"),
            "SECRET_KEY": env.str("SUMSUB_SECRET_KEY"),
            # the webhook's secret key from Sumsub's Webhook manager; newest first during a rotation
            "WEBHOOK_SECRETS": env.list("SUMSUB_WEBHOOK_SECRETS"),
            "LEVEL_NAME": env.str("SUMSUB_LEVEL_NAME", default="basic-kyc-level"),
            "BASE_URL": env.str("SUMSUB_BASE_URL", default="https://api.sumsub.com"),
            "MODE": env.str("SUMSUB_MODE", default="sdk"),  # or "api": our uploaded documents
            "PUSH_DECISIONS": env.bool("SUMSUB_PUSH_DECISIONS", default=False),
        },
    }
if env.str("PERSONA_API_KEY", default=""):
    DJANGO_KYC["BACKENDS"]["persona"] = {
        "CLASS": "django_kyc.backends.persona.PersonaBackend",
        "OPTIONS": {
            "API_KEY": env.str("PERSONA_API_KEY"),
            "TEMPLATE_ID": env.str("PERSONA_TEMPLATE_ID"),
            # the webhook's secret(s) from Persona's Dashboard; newest first during a rotation
            "WEBHOOK_SECRETS": env.list("PERSONA_WEBHOOK_SECRETS", default=[]),
            "BASE_URL": env.str("PERSONA_BASE_URL", default="https://api.withpersona.com/api/v1"),
        },
    }
if env.str("VERIFF_API_KEY", default=""):
    DJANGO_KYC["BACKENDS"]["veriff"] = {
        "CLASS": "django_kyc.backends.veriff.VeriffBackend",
        "OPTIONS": {
            "API_KEY": env.str("VERIFF_API_KEY"),
            # the integration's shared secret key; during a rotation list both, the one Veriff holds now first
            "SHARED_SECRETS": env.list("VERIFF_SHARED_SECRETS"),
            # the integration's "Base URL" from Veriff's Customer Portal
            "BASE_URL": env.str("VERIFF_BASE_URL", default="https://stationapi.veriff.com"),
            "MODE": env.str("VERIFF_MODE", default="hosted"),  # or "api": our uploaded documents as media
            "CALLBACK_URL": env.str("VERIFF_CALLBACK_URL", default=f"{SITE_URL}/"),
        },
    }
DJANGO_KYC["DEFAULT_BACKEND"] = env.str("KYC_DEFAULT_BACKEND", default="sandbox")
# the demo's onboarding page offers every configured backend; a real site usually leaves this unset
DJANGO_KYC["USER_SELECTABLE_BACKENDS"] = list(DJANGO_KYC["BACKENDS"])
# yente screens people (AML) only: it is not offered for verifications. Run one with yente's docker-compose.yml,
# or a fake for the demo (python -m django_kyc.testing yente --port 8120, YENTE_URL=http://127.0.0.1:8120).
# OpenSanctions' data is CC BY-NC 4.0: a business needs a data licence (docs/providers/yente.md).
if env.str("YENTE_URL", default=""):
    DJANGO_KYC["BACKENDS"]["yente"] = {
        "CLASS": "django_kyc.backends.yente.YenteBackend",
        "OPTIONS": {
            "BASE_URL": env.str("YENTE_URL"),
            "API_KEY": env.str("YENTE_API_KEY", default=""),  # OpenSanctions' hosted API only
            "DATASET": env.str("YENTE_DATASET", default="default"),
        },
    }

# --- logging -------------------------------------------------------------------------------------------
# django_kyc's loggers at INFO show the pipeline (retries, webhooks) in the runserver and qcluster output.
LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "formatters": {"short": {"format": "%(asctime)s %(levelname)s %(name)s: %(message)s"}},
    "handlers": {"console": {"class": "logging.StreamHandler", "formatter": "short"}},
    "loggers": {
        "django_kyc": {"handlers": ["console"], "level": env.str("KYC_LOG_LEVEL", default="INFO")},
    },
}
