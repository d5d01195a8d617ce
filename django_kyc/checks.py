"""System checks: misconfiguration is reported at startup, naming the exact key."""

from __future__ import annotations

import os
import tempfile
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from django.conf import settings
from django.core.checks import CheckMessage, Error, Tags, Warning, register

from django_kyc.backends.registry import get_backend_class
from django_kyc.conf import kyc_settings
from django_kyc.exceptions import KycConfigurationError


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
        for name in cls.missing_options(options):
            messages.append(
                Error(
                    f'DJANGO_KYC["BACKENDS"]["{alias}"]["OPTIONS"]["{name}"] is required by {cls.__name__}.',
                    id="django_kyc.E005",
                )
            )
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
        connect, read = cls.default_timeout or (0.0, 0.0)
        total = float(options.get("CONNECT_TIMEOUT", connect)) + float(options.get("READ_TIMEOUT", read))
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
        BLIND_INDEX_SETTING,
        KEYS_SETTING,
        MIN_BLIND_INDEX_KEY_LENGTH,
        validate_encryption_keys,
    )

    messages: list[CheckMessage] = []
    keys = kyc_settings.ENCRYPTION_KEYS
    if not keys:
        if settings.DEBUG:
            messages.append(
                Warning(
                    f"{KEYS_SETTING} is not set; personal data is encrypted with a development key derived "
                    "from SECRET_KEY.",
                    hint="Set real keys before DEBUG is turned off; see docs/encryption.md.",
                    id="django_kyc.W020",
                )
            )
        else:
            messages.append(
                Error(
                    f"{KEYS_SETTING} is not set; django_kyc refuses to store personal data unencrypted.",
                    hint="Generate a key with `python -c 'from cryptography.fernet import Fernet; "
                    "print(Fernet.generate_key().decode())'` and set the list, newest first.",
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
                    hint="Set a real key before DEBUG is turned off; indexes must be rebuilt (kyc_rotate_keys) "
                    "when it changes.",
                    id="django_kyc.W021",
                )
            )
        else:
            messages.append(
                Error(
                    f"{BLIND_INDEX_SETTING} is not set; it is needed to look up encrypted document numbers.",
                    hint="Use a random string of at least 32 characters, e.g. "
                    "`python -c 'import secrets; print(secrets.token_urlsafe(48))'`.",
                    id="django_kyc.E021",
                )
            )
    elif not isinstance(bidx_key, str | bytes) or len(bidx_key) < MIN_BLIND_INDEX_KEY_LENGTH:
        messages.append(
            Error(
                f"{BLIND_INDEX_SETTING} must be a string of at least {MIN_BLIND_INDEX_KEY_LENGTH} characters.",
                id="django_kyc.E023",
            )
        )
    elif isinstance(keys, list | tuple) and bidx_key in keys:
        messages.append(
            Error(
                f"{BLIND_INDEX_SETTING} must not be one of {KEYS_SETTING}: one leaked key would expose both.",
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
            id="django_kyc.E030",
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
