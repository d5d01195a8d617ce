"""System checks for screening against the local lists: ``AML_BACKEND`` names a backend that screens people
(``E095``, ``E096``), and a configured ``lists`` backend has something to screen against (``W095``).

``W095`` reads the database, so it is registered under Django's ``database`` tag: Django runs those only when
asked for databases (``migrate``, ``check --database default``), never at import or on every ``runserver``.
Before the tables exist (a fresh install, before ``migrate``) it says nothing.
"""

from __future__ import annotations

from typing import Any

from django.core.checks import CheckMessage, Error, Tags, Warning, register
from django.db import DatabaseError

from django_kyc.backends.capabilities import Capability
from django_kyc.checks import _backend_classes
from django_kyc.conf import kyc_settings


@register(Tags.compatibility)
def check_aml_backend(app_configs: Any = None, **kwargs: Any) -> list[CheckMessage]:
    alias = kyc_settings.AML_BACKEND
    if alias is None:
        return []
    if alias not in kyc_settings.backend_aliases:
        return [
            Error(
                f'DJANGO_KYC["AML_BACKEND"] is {alias!r}, which is not in DJANGO_KYC["BACKENDS"].',
                hint="Name a configured alias, or None for DEFAULT_BACKEND.",
                id="django_kyc.E095",
            )
        ]
    classes = _backend_classes()
    if alias in classes and Capability.AML not in classes[alias].capabilities:
        return [
            Error(
                f'DJANGO_KYC["AML_BACKEND"] is {alias!r}, whose backend cannot screen people (no `aml` capability).',
                id="django_kyc.E096",
            )
        ]
    return []


@register(Tags.database)
def check_lists_loaded(app_configs: Any = None, databases: Any = None, **kwargs: Any) -> list[CheckMessage]:
    if not databases:
        return []
    from django_kyc.backends.lists import ListsBackend, loaded_lists

    aliases = sorted(alias for alias, cls in _backend_classes().items() if issubclass(cls, ListsBackend))
    if not aliases:
        return []
    try:
        loaded = loaded_lists()
    except DatabaseError:  # the tables do not exist yet: nothing to say before migrate
        return []
    if loaded:
        return []
    return [
        Warning(
            f"The lists backend ({', '.join(aliases)}) has no sanctions list loaded: its screenings end in error.",
            hint="Run `python manage.py kyc_load_lists` (and schedule it daily).",
            id="django_kyc.W095",
        )
    ]
