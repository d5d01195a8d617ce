"""``DJANGO_KYC`` for one test: the suite's settings with some keys replaced, for ``override_settings``."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, cast

from django.conf import settings


def kyc_settings_with(**changes: Any) -> dict[str, Any]:
    """The test suite's ``DJANGO_KYC`` with some keys replaced, for ``override_settings``."""
    return {**settings.DJANGO_KYC, **changes}


def suite_backends(**extra: Mapping[str, Any]) -> dict[str, Any]:
    """The suite's ``DJANGO_KYC["BACKENDS"]`` plus some more aliases."""
    backends = cast(Mapping[str, Any], settings.DJANGO_KYC["BACKENDS"])
    return {**backends, **extra}
