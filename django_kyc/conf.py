"""One lazy settings object over ``settings.DJANGO_KYC``.

Every read goes through :data:`kyc_settings`, which looks the value up on each access, so
``override_settings(DJANGO_KYC=...)`` works in tests and nothing is read at import time.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import timedelta
from typing import Any

from django.conf import settings


@dataclass(frozen=True)
class Setting:
    """One key of ``DJANGO_KYC``: its default and what it means, side by side, so the README's settings table
    (rendered by ``python -m django_kyc.docs settings``) is this list and cannot lose a key."""

    name: str
    default: Any
    #: For the settings table: what the key does (Markdown, one paragraph).
    doc: str
    #: How the table shows the default when the literal alone says too little, e.g. "`1048576` (1 MiB)".
    default_doc: str = ""


SETTINGS: tuple[Setting, ...] = (
    Setting(
        "DEFAULT_BACKEND",
        "sandbox",
        "Backend alias used when a verification or AML check is started without one.",
    ),
    Setting(
        "AML_BACKEND",
        None,
        "Backend alias used when a person's AML screening is started without one (the API, re-screening of an "
        'applicant never screened). `None`: `DEFAULT_BACKEND`. The example project sets `"lists"`, the '
        "official sanctions lists in the site's own database (docs/providers/lists.md).",
    ),
    Setting(
        "BACKENDS",
        {"sandbox": {"CLASS": "django_kyc.backends.sandbox.SandboxBackend", "OPTIONS": {}}},
        'Every configured backend: alias → `{"CLASS": dotted path, "OPTIONS": {...}}`. Each verification stores '
        "its alias, so retries, polling and webhooks reach the same configuration. Several aliases may use the "
        "same class with different options.",
    ),
    Setting(
        "USER_SELECTABLE_BACKENDS",
        None,
        "Backend aliases an applicant may choose when starting a verification or an AML screening through the "
        "API. `None`: only `DEFAULT_BACKEND` (and `AML_BACKEND` when set). Staff with `change_applicant` may "
        "choose any configured alias.",
    ),
    Setting(
        "MAX_ATTEMPTS",
        6,
        "Provider calls for one submission (or AML check) before it gives up and the verification goes to `error`.",
    ),
    Setting(
        "AML_RUNNING_TIMEOUT_SECONDS",
        24 * 3600,
        "An AML screening still running at the provider after this long ends in `error` (visible, and a reviewer "
        "may retry it).",
        default_doc="`86400` (24 h)",
    ),
    Setting(
        "RESCREENING_INTERVAL_DAYS",
        {"low": 365, "medium": 180, "high": 30, "prohibited": 30},
        "Days between two screenings of an approved applicant, by risk level ([docs/rescreening.md]"
        "(docs/rescreening.md)). A level left out keeps its default; `None` turns the scheduled re-screening off "
        "for that level (a change of name, date of birth or nationality still triggers one). With a provider's "
        "ongoing monitoring (`aml_monitoring`) it is how often the enrolment is confirmed.",
    ),
    Setting(
        "RESCREENING_BACKEND",
        None,
        "Backend alias re-screenings go through. `None`: the backend of the applicant's latest person screening, "
        "or, for an applicant never screened, `AML_BACKEND` (`DEFAULT_BACKEND` when that is unset too).",
    ),
    Setting(
        "RESCREENING_BATCH_SIZE",
        200,
        "Due applicants the daily re-screening job reads and starts checks for at a time (its memory does not "
        "grow with the number of applicants).",
    ),
    Setting(
        "RESCREENING_SCHEDULE",
        True,
        "Install the daily django-q2 re-screening schedule with the sweeper (`kyc_install_schedules`, or on "
        "`migrate`). Off: the schedule is removed and the site runs `kyc_rescreen` itself.",
    ),
    Setting(
        "SANCTIONS_LISTS",
        {"ofac_sdn": {}, "ofac_cons": {}, "un_sc": {}, "eu_fsf": {}, "uk_sl": {}},
        "The official sanctions lists `kyc_load_lists` and its daily schedule load into the site's database, "
        "each mapped to the URLs of its files: an empty mapping fetches the authority's official URLs, and "
        '`{"SDN.CSV": "https://mirror.example/SDN.CSV", …}` replaces the URL of a file (`https://`, `http://` '
        "or `file://`), so a site can load from its own mirror. Lists left out are not loaded. "
        "See docs/sanctions-lists.md.",
    ),
    Setting(
        "SANCTIONS_LISTS_SCHEDULE",
        True,
        "Install the daily django-q2 job that refreshes the sanctions lists (`kyc_load_lists`) and makes "
        "approved applicants a changed entry could match due for re-screening. Off: the schedule is removed "
        "and the site runs `kyc_load_lists` itself.",
    ),
    Setting(
        "SANCTIONS_MAX_FILE_BYTES",
        200 * 1024 * 1024,
        "The largest sanctions list file a download accepts; a longer answer is cut off and refused.",
        "`209715200` (200 MiB)",
    ),
    Setting(
        "SANCTIONS_DOWNLOAD_TIMEOUT",
        60.0,
        "Seconds a sanctions list download may wait to connect, and between two chunks of the answer.",
    ),
    Setting(
        "SANCTIONS_MAX_SHRINK",
        0.5,
        "The largest share of a list's active entries one new version may retire (0.5: half). A file that "
        "would retire more is refused as probably truncated, unless loaded with `kyc_load_lists --force`.",
    ),
    Setting(
        "RETRY_BASE_SECONDS",
        2.0,
        "First backoff step. After failed attempt *n* the next one waits between d/2 and d, with d = base × "
        '2^(n−1) ("equal jitter").',
    ),
    Setting(
        "RETRY_MAX_SECONDS",
        900.0,
        "Cap on one backoff delay, and on how long a provider's `Retry-After` may make us wait.",
    ),
    Setting("HTTP_CONNECT_TIMEOUT", 5.0, "Connect timeout (s) of every provider HTTP call."),
    Setting(
        "HTTP_READ_TIMEOUT",
        30.0,
        "Read timeout (s) of every provider HTTP call. Connect + read + `LEASE_MARGIN_SECONDS` is the lease that "
        "keeps the sweeper off an attempt in flight; a system check warns when connect + read is not below "
        '`Q_CLUSTER["timeout"]`.',
    ),
    Setting(
        "LEASE_MARGIN_SECONDS",
        60.0,
        "Added to connect + read timeout to make the lease of a claimed attempt; when it runs out (the worker "
        "died) the sweeper retries the attempt.",
    ),
    Setting(
        "WEBHOOK_MAX_BYTES",
        1024 * 1024,
        "Larger webhook bodies are refused with 413: before they are read when the Content-Length says so, after "
        "at most this + 1 bytes when the delivery is chunked.",
        default_doc="`1048576` (1 MiB)",
    ),
    Setting(
        "WEBHOOK_MAX_ATTEMPTS",
        8,
        "Processing attempts of a stored webhook event before it is marked `failed` (and `webhook_failed` is sent).",
    ),
    Setting(
        "WEBHOOK_HEADER_ALLOWLIST",
        ["content-type", "user-agent", "x-request-id"],
        "The only request headers stored on an inbox row (signatures and credentials are not kept).",
    ),
    Setting(
        "WEBHOOK_DRAIN_BATCH_SIZE",
        10,
        "Received events one drain claims at a time (`SELECT ... FOR UPDATE SKIP LOCKED`, then a lease). Small on "
        "purpose: a drain holding a large batch leaves the other workers nothing to claim, and the last event of "
        "a batch waits for all the others.",
    ),
    Setting(
        "WEBHOOK_DRAIN_LINGER_SECONDS",
        0.5,
        "A web process wakes the drain at most once per this many seconds, and a drain it woke keeps looking at "
        "the inbox (every 25 ms) this long after it starts. Longer: fewer wake-ups under load; shorter: a drain "
        "idles less after a lone delivery.",
    ),
    Setting(
        "WEBHOOK_DRAIN_MAX_SECONDS",
        30.0,
        "A drain still finding work after this long hands the rest to a fresh drain task and returns, so other "
        "tasks get a worker during a long backlog.",
    ),
    Setting(
        "POLL_AFTER_SECONDS",
        15 * 60,
        "A verification in `awaiting_user`, `processing` or `review` that has not changed for this long is polled.",
    ),
    Setting("POLL_INTERVAL_SECONDS", 15 * 60, "Minimum time between two polls of the same verification."),
    Setting("POLL_BATCH_SIZE", 100, "Most polls one sweep enqueues."),
    Setting(
        "INSTALL_SCHEDULES_ON_MIGRATE",
        True,
        "Create or update the sweeper schedule (and the purge schedule, see `RETENTION_PURGE_SCHEDULE`) after "
        "`migrate`.",
    ),
    Setting(
        "SWEEP_EVERY_MINUTES",
        1,
        "Interval of the sweeper schedule. django-q2 checks schedules about every 30 s.",
    ),
    Setting(
        "SWEEP_GRACE_SECONDS",
        60.0,
        "New work (a verification, a stored webhook event, an AML check) is left to its own enqueue for this "
        "long; after that the sweeper enqueues it again (the enqueue was lost or the worker died).",
    ),
    Setting(
        "HEALTH_STALE_AFTER_SECONDS",
        None,
        "When the sweeper's last run (its heartbeat) is older than this, the review queue and the dashboard warn "
        "that the background worker is not running and `kyc_health` exits 1. `None`: five sweeper intervals "
        "(`5 × SWEEP_EVERY_MINUTES` minutes), which leaves room for django-q2's 30 s scheduler tick.",
    ),
    Setting("MAX_UPLOAD_BYTES", 10 * 1024 * 1024, "Largest accepted document file.", "`10485760` (10 MiB)"),
    Setting(
        "ALLOWED_UPLOAD_TYPES",
        ["image/jpeg", "image/png", "image/webp", "application/pdf"],
        "Accepted file types, detected from the content (magic bytes), never from the name or the client's "
        "`Content-Type`. `image/heic`, `image/heif` and `image/avif` may be added; other image types are refused, "
        "because their declared size can't be checked.",
    ),
    Setting(
        "MAX_IMAGE_DIMENSION",
        12_000,
        "Longest side, in pixels, an uploaded image may declare. Read from the image's header, nothing decoded; "
        "over it is a 400 that names the limit. `None` turns it off.",
    ),
    Setting(
        "MAX_IMAGE_PIXELS",
        50_000_000,
        "Width × height an uploaded image may declare (a 50000 × 50000 PNG fits under `MAX_UPLOAD_BYTES` and is "
        "7.5 GB decoded). `None` turns it off.",
    ),
    Setting(
        "MAX_PDF_PAGES",
        20,
        "Most pages an uploaded PDF may have (counted with pypdf). Unreadable or password-protected PDFs are "
        "refused too. `None` turns the limit off.",
    ),
    Setting(
        "DOCUMENT_STORAGE",
        "django_kyc.storage.default_document_storage",
        "Dotted path to a callable returning the `Storage` for document files (for example a private S3 bucket). "
        'Whatever it returns receives only ciphertext (see "Protecting personal data").',
    ),
    Setting(
        "DOCUMENT_STORAGE_LOCATION",
        None,
        "Directory of the default storage; `None` means `<BASE_DIR or cwd>/private/kyc-documents`. Files are "
        "created `0600`, directories `0700`; system check `django_kyc.E050` fails when it can't be created or "
        "written. The default storage has no URL at all: files are served only through the admin's "
        "permission-checked, audited view.",
    ),
    Setting(
        "API_AUTHENTICATION_CLASSES",
        None,
        "Authentication classes of the API (dotted paths or classes); `None` means the project's "
        "`REST_FRAMEWORK` default.",
    ),
    Setting(
        "API_PAGE_SIZE",
        25,
        "Page size of list endpoints (clients may ask for up to 100 with `?page_size=`).",
    ),
    Setting(
        "API_THROTTLE_RATES",
        {"kyc_write": "60/hour", "kyc_upload": "30/hour"},
        "Per-user rates of API writes (`kyc_write`) and document uploads (`kyc_upload`). Reads are not "
        "throttled. A scope left out keeps its default; `None` turns it off.",
    ),
    Setting(
        "API_THROTTLE_CACHE",
        "default",
        "The `CACHES` alias that holds the throttles' request history. It must be shared by every web process "
        "(Redis, Memcached, `DatabaseCache`); a per-process cache multiplies the rates by the number of workers "
        "(check `django_kyc.W040`). Lets the throttles use a shared cache while your default stays local.",
    ),
    Setting(
        "PROVIDER_RATE_LIMIT_CACHE",
        "default",
        "The `CACHES` alias where the providers' published rate limits (a backend's `rate_limits`, e.g. Sumsub's "
        "50 POST per 5 s) are counted. Every worker using the same credentials counts against one budget, so it "
        "must be shared like the throttles' cache (check `django_kyc.W042`). If the cache cannot count, requests "
        "go out and the provider's 429s are retried.",
    ),
    Setting(
        "PROVIDER_RATE_LIMIT_MAX_WAIT",
        5.0,
        "Seconds a provider call over budget waits for room; past that the task is retried later with backoff "
        "(`Retry-After` = the wait) instead of holding a worker.",
    ),
    Setting(
        "REASON_CODES",
        {},
        'Extra reviewer reason codes, `{"CODE": "Label"}`, added to the built-in catalogue.',
    ),
    Setting(
        "PROVIDER_REASON_MAP",
        {},
        'Providers\' decline codes folded onto the reason catalogue, over the built-in map: `{"PROVIDER_CODE": '
        '"CATALOGUE_CODE"}`.',
    ),
    Setting(
        "FOUR_EYES",
        False,
        "Four-eyes review ([docs/review.md](docs/review.md)): when `True`, a decision on a high-risk applicant is "
        "recorded as a proposal that a second reviewer with `approve_high_risk` must confirm.",
    ),
    Setting(
        "FOUR_EYES_RISK_LEVELS",
        ["high", "prohibited"],
        "With `FOUR_EYES`: risk levels that make an applicant high-risk.",
    ),
    Setting(
        "FOUR_EYES_AML_TOPICS",
        ["sanction", "pep"],
        "With `FOUR_EYES`: an AML hit (open or confirmed) with one of these topics makes the applicant high-risk "
        '("role.pep" matches "pep").',
    ),
    Setting(
        "FOUR_EYES_RULE",
        None,
        "With `FOUR_EYES`: a dotted path to a callable `rule(applicant) -> bool | str`; something truthy makes the "
        "applicant high-risk (a string names the rule).",
    ),
    Setting("DASHBOARD_DAYS", 30, "How many days the review dashboard's charts cover by default."),
    Setting(
        "ENCRYPTION_KEYS",
        [],
        "Fernet keys for field and file encryption ([docs/encryption.md](docs/encryption.md)), newest first: "
        "values are encrypted with the first and decrypted with whichever matches. Required when `DEBUG` is "
        "off (system check `E020`); with `DEBUG` on and no keys, a development key derived from `SECRET_KEY` is "
        "used (warning `W020`). Generate one with `python -c 'from cryptography.fernet import Fernet; "
        "print(Fernet.generate_key().decode())'`.",
    ),
    Setting(
        "BLIND_INDEX_KEY",
        "",
        "HMAC key (at least 32 characters, not one of `ENCRYPTION_KEYS`) for blind indexes: exact lookups of "
        "encrypted identifiers such as document numbers. Same `DEBUG` rules (`E021` / `W021`). Generate one "
        "with `python -c 'import secrets; print(secrets.token_urlsafe(48))'`.",
    ),
    Setting(
        "RETENTION_YEARS",
        5,
        "Years CDD records are kept after the relationship ends ([docs/retention.md](docs/retention.md); FATF "
        "R.11, EU AMLD Art. 40: at least 5); while it lasts, nothing is purged.",
    ),
    Setting(
        "RETENTION_YEARS_BY_COUNTRY",
        {},
        'Longer (or shorter) periods by the applicant\'s country of residence, e.g. `{"ES": 10}`.',
    ),
    Setting(
        "RETENTION_PURGE_BATCH_SIZE",
        100,
        "Applicants the purge handles per batch (the management command and the daily schedule).",
    ),
    Setting(
        "RETENTION_PURGE_SCHEDULE",
        True,
        "Install the daily django-q2 purge schedule with the sweeper (`kyc_install_schedules`, or on `migrate`).",
    ),
    Setting(
        "OUTBOUND_ENDPOINTS",
        {},
        "Event endpoints declared in settings ([docs/events.md](docs/events.md)), besides those added in the "
        'admin: `{"billing": {"URL": "https://...", "EVENTS": ["applicant.verified"] or ["*"], "SECRET": '
        '"whsec_..." or a list (every secret listed signs: rotation), "ENABLED": True}}`. Their secrets are read '
        "from here on every delivery, never stored.",
    ),
    Setting(
        "OUTBOUND_ALLOWED_NETWORKS",
        [],
        "Networks (CIDR) events may be delivered to although they are loopback, private, link-local or otherwise "
        'not public, e.g. `["10.20.0.0/16"]` for the site\'s own services. Everything else that is not a public '
        "address (cloud metadata included) is refused, after DNS resolution, on every delivery.",
    ),
    Setting(
        "OUTBOUND_CONNECT_TIMEOUT",
        3.0,
        "Seconds to connect to an event endpoint (TLS handshake included).",
    ),
    Setting(
        "OUTBOUND_TIMEOUT",
        10.0,
        "Seconds one delivery attempt may take in all (connect, send, the answer's headers and kept body); the "
        "socket is closed when they run out, however slowly the receiver trickles its answer.",
    ),
    Setting(
        "OUTBOUND_RESPONSE_BYTES",
        2048,
        "How much of a receiver's answer is read and kept on the attempt (the rest is never downloaded).",
    ),
    Setting(
        "OUTBOUND_RETRY_SCHEDULE",
        [5, 300, 1800, 7200, 18000, 36000, 50400, 72000, 86400],
        "Seconds to wait after each failed attempt. The default is the example schedule of the Standard Webhooks "
        "specification (https://github.com/standard-webhooks/standard-webhooks/blob/main/spec/standard-webhooks.md"
        ', "Deliverability and reliability"): 5 s, 5 min, 30 min, 2 h, 5 h, 10 h, 14 h, 20 h, 24 h, so 10 '
        "attempts over about 3 days (75.6 h); each wait is stretched by up to 10 % at random. After the last one "
        "the delivery is `failed`, visible in the admin, where it can be resent.",
        default_doc="`[5, 300, 1800, 7200, 18000, 36000, 50400, 72000, 86400]`",
    ),
    Setting(
        "OUTBOUND_EVENT_RETENTION_DAYS",
        90,
        "Days an outbound event (with its deliveries and their attempts) is kept once every delivery of it is "
        'settled; the daily purge deletes older ones, and "Replay events since" reaches back this far. `None` '
        "keeps them for ever.",
    ),
    Setting(
        "OUTBOUND_SECRET_ROTATION_HOURS",
        24,
        "After an admin endpoint's secret is rotated, deliveries are signed with the old secret as well for this "
        "long (two signatures in `webhook-signature`), so receivers can switch without losing events.",
    ),
    Setting(
        "OUTBOUND_CA_BUNDLE",
        None,
        "A CA bundle (path) to verify endpoints' TLS certificates with, for services behind an internal CA; "
        "`None`: the system's trust store.",
    ),
    Setting(
        "REVIEW_INTERVAL_MONTHS",
        {"high": 12, "medium": 60, "low": 60},
        "Periodic review ([docs/review-policy.md](docs/review-policy.md)): months from an approval to the next "
        "review, per risk level. The defaults are the EU AML Regulation's maxima (Art. 26: at least every year "
        "for high risk, every five years for the others). `prohibited` has no interval: such an applicant is "
        "never approved, and one that is falls due at once. Checked by `E060`/`E061`; `W060` warns above the "
        "AMLR maxima.",
    ),
    Setting(
        "REVIEW_INTERVAL_MONTHS_BY_COUNTRY",
        {},
        "Per-country intervals over `REVIEW_INTERVAL_MONTHS`, by country of residence (nationality when it is "
        'blank), e.g. `{"GB": {"high": 6}}`; a level left out keeps the default.',
    ),
    Setting(
        "REVIEW_NOTICE_DAYS",
        30,
        "How long before a review (or an identity document's expiry) falls due the person is asked to verify "
        "again: the `review_due` signal is sent and the API's `action_required` turns true.",
    ),
    Setting(
        "DOCUMENT_EXPIRY_GRACE_DAYS",
        0,
        "Days after an identity document's expiry date before the applicant leaves `verified` for "
        "`reverification_required` (`0`: on the expiry date).",
    ),
    Setting(
        "REVIEW_STARTS_VERIFICATION",
        False,
        "When a review's notice opens, also start a new verification on the backend of the applicant's last "
        "approval (for hosted flows: the person gets a fresh link). Off: the person starts it through the API.",
    ),
    Setting(
        "REVIEW_BATCH_SIZE",
        500,
        "Applicants the daily review run handles per transaction (keyset-paged over `next_review_at`).",
    ),
    Setting(
        "REVIEW_SCHEDULE",
        True,
        "Install the daily django-q2 review schedule (`django_kyc.tasks.run_reviews`, the same as `kyc_review`) "
        "with the sweeper.",
    ),
)

DEFAULTS: dict[str, Any] = {setting.name: setting.default for setting in SETTINGS}


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
