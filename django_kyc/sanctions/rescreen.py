"""After a list load that added or changed entries: which approved applicants could now match, made due.

Only when the ``lists`` backend is the one re-screenings go through; another backend screens against its
own data and gains nothing from our lists changing. An applicant "could match" when a match key of their
name meets a key of a changed entry's name (the same keys the candidate index uses), so this is a cheap
superset of the matcher's candidates. Applicants are read in batches with only their name columns, so memory
stays constant however many there are; the changed keys are held as one set (a few per name).
"""

from __future__ import annotations

import logging
from typing import Any

from django.utils.module_loading import import_string

from django_kyc.conf import kyc_settings
from django_kyc.models import Applicant
from django_kyc.models.sanctions import ListNameKey, ListVersion
from django_kyc.sanctions import names
from django_kyc.status import ApplicantStatus

logger = logging.getLogger("django_kyc.sanctions")

PROVIDER = "lists"
BATCH = 500


def lists_backend_in_use() -> bool:
    """Whether re-screenings go through a backend of provider ``lists`` (``RESCREENING_BACKEND``, else
    ``DEFAULT_BACKEND``). Read from the alias's configured class path, importing it only when the path alone
    does not tell."""
    alias = str(kyc_settings.RESCREENING_BACKEND or kyc_settings.DEFAULT_BACKEND or "")
    config = kyc_settings.backend_config(alias) or {}
    dotted = str(config.get("CLASS", "") if hasattr(config, "get") else "")
    if not dotted:
        return False
    if dotted.endswith(f".{PROVIDER}.ListsBackend") or dotted.endswith(f".{PROVIDER}.backend.ListsBackend"):
        return True
    try:
        return getattr(import_string(dotted), "provider", "") == PROVIDER
    except ImportError:
        return False


def changed_keys(version: ListVersion) -> set[str]:
    """The match keys of every name of the entries ``version`` added or changed."""
    return set(
        ListNameKey.objects.filter(name__entry__changed_version=version).values_list("key", flat=True).distinct()
    )


def applicants_matching(keys: set[str]) -> list[Any]:
    """The approved applicants a name key of theirs meets one of ``keys``."""
    found: list[Any] = []
    if not keys:
        return found
    approved = Applicant.objects.filter(status=ApplicantStatus.VERIFIED, pii_redacted_at__isnull=True)
    rows = approved.values_list("pk", "first_name", "middle_name", "last_name").order_by("pk")
    for pk, *parts in rows.iterator(chunk_size=BATCH):
        if names.name_keys(" ".join(part for part in parts if part)) & keys:
            found.append(pk)
    return found


def rescreen_changed(version: ListVersion | None) -> int:
    """Make due the approved applicants a changed entry of ``version`` could match; returns how many."""
    from django_kyc.services.rescreening import make_due

    if version is None or not (version.added or version.changed) or not lists_backend_in_use():
        return 0
    due = 0
    matching = applicants_matching(changed_keys(version))
    for start in range(0, len(matching), BATCH):
        due += make_due(matching[start : start + BATCH])
    if due:
        logger.info(
            "sanctions list %s changed: %d applicant(s) due for re-screening", version.sanctions_list.source, due
        )
    return due
