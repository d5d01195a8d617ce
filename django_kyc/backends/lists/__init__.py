"""Screening against the official sanctions lists loaded into the site's own database (``kyc_load_lists``).

``CLASS`` is ``django_kyc.backends.lists.ListsBackend``. No provider, no HTTP: the matching is
:mod:`django_kyc.sanctions.matching`. Options and setup: ``docs/providers/lists.md``; how matching works:
``docs/screening.md``.
"""

from __future__ import annotations

from django_kyc.backends.lists.backend import NOTHING_LOADED, ListsBackend, loaded_lists

__all__ = ["NOTHING_LOADED", "ListsBackend", "loaded_lists"]
