"""System checks: misconfiguration is reported at startup, naming the exact key."""

from __future__ import annotations

import os
import tempfile
from collections.abc import Mapping
from itertools import pairwise
from pathlib import Path
from typing import Any

from django.apps import apps
from django.conf import settings
from django.core.cache import InvalidCacheBackendError, caches
from django.core.cache.backends.dummy import DummyCache
from django.core.cache.backends.locmem import LocMemCache
from django.core.checks import CheckMessage, Error, Tags, Warning, register

from django_kyc.backends.base import KycBackend
from django_kyc.backends.capabilities import Capability
from django_kyc.backends.options import DEPRECATED, INVALID, MISSING, UNKNOWN
from django_kyc.backends.registry import get_backend_class
from django_kyc.conf import kyc_settings
from django_kyc.exceptions import KycConfigurationError
from django_kyc.models.screening import rescreening_interval
from django_kyc.status import RiskLevel

#: Apps django_kyc cannot work without: why, and what to do besides adding it. Both packages are installed with
#: django_kyc, so every import succeeds and only a request or a task would find the app missing.
REQUIRED_APPS = {
    "rest_framework": ("the API's browsable pages render its templates and answer 500 without them", ""),
    "django_q": (
        "background work and the sweeper schedule live in its tables",
        ", then run `python manage.py migrate` to create its tables",
    ),
}


@register(Tags.compatibility)
def check_installed_apps(app_configs: Any = None, **kwargs: Any) -> list[CheckMessage]:
    return [
        Error(
            f'"{app}" is not in INSTALLED_APPS; django_kyc needs it: {why}.',
            hint=f'Add "{app}" to INSTALLED_APPS{then}.',
            id="django_kyc.E030",
        )
        for app, (why, then) in REQUIRED_APPS.items()
        if not apps.is_installed(app)
    ]


@register(Tags.compatibility)
def check_backends(app_configs: Any = None, **kwargs: Any) -> list[CheckMessage]:
    messages: list[CheckMessage] = []
    backends = kyc_settings.BACKENDS
    if not isinstance(backends, Mapping) or not backends:
        return [Error('DJANGO_KYC["BACKENDS"] must be a non-empty dict of alias -> config.', id="django_kyc.E001")]
    default = kyc_settings.DEFAULT_BACKEND
    if default not in backends:
        messages.append(
            Error(
                f'DJANGO_KYC["DEFAULT_BACKEND"] = {default!r} is not a key of DJANGO_KYC["BACKENDS"].',
                hint=f"Configured aliases: {', '.join(map(repr, backends))}.",
                id="django_kyc.E002",
            )
        )
    for alias, config in backends.items():
        if not isinstance(config, Mapping):
            messages.append(Error(f'DJANGO_KYC["BACKENDS"]["{alias}"] must be a dict.', id="django_kyc.E003"))
            continue
        try:
            cls = get_backend_class(alias)
        except KycConfigurationError as exc:
            messages.append(Error(str(exc), id="django_kyc.E004"))
            continue
        options = config.get("OPTIONS") or {}
        if not isinstance(options, Mapping):
            messages.append(
                Error(f'DJANGO_KYC["BACKENDS"]["{alias}"]["OPTIONS"] must be a dict.', id="django_kyc.E006")
            )
            continue
        messages.extend(_option_messages(cls, str(alias), options))
        if cls.provider == "sandbox" and not settings.DEBUG:
            # The sandbox approves by rule and its capture page lets the link holder pick the outcome: in
            # production it would be a way to verify oneself. An Error, so a deploy stops.
            messages.append(
                Error(
                    f'DJANGO_KYC["BACKENDS"]["{alias}"] is the sandbox backend, which approves by rule, '
                    "while DEBUG is False.",
                    hint="Use a real provider backend in production (test suites may silence django_kyc.E007).",
                    id="django_kyc.E007",
                )
            )
    return messages


#: How each kind of option problem is reported (the declaration in the backend's ``option_specs`` says which).
OPTION_CHECKS: dict[str, tuple[type[Error] | type[Warning], str, str]] = {
    MISSING: (Error, "django_kyc.E005", ""),
    INVALID: (Error, "django_kyc.E008", ""),
    DEPRECATED: (Warning, "django_kyc.W005", "The old name still works; it will be removed in a later release."),
    UNKNOWN: (Warning, "django_kyc.W006", "A misspelt option is otherwise silently ignored."),
}


def _option_messages(cls: type[KycBackend], alias: str, options: Mapping[str, Any]) -> list[CheckMessage]:
    """Every problem with one alias's ``OPTIONS``, read from the same declaration the backend is built from."""
    _, problems = cls.read_options(alias, options)
    messages: list[CheckMessage] = []
    for problem in problems:
        kind, check_id, hint = OPTION_CHECKS[problem.kind]
        messages.append(kind(problem.text(alias), hint=hint or None, id=check_id))
    return messages


@register(Tags.compatibility)
def check_q_cluster(app_configs: Any = None, **kwargs: Any) -> list[CheckMessage]:
    """django-q2 re-delivers a task still running after ``retry`` seconds: duplicate provider submissions."""
    q_cluster = getattr(settings, "Q_CLUSTER", None)
    if not isinstance(q_cluster, Mapping):
        return [Warning("Q_CLUSTER is not set; django_kyc needs a django-q2 cluster.", id="django_kyc.W002")]
    timeout = q_cluster.get("timeout")
    retry = q_cluster.get("retry", 60)
    if timeout is None:
        return [
            Error(
                'Q_CLUSTER["timeout"] is not set, so a long task can outlive Q_CLUSTER["retry"] and run twice.',
                hint='Set Q_CLUSTER["timeout"] below Q_CLUSTER["retry"], e.g. timeout=60, retry=90.',
                id="django_kyc.E010",
            )
        ]
    if retry <= timeout:
        return [
            Error(
                f'Q_CLUSTER["retry"] ({retry}) must be greater than Q_CLUSTER["timeout"] ({timeout}); '
                "otherwise django-q2 re-delivers running tasks.",
                id="django_kyc.E011",
            )
        ]
    read_timeout = float(kyc_settings.HTTP_CONNECT_TIMEOUT) + float(kyc_settings.HTTP_READ_TIMEOUT)
    if read_timeout >= timeout:
        return [
            Warning(
                f'DJANGO_KYC["HTTP_CONNECT_TIMEOUT"] + ["HTTP_READ_TIMEOUT"] ({read_timeout:g}s) is not below '
                f'Q_CLUSTER["timeout"] ({timeout}s); a slow provider call would be killed mid-flight.',
                id="django_kyc.W003",
            )
        ]
    return _provider_timeouts_within(float(timeout))


def _provider_timeouts_within(timeout: float) -> list[CheckMessage]:
    """A provider's own (longer) timeouts, e.g. PassportReader's 60 s, must also fit in the task timeout."""
    messages: list[CheckMessage] = []
    for alias in kyc_settings.backend_aliases:
        try:
            cls = get_backend_class(alias)
        except KycConfigurationError:
            continue  # reported by check_backends
        options = (kyc_settings.backend_config(alias) or {}).get("OPTIONS") or {}
        if not isinstance(options, Mapping):
            continue  # reported by check_backends
        timeouts = cls.timeouts_for(options)
        if timeouts is None:
            continue  # DJANGO_KYC's own timeouts: W003 covers them
        total = sum(timeouts)
        if total >= timeout:
            messages.append(
                Warning(
                    f'DJANGO_KYC["BACKENDS"]["{alias}"] allows {total:g}s per provider call, not below '
                    f'Q_CLUSTER["timeout"] ({timeout:g}s); a slow call would be killed mid-flight.',
                    hint=f'Raise Q_CLUSTER["timeout"] (and "retry") or set OPTIONS["READ_TIMEOUT"] for "{alias}".',
                    id="django_kyc.W004",
                )
            )
    return messages


@register(Tags.security)
def check_encryption_keys(app_configs: Any = None, **kwargs: Any) -> list[CheckMessage]:
    """Personal data is never stored in plaintext: missing keys stop production, DEBUG gets a loud warning."""
    from django_kyc.crypto import (
        BLIND_INDEX_KEY_COMMAND,
        BLIND_INDEX_SETTING,
        FERNET_KEY_COMMAND,
        KEYS_SETTING,
        MIN_BLIND_INDEX_KEY_LENGTH,
        validate_encryption_keys,
    )

    # Each hint says what to set and how to make the value: the documents in the repository are not in the
    # installed wheel, so a hint that pointed at one would point at nothing.
    keys_hint = f"Set {KEYS_SETTING} to a list of Fernet keys, newest first; generate one with `{FERNET_KEY_COMMAND}`."
    bidx_hint = (
        f"Set {BLIND_INDEX_SETTING} to a random string of at least {MIN_BLIND_INDEX_KEY_LENGTH} characters, "
        f"different from every encryption key; generate one with `{BLIND_INDEX_KEY_COMMAND}`."
    )

    messages: list[CheckMessage] = []
    keys = kyc_settings.ENCRYPTION_KEYS
    if not keys:
        if settings.DEBUG:
            messages.append(
                Warning(
                    f"{KEYS_SETTING} is not set; personal data is encrypted with a development key derived "
                    "from SECRET_KEY.",
                    hint=f"{keys_hint} Do it before DEBUG is turned off: data written under the development key "
                    "cannot be read once real keys are set.",
                    id="django_kyc.W020",
                )
            )
        else:
            messages.append(
                Error(
                    f"{KEYS_SETTING} is not set; django_kyc refuses to store personal data unencrypted.",
                    hint=keys_hint,
                    id="django_kyc.E020",
                )
            )
    else:
        messages.extend(Error(problem, id="django_kyc.E022") for problem in validate_encryption_keys(keys))

    bidx_key = kyc_settings.BLIND_INDEX_KEY
    if not bidx_key:
        if settings.DEBUG:
            messages.append(
                Warning(
                    f"{BLIND_INDEX_SETTING} is not set; blind indexes use a development key derived from SECRET_KEY.",
                    hint=f"{bidx_hint} Do it before DEBUG is turned off, then rebuild the indexes written under the "
                    "development key with `python manage.py kyc_rotate_keys`.",
                    id="django_kyc.W021",
                )
            )
        else:
            messages.append(
                Error(
                    f"{BLIND_INDEX_SETTING} is not set; it is needed to look up encrypted document numbers.",
                    hint=bidx_hint,
                    id="django_kyc.E021",
                )
            )
    elif not isinstance(bidx_key, str | bytes) or len(bidx_key) < MIN_BLIND_INDEX_KEY_LENGTH:
        messages.append(
            Error(
                f"{BLIND_INDEX_SETTING} must be a string of at least {MIN_BLIND_INDEX_KEY_LENGTH} characters.",
                hint=bidx_hint,
                id="django_kyc.E023",
            )
        )
    elif isinstance(keys, list | tuple) and bidx_key in keys:
        messages.append(
            Error(
                f"{BLIND_INDEX_SETTING} must not be one of {KEYS_SETTING}: one leaked key would expose both.",
                hint=bidx_hint,
                id="django_kyc.E024",
            )
        )
    return messages


@register(Tags.files)
def check_document_storage(app_configs: Any = None, **kwargs: Any) -> list[CheckMessage]:
    """The default document directory must be creatable and writable, or the first upload fails.

    Only for the default storage: a storage the site supplies (S3 and the like) is the site's to check. An
    existing directory is tested by creating an unnamed temporary file in it (truthful for root, read-only
    mounts and ACLs alike); a missing one is not created here, its nearest existing parent is checked instead.
    """
    from django_kyc.storage import LOCATION_SETTING, default_storage_location, uses_default_storage

    if not uses_default_storage():
        return []
    location = default_storage_location()
    problem = _location_problem(location)
    if problem is None:
        return []
    return [
        Error(
            f"{LOCATION_SETTING} ({location}) {problem}, so document uploads would fail.",
            hint=(
                f"Set {LOCATION_SETTING} to a directory that the user running the web and worker processes can "
                "create and write, outside MEDIA_ROOT and anything the web server serves (it is created with "
                'mode 0700), or set DJANGO_KYC["DOCUMENT_STORAGE"] to a storage of your own.'
            ),
            id="django_kyc.E050",
        )
    ]


def _location_problem(location: Path) -> str | None:
    """What stops documents from being stored under ``location``, or ``None``."""
    try:
        if location.exists():
            if not location.is_dir():
                return "is not a directory"
            with tempfile.TemporaryFile(dir=location):
                return None
        parent = location.parent
        while not parent.exists():
            parent = parent.parent
    except OSError as exc:
        return f"cannot be written ({exc.strerror or exc})"
    if not parent.is_dir():
        return f"cannot be created: {parent} is not a directory"
    if not os.access(parent, os.W_OK | os.X_OK):
        return f"cannot be created: {parent} is not writable"
    return None


#: Cache backends whose contents belong to one process. A throttle's history kept in one is counted per web
#: worker (LocMemCache), or not at all (DummyCache).
PROCESS_LOCAL_CACHES = {
    LocMemCache: "keeps its entries in each process's memory: every web worker counts a user's writes on its own, "
    "so N workers allow N times the rate",
    DummyCache: "stores nothing: the API's write throttles never refuse a request",
}


@register(Tags.caches)
def check_throttle_cache(app_configs: Any = None, **kwargs: Any) -> list[CheckMessage]:
    """The throttles are only as good as their cache: it must be one store that every web process shares."""
    rates = {scope: rate for scope, rate in kyc_settings.throttle_rates.items() if rate}
    if not rates:
        return []
    alias = kyc_settings.API_THROTTLE_CACHE
    try:
        cache = caches[alias]
    except InvalidCacheBackendError as exc:
        return [
            Error(
                f'DJANGO_KYC["API_THROTTLE_CACHE"] = {alias!r} is not a usable cache: {exc}',
                hint=f"Name a key of CACHES ({', '.join(map(repr, settings.CACHES))}).",
                id="django_kyc.E041",
            )
        ]
    for backend, problem in PROCESS_LOCAL_CACHES.items():
        if isinstance(cache, backend):
            return [
                Warning(
                    f"The API throttles ({', '.join(f'{scope}={rate}' for scope, rate in rates.items())}) keep "
                    f'their history in CACHES["{alias}"], a {backend.__name__}, which {problem}.',
                    hint=f'Point CACHES["{alias}"] (or DJANGO_KYC["API_THROTTLE_CACHE"]) at a cache all web '
                    'processes share: "django.core.cache.backends.redis.RedisCache", a Memcached backend, or '
                    '"django.core.cache.backends.db.DatabaseCache" (then run `python manage.py createcachetable`). '
                    "FileBasedCache is shared only by the processes of one machine.",
                    id="django_kyc.W040",
                )
            ]
    return []


@register(Tags.caches)
def check_rate_limit_cache(app_configs: Any = None, **kwargs: Any) -> list[CheckMessage]:
    """A provider's published rate limit counts every worker together, so our count must too."""
    limited = sorted(alias for alias, cls in _backend_classes().items() if cls.rate_limits)
    if not limited:
        return []
    alias = kyc_settings.PROVIDER_RATE_LIMIT_CACHE
    try:
        cache = caches[alias]
    except InvalidCacheBackendError as exc:
        return [
            Error(
                f'DJANGO_KYC["PROVIDER_RATE_LIMIT_CACHE"] = {alias!r} is not a usable cache: {exc}',
                hint=f"Name a key of CACHES ({', '.join(map(repr, settings.CACHES))}).",
                id="django_kyc.E042",
            )
        ]
    if isinstance(cache, tuple(PROCESS_LOCAL_CACHES)):
        return [
            Warning(
                f"The providers' rate limits of {', '.join(map(repr, limited))} are counted in "
                f'CACHES["{alias}"], a {type(cache).__name__}, which does not share its count between processes: '
                "each qcluster worker spends the whole budget on its own, and the provider answers 429.",
                hint=f'Point CACHES["{alias}"] (or DJANGO_KYC["PROVIDER_RATE_LIMIT_CACHE"]) at Redis, Memcached or '
                "DatabaseCache. The 429s are still retried, so this costs time, not data.",
                id="django_kyc.W042",
            )
        ]
    return []


def _backend_classes() -> dict[str, type[KycBackend]]:
    """The configured aliases whose class loads (check_backends reports the others)."""
    classes = {}
    backends = kyc_settings.BACKENDS if isinstance(kyc_settings.BACKENDS, Mapping) else {}
    for alias in backends:
        try:
            classes[str(alias)] = get_backend_class(alias)
        except KycConfigurationError:
            continue
    return classes


@register(Tags.compatibility)
def check_rescreening(app_configs: Any = None, **kwargs: Any) -> list[CheckMessage]:
    """The re-screening settings (docs/rescreening.md): intervals a schedule can use, a batch size, and a
    backend that can screen people."""
    messages: list[CheckMessage] = []
    intervals = kyc_settings.RESCREENING_INTERVAL_DAYS
    if not isinstance(intervals, Mapping):
        messages.append(
            Error(
                'DJANGO_KYC["RESCREENING_INTERVAL_DAYS"] must be a dict of risk level -> days (or None).',
                id="django_kyc.E070",
            )
        )
        intervals = {}
    levels = list(RiskLevel.values)
    for level, days in intervals.items():
        if level not in levels:
            messages.append(
                Error(
                    f'DJANGO_KYC["RESCREENING_INTERVAL_DAYS"] names an unknown risk level {level!r}.',
                    hint=f"Risk levels are {', '.join(levels)}.",
                    id="django_kyc.E071",
                )
            )
        elif days is not None and (isinstance(days, bool) or not isinstance(days, int | float) or days <= 0):
            messages.append(
                Error(
                    f'DJANGO_KYC["RESCREENING_INTERVAL_DAYS"]["{level}"] must be a positive number of days or None '
                    f"(no scheduled re-screening), not {days!r}.",
                    id="django_kyc.E072",
                )
            )
    if not messages:
        messages.extend(_rescreening_order())
    size = kyc_settings.RESCREENING_BATCH_SIZE
    if isinstance(size, bool) or not isinstance(size, int) or size < 1:
        messages.append(
            Error(
                f'DJANGO_KYC["RESCREENING_BATCH_SIZE"] must be a positive integer, not {size!r}.', id="django_kyc.E073"
            )
        )
    alias = kyc_settings.RESCREENING_BACKEND
    if alias is not None:
        classes = _backend_classes()
        if alias not in kyc_settings.backend_aliases:
            messages.append(
                Error(
                    f'DJANGO_KYC["RESCREENING_BACKEND"] is {alias!r}, which is not in DJANGO_KYC["BACKENDS"].',
                    hint="Name a configured alias, or None for the backend that screened each applicant last.",
                    id="django_kyc.E074",
                )
            )
        elif alias in classes and Capability.AML not in classes[alias].capabilities:
            messages.append(
                Error(
                    f'DJANGO_KYC["RESCREENING_BACKEND"] is {alias!r}, whose backend cannot screen people '
                    "(no `aml` capability).",
                    id="django_kyc.E075",
                )
            )
    return messages


def _rescreening_order() -> list[CheckMessage]:
    """A riskier level screened less often than a safer one is most likely a typo (days swapped)."""
    ordered = [(level, rescreening_interval(level)) for level in RiskLevel.values]
    scheduled = [(level, interval) for level, interval in ordered if interval is not None]
    for (safer, safer_interval), (riskier, riskier_interval) in pairwise(scheduled):
        if riskier_interval > safer_interval:
            return [
                Warning(
                    f'DJANGO_KYC["RESCREENING_INTERVAL_DAYS"] screens {riskier}-risk applicants less often '
                    f"({riskier_interval.days} days) than {safer}-risk ones ({safer_interval.days} days).",
                    hint="Higher risk calls for more frequent screening; check the values are not swapped.",
                    id="django_kyc.W070",
                )
            ]
    return []


@register(Tags.security)
def check_outbound_events(app_configs: Any = None, **kwargs: Any) -> list[CheckMessage]:
    """Event endpoints in settings and the address allow-list: wrong here, every delivery would fail later."""
    from django_kyc.outbound.addresses import parse_networks
    from django_kyc.outbound.catalogue import EVENT_TYPES
    from django_kyc.outbound.client import Refused, check_url
    from django_kyc.outbound.signing import secret_key

    messages: list[CheckMessage] = []
    try:
        parse_networks(kyc_settings.OUTBOUND_ALLOWED_NETWORKS or [])
    except (TypeError, ValueError) as exc:
        messages.append(
            Error(
                f'DJANGO_KYC["OUTBOUND_ALLOWED_NETWORKS"] is not a list of networks: {exc}',
                hint='Write networks in CIDR notation, e.g. ["10.20.0.0/16"].',
                id="django_kyc.E080",
            )
        )
    endpoints = kyc_settings.OUTBOUND_ENDPOINTS or {}
    if not isinstance(endpoints, Mapping):
        return [*messages, Error('DJANGO_KYC["OUTBOUND_ENDPOINTS"] must be a dict', id="django_kyc.E081")]
    for name, spec in endpoints.items():
        key = f'DJANGO_KYC["OUTBOUND_ENDPOINTS"]["{name}"]'
        problems: list[str] = []
        try:
            check_url(str(spec.get("URL", "")), allow_http=bool(settings.DEBUG))
        except Refused as exc:
            problems.append(f"URL: {exc}")
        secrets = spec.get("SECRET") or []
        for secret in [secrets] if isinstance(secrets, str) else list(secrets):
            try:
                secret_key(str(secret))
            except ValueError as exc:
                problems.append(f"SECRET: {exc}")
        if not secrets:
            problems.append("SECRET: missing (a whsec_ secret, or a list of them)")
        unknown = [event for event in spec.get("EVENTS") or [] if event != "*" and event not in EVENT_TYPES]
        if unknown:
            problems.append(f"EVENTS: unknown event types {unknown}")
        messages += [
            Error(f"{key}: {problem}", hint="See docs/events.md.", id="django_kyc.E081") for problem in problems
        ]
    return messages


#: The EU AML Regulation's longest review intervals (Art. 26), in months: a longer setting is allowed (the
#: site may not be an obliged entity under it) but warned about (W060).
AMLR_MAX_INTERVAL_MONTHS = {"high": 12, "medium": 60, "low": 60}
REVIEWED_LEVELS = ("low", "medium", "high")


@register(Tags.compatibility)
def check_review_policy(app_configs: Any = None, **kwargs: Any) -> list[CheckMessage]:
    """The review policy (docs/review-policy.md): an interval for every level that can be approved, none for
    ``prohibited``, whole non-negative day counts, and a positive batch size."""
    messages: list[CheckMessage] = []
    messages.extend(_interval_messages(kyc_settings.REVIEW_INTERVAL_MONTHS, 'DJANGO_KYC["REVIEW_INTERVAL_MONTHS"]'))
    by_country = kyc_settings.REVIEW_INTERVAL_MONTHS_BY_COUNTRY
    if not isinstance(by_country, Mapping):
        messages.append(
            Error(
                'DJANGO_KYC["REVIEW_INTERVAL_MONTHS_BY_COUNTRY"] must be a dict of country code -> intervals.',
                hint='For example {"GB": {"high": 6}}.',
                id="django_kyc.E062",
            )
        )
    else:
        for country, intervals in by_country.items():
            key = f'DJANGO_KYC["REVIEW_INTERVAL_MONTHS_BY_COUNTRY"]["{country}"]'
            if not (isinstance(country, str) and len(country) == 2 and country.isalpha() and country.isupper()):
                messages.append(
                    Error(f"{key}: use a two-letter upper-case ISO 3166-1 country code.", id="django_kyc.E062")
                )
            messages.extend(_interval_messages(intervals, key, partial=True))
    for name in ("REVIEW_NOTICE_DAYS", "DOCUMENT_EXPIRY_GRACE_DAYS"):
        value = getattr(kyc_settings, name)
        if not _whole(value) or value < 0:
            messages.append(
                Error(f'DJANGO_KYC["{name}"] must be a whole number of days, 0 or more.', id="django_kyc.E063")
            )
    if not _whole(kyc_settings.REVIEW_BATCH_SIZE) or kyc_settings.REVIEW_BATCH_SIZE < 1:
        messages.append(
            Error('DJANGO_KYC["REVIEW_BATCH_SIZE"] must be a whole number, 1 or more.', id="django_kyc.E064")
        )
    intervals = kyc_settings.REVIEW_INTERVAL_MONTHS
    notice = kyc_settings.REVIEW_NOTICE_DAYS
    if isinstance(intervals, Mapping) and _whole(notice):
        shortest = min((v for k, v in intervals.items() if k in REVIEWED_LEVELS and _whole(v) and v > 0), default=None)
        if shortest is not None and notice >= shortest * 28:
            messages.append(
                Warning(
                    f'DJANGO_KYC["REVIEW_NOTICE_DAYS"] ({notice}) is as long as the shortest review interval '
                    f"({shortest} months): people would be asked to verify again as soon as they are approved.",
                    id="django_kyc.W061",
                )
            )
    return messages


def _whole(value: Any) -> bool:
    return isinstance(value, int) and not isinstance(value, bool)


def _interval_messages(intervals: Any, key: str, *, partial: bool = False) -> list[CheckMessage]:
    if not isinstance(intervals, Mapping):
        return [Error(f"{key} must be a dict of risk level -> months.", id="django_kyc.E060")]
    messages: list[CheckMessage] = []
    if "prohibited" in intervals:
        messages.append(
            Error(
                f"{key} must not have an interval for 'prohibited'.",
                hint="A prohibited applicant is never approved, so there is nothing to review periodically; one "
                "that is approved falls due at once.",
                id="django_kyc.E061",
            )
        )
    missing = [] if partial else [level for level in REVIEWED_LEVELS if level not in intervals]
    if missing:
        messages.append(Error(f"{key} has no interval for {', '.join(missing)}.", id="django_kyc.E060"))
    for level, months in intervals.items():
        if level == "prohibited":
            continue
        if level not in REVIEWED_LEVELS:
            messages.append(
                Error(f"{key}: unknown risk level {level!r} (use low, medium, high).", id="django_kyc.E060")
            )
        elif not _whole(months) or months < 1:
            messages.append(
                Error(f'{key}["{level}"] must be a whole number of months, 1 or more.', id="django_kyc.E060")
            )
        elif months > AMLR_MAX_INTERVAL_MONTHS[level]:
            messages.append(
                Warning(
                    f'{key}["{level}"] is {months} months: longer than the EU AML Regulation allows '
                    f"({AMLR_MAX_INTERVAL_MONTHS[level]}, Art. 26).",
                    hint="Fine where the AMLR does not apply to the site; otherwise shorten it.",
                    id="django_kyc.W060",
                )
            )
    return messages


@register(Tags.compatibility)
def check_sanctions_lists(app_configs: Any = None, **kwargs: Any) -> list[CheckMessage]:
    """``SANCTIONS_LISTS``: known lists, known file names, URLs a download can fetch; a sane shrink guard."""
    from urllib.parse import urlsplit

    from django_kyc.sanctions.importers import importers

    hint = "See docs/sanctions-lists.md."
    configured = kyc_settings.SANCTIONS_LISTS
    if not isinstance(configured, Mapping):
        return [
            Error('DJANGO_KYC["SANCTIONS_LISTS"] must be a dict of list → {file: URL}', hint=hint, id="django_kyc.E090")
        ]
    known = importers()
    messages: list[CheckMessage] = []
    for source, files in configured.items():
        if source not in known:
            messages.append(
                Error(
                    f'DJANGO_KYC["SANCTIONS_LISTS"]: unknown list {source!r}; known: {", ".join(sorted(known))}',
                    hint=hint,
                    id="django_kyc.E090",
                )
            )
            continue
        if not isinstance(files, Mapping):
            messages.append(
                Error(
                    f'DJANGO_KYC["SANCTIONS_LISTS"]["{source}"] must be a dict of file → URL',
                    hint=hint,
                    id="django_kyc.E091",
                )
            )
            continue
        for name, url in files.items():
            if name not in known[source].files:
                messages.append(
                    Error(
                        f'DJANGO_KYC["SANCTIONS_LISTS"]["{source}"]: no file called {name!r}; its files are '
                        f"{', '.join(known[source].files)}",
                        hint=hint,
                        id="django_kyc.E091",
                    )
                )
            elif not isinstance(url, str) or urlsplit(url).scheme not in ("http", "https", "file"):
                messages.append(
                    Error(
                        f'DJANGO_KYC["SANCTIONS_LISTS"]["{source}"]["{name}"] = {url!r} is not an http(s):// or '
                        "file:// URL",
                        hint=hint,
                        id="django_kyc.E092",
                    )
                )
            elif urlsplit(url).scheme == "http":
                messages.append(
                    Warning(
                        f'DJANGO_KYC["SANCTIONS_LISTS"]["{source}"]["{name}"] is fetched over plain http: a '
                        "network attacker could change the list",
                        hint=hint,
                        id="django_kyc.W090",
                    )
                )
    shrink = kyc_settings.SANCTIONS_MAX_SHRINK
    if isinstance(shrink, bool) or not isinstance(shrink, int | float) or not 0 < shrink <= 1:
        messages.append(
            Error(
                'DJANGO_KYC["SANCTIONS_MAX_SHRINK"] must be a share between 0 and 1 (0.5: half)',
                hint=hint,
                id="django_kyc.E093",
            )
        )
    return messages
