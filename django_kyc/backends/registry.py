"""Backend instances by alias, built from ``DJANGO_KYC["BACKENDS"]`` and cached until settings change."""

from __future__ import annotations

import threading
from collections.abc import Mapping
from typing import Any

from django.core.signals import setting_changed
from django.dispatch import receiver
from django.utils.module_loading import import_string

from django_kyc.backends.base import KycBackend
from django_kyc.conf import kyc_settings
from django_kyc.exceptions import KycConfigurationError

_cache: dict[str, KycBackend] = {}
_lock = threading.Lock()


def get_backend_class(alias: str) -> type[KycBackend]:
    config = kyc_settings.backend_config(alias)
    if config is None:
        raise KycConfigurationError(f'DJANGO_KYC["BACKENDS"] has no backend with alias {alias!r}.')
    dotted = config.get("CLASS")
    if not isinstance(dotted, str) or not dotted:
        raise KycConfigurationError(f'DJANGO_KYC["BACKENDS"]["{alias}"]["CLASS"] must be a dotted path.')
    try:
        cls = import_string(dotted)
    except ImportError as exc:
        raise KycConfigurationError(
            f'DJANGO_KYC["BACKENDS"]["{alias}"]["CLASS"] = {dotted!r} cannot be imported: {exc}'
        ) from exc
    if not (isinstance(cls, type) and issubclass(cls, KycBackend)):
        raise KycConfigurationError(
            f'DJANGO_KYC["BACKENDS"]["{alias}"]["CLASS"] = {dotted!r} is not a KycBackend subclass.'
        )
    return cls


def get_backend(alias: str | None = None) -> KycBackend:
    """The backend configured under ``alias`` (the default backend when ``None``)."""
    alias = alias or kyc_settings.DEFAULT_BACKEND
    with _lock:
        backend = _cache.get(alias)
        if backend is None:
            cls = get_backend_class(alias)
            config = kyc_settings.backend_config(alias) or {}
            options = config.get("OPTIONS") or {}
            if not isinstance(options, Mapping):
                raise KycConfigurationError(f'DJANGO_KYC["BACKENDS"]["{alias}"]["OPTIONS"] must be a dict.')
            backend = cls(alias, options)
            _cache[alias] = backend
        return backend


def is_configured(alias: str) -> bool:
    return kyc_settings.backend_config(alias) is not None


def clear_cache() -> None:
    with _lock:
        _cache.clear()


@receiver(setting_changed)
def _clear_on_setting_change(*, setting: str, **kwargs: Any) -> None:
    if setting == "DJANGO_KYC":
        clear_cache()
