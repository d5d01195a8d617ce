"""One lazy settings object over ``settings.DJANGO_KYC``.

Every read goes through :data:`kyc_settings`, which looks the value up on each access, so
``override_settings(DJANGO_KYC=...)`` works in tests and nothing is read at import time.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import timedelta
from typing import Any

from django.conf import settings

DEFAULTS: dict[str, Any] = {
    # Which backend new verifications use, and every configured backend by alias.
    "DEFAULT_BACKEND": "sandbox",
    "BACKENDS": {
        "sandbox": {"CLASS": "django_kyc.backends.sandbox.SandboxBackend", "OPTIONS": {}},
    },
    # Provider calls made by submission and polling tasks.
    "MAX_ATTEMPTS": 6,
    # An AML screening still running at the provider after this long ends in error (visible, retryable).
    "AML_RUNNING_TIMEOUT_SECONDS": 24 * 3600,
    "RETRY_BASE_SECONDS": 2.0,
    "RETRY_MAX_SECONDS": 900.0,
    "HTTP_CONNECT_TIMEOUT": 5.0,
    "HTTP_READ_TIMEOUT": 30.0,
    # Added to the longest a provider call may take (connect + read timeout) to make the lease of a claimed
    # attempt: the sweeper leaves the attempt alone until it runs out, then retries it (its worker died).
    "LEASE_MARGIN_SECONDS": 60.0,
    # Webhook processing.
    "WEBHOOK_MAX_BYTES": 1024 * 1024,
    "WEBHOOK_MAX_ATTEMPTS": 8,
    "WEBHOOK_HEADER_ALLOWLIST": ["content-type", "user-agent", "x-request-id"],
    # The inbox drain (docs/architecture.md): received events claimed per batch (small, so that drains in
    # other workers find work beside it and no event waits long behind its batch); how often a web process
    # wakes a drain at most, and how long a drain it woke keeps looking after it starts; how long one drain
    # task runs at most before it hands the rest to a fresh task (so other tasks get a worker under a long
    # backlog).
    "WEBHOOK_DRAIN_BATCH_SIZE": 10,
    "WEBHOOK_DRAIN_LINGER_SECONDS": 0.5,
    "WEBHOOK_DRAIN_MAX_SECONDS": 30.0,
    # Polling of verifications whose webhook never came.
    "POLL_AFTER_SECONDS": 15 * 60,
    "POLL_INTERVAL_SECONDS": 15 * 60,
    "POLL_BATCH_SIZE": 100,
    # django-q2 schedules: the sweeper re-enqueues due retries and polls stale verifications.
    "INSTALL_SCHEDULES_ON_MIGRATE": True,
    "SWEEP_EVERY_MINUTES": 1,
    # New work (a verification, a stored webhook event, an AML check) is left to its own on-commit enqueue
    # for this long; after that the sweeper enqueues it again (the enqueue was lost, or the worker died
    # before it ran).
    "SWEEP_GRACE_SECONDS": 60.0,
    # Each run of the sweeper is recorded (a heartbeat). When the last one is older than this, the review queue,
    # the dashboard and `manage.py kyc_health` say the background worker is not running. None: five sweeper
    # intervals (5 x SWEEP_EVERY_MINUTES minutes), which leaves room for django-q2's 30 s scheduler tick.
    "HEALTH_STALE_AFTER_SECONDS": None,
    # Uploads.
    "MAX_UPLOAD_BYTES": 10 * 1024 * 1024,
    "ALLOWED_UPLOAD_TYPES": ["image/jpeg", "image/png", "image/webp", "application/pdf"],
    # Declared image size (read from the header, nothing decoded) and PDF page count, checked at upload;
    # an upload over a limit is a 400 that names it. None turns a limit off.
    "MAX_IMAGE_DIMENSION": 12_000,  # pixels on the longer side
    "MAX_IMAGE_PIXELS": 50_000_000,  # width * height
    "MAX_PDF_PAGES": 20,
    # Document files are encrypted with ENCRYPTION_KEYS on whatever storage this factory returns (a dotted
    # path or a callable returning a Django Storage, e.g. the site's S3 storage): it only ever gets ciphertext.
    "DOCUMENT_STORAGE": "django_kyc.storage.default_document_storage",
    # The default storage's directory (files 0600, directories 0700; system check E050 tests that it can be
    # created and written). None: <BASE_DIR or cwd>/private/kyc-documents
    "DOCUMENT_STORAGE_LOCATION": None,
    # API.
    "API_AUTHENTICATION_CLASSES": None,  # None: the project's REST_FRAMEWORK default
    "API_PAGE_SIZE": 25,
    # Backend aliases an applicant may choose when starting a verification (None: only DEFAULT_BACKEND).
    "USER_SELECTABLE_BACKENDS": None,
    "API_THROTTLE_RATES": {"kyc_write": "60/hour", "kyc_upload": "30/hour"},
    # The cache alias (a key of settings.CACHES) that holds the throttles' request history. Every process that
    # serves the API must share it (Redis, Memcached, the database): in a per-process cache (LocMemCache) each
    # web worker counts on its own, so N workers allow N times the rate (system check W040).
    "API_THROTTLE_CACHE": "default",
    # Providers' published rate limits (a backend's ``rate_limits``) are counted in this cache alias, which all
    # workers using the same credentials must share (system check W042), and a call over budget waits at most
    # PROVIDER_RATE_LIMIT_MAX_WAIT seconds for room before its task is retried later instead.
    "PROVIDER_RATE_LIMIT_CACHE": "default",
    "PROVIDER_RATE_LIMIT_MAX_WAIT": 5.0,
    # Reviewer reason codes added to the built-in catalogue: {"CODE": "Label"}.
    "REASON_CODES": {},
    # Provider reason codes mapped onto the catalogue, over the built-in map: {"PROVIDER_CODE": "CATALOGUE_CODE"}.
    "PROVIDER_REASON_MAP": {},
    # Four-eyes review (docs/review.md). Off by default: when True, a decision on a high-risk applicant is
    # recorded as a proposal that a second reviewer with ``approve_high_risk`` must confirm. An applicant is
    # high-risk when its risk level is in FOUR_EYES_RISK_LEVELS, when it has an AML hit (open or confirmed) with
    # a topic in FOUR_EYES_AML_TOPICS ("role.pep" matches "pep"), or when FOUR_EYES_RULE, a dotted path to a
    # callable ``rule(applicant) -> bool | str``, returns something truthy (a string names the rule).
    "FOUR_EYES": False,
    "FOUR_EYES_RISK_LEVELS": ["high", "prohibited"],
    "FOUR_EYES_AML_TOPICS": ["sanction", "pep"],
    "FOUR_EYES_RULE": None,
    # Review dashboard: how many days the charts cover by default.
    "DASHBOARD_DAYS": 30,
    # Field-level encryption (docs/encryption.md). Fernet keys, newest first: values are encrypted with the
    # first and decrypted with whichever matches. Required when DEBUG is False (system check E020); with DEBUG
    # on and no keys, a development key derived from SECRET_KEY is used (warning W020).
    "ENCRYPTION_KEYS": [],
    # HMAC key (at least 32 characters, not one of ENCRYPTION_KEYS) for blind indexes: exact lookups of
    # encrypted identifiers such as document numbers. Same DEBUG rules (E021 / W021).
    "BLIND_INDEX_KEY": "",
    # Retention and erasure (docs/retention.md). CDD records are kept this many years after the relationship
    # ends (FATF R.11, EU AMLD Art. 40: at least 5); while it lasts, nothing is purged.
    "RETENTION_YEARS": 5,
    # Longer (or shorter) periods by the applicant's country of residence, e.g. {"ES": 10}.
    "RETENTION_YEARS_BY_COUNTRY": {},
    # How many applicants the purge handles per batch (management command and daily schedule).
    "RETENTION_PURGE_BATCH_SIZE": 100,
    # Install the daily django-q2 purge schedule with the sweeper (kyc_install_schedules / on migrate).
    "RETENTION_PURGE_SCHEDULE": True,
}


class KycSettings:
    """Attribute access to ``DJANGO_KYC`` merged over :data:`DEFAULTS`, read on every access."""

    def _user_settings(self) -> Mapping[str, Any]:
        value = getattr(settings, "DJANGO_KYC", {})
        return value if isinstance(value, Mapping) else {}

    def __getattr__(self, name: str) -> Any:
        if name not in DEFAULTS:
            raise AttributeError(f"Unknown DJANGO_KYC setting {name!r}")
        return self._user_settings().get(name, DEFAULTS[name])

    def backend_config(self, alias: str) -> Mapping[str, Any] | None:
        backends = self.BACKENDS
        return backends.get(alias) if isinstance(backends, Mapping) else None

    @property
    def backend_aliases(self) -> list[str]:
        return list(self.BACKENDS) if isinstance(self.BACKENDS, Mapping) else []

    @property
    def throttle_rates(self) -> dict[str, str | None]:
        """``API_THROTTLE_RATES`` over the defaults: a scope the host left out keeps its default rather than
        going unthrottled; ``None`` set explicitly for a scope turns its throttle off."""
        return {**DEFAULTS["API_THROTTLE_RATES"], **dict(self.API_THROTTLE_RATES)}

    @property
    def health_stale_after(self) -> timedelta:
        configured = self.HEALTH_STALE_AFTER_SECONDS
        if configured is None:
            return timedelta(minutes=5 * float(self.SWEEP_EVERY_MINUTES))
        return timedelta(seconds=float(configured))

    @property
    def poll_after(self) -> timedelta:
        return timedelta(seconds=float(self.POLL_AFTER_SECONDS))

    @property
    def poll_interval(self) -> timedelta:
        return timedelta(seconds=float(self.POLL_INTERVAL_SECONDS))


kyc_settings = KycSettings()
