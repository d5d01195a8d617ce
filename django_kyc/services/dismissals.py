"""The reviewers' false-positive memory: a hit resolved "not a match" is not raised again for the same person
and the same listed entity until one of them changes.

Reviewers' time is the cost of screening, and the same namesake coming back at every re-screening is the
complaint every compliance team has. So when a reviewer resolves a person's hit as a false positive,
:func:`remember` stores (applicant, backend, entity) with two fingerprints: the listed entity's content
(``AmlHit.details["entity_digest"]``, which a backend fills when it can tell; without one, the dismissal holds
until the applicant changes) and a keyed hash of the applicant's screened fields. :func:`apply_dismissals`
is the one place a screening's result is filtered: every backend's hits pass through it, and a backend that can
tell its provider what to leave out (yente's ``exclude_entity_ids``) asks :func:`dismissed_entities`.
"""

from __future__ import annotations

import hashlib
import hmac
import json
from collections.abc import Mapping, Sequence
from typing import Any

from django.contrib.auth.models import AbstractBaseUser, AnonymousUser

from django_kyc.backends.values import AmlHitResult
from django_kyc.crypto import blind_index_key
from django_kyc.models import AmlHit, Applicant, ScreeningDismissal
from django_kyc.models.aml import AmlSubject
from django_kyc.models.screening import SCREENED_FIELDS
from django_kyc.sanctions.names import normalised

#: The key of ``AmlHit.details`` / ``AmlHitResult.details`` holding the listed entity's content digest.
ENTITY_DIGEST = "entity_digest"
_CONTEXT = b"django-kyc dismissal v1\x00"


def applicant_digest(applicant: Applicant) -> str:
    """A keyed hash of what a person screening reads about ``applicant``: equal while nothing screened changed.
    Keyed (``BLIND_INDEX_KEY``) so the stored value reveals nothing about the person."""
    values: dict[str, Any] = {}
    for name in SCREENED_FIELDS:
        value = getattr(applicant, name)
        values[name] = normalised(value) if isinstance(value, str) else (value.isoformat() if value else "")
    message = _CONTEXT + json.dumps(values, sort_keys=True).encode()
    return hmac.new(blind_index_key(), message, hashlib.sha256).hexdigest()


def remember(hit: AmlHit, user: AbstractBaseUser | AnonymousUser | None) -> ScreeningDismissal | None:
    """Record a false-positive resolution of ``hit`` (person screenings only: a wallet's hit is about the
    wallet). A later dismissal of the same entity replaces the earlier one."""
    check = hit.aml_check
    if check.subject != AmlSubject.APPLICANT:
        return None
    dismissal, _ = ScreeningDismissal.objects.update_or_create(
        applicant_id=check.applicant_id,
        backend=check.backend,
        entity_id=hit.entity_id,
        defaults={
            "entity_digest": str(hit.details.get(ENTITY_DIGEST, ""))[:64],
            "applicant_digest": applicant_digest(check.applicant),
            "hit": hit,
            "dismissed_by": user if user is not None and user.is_authenticated else None,
        },
    )
    return dismissal


def dismissed_entities(applicant: Applicant, backend: str) -> dict[str, str]:
    """Entity id → entity digest of the dismissals that still hold for ``applicant`` as they are now."""
    current = applicant_digest(applicant)
    return dict(
        ScreeningDismissal.objects.filter(applicant=applicant, backend=backend, applicant_digest=current).values_list(
            "entity_id", "entity_digest"
        )
    )


def apply_dismissals(
    applicant: Applicant, backend: str, hits: Sequence[AmlHitResult]
) -> tuple[list[AmlHitResult], list[str]]:
    """``hits`` without those a reviewer dismissed for this applicant (while neither side changed), and the
    entity ids left out, for the record."""
    if not hits:
        return [], []
    dismissed = dismissed_entities(applicant, backend)
    kept: list[AmlHitResult] = []
    left_out: list[str] = []
    for hit in hits:
        if _still_dismissed(dismissed, hit.entity_id, hit.details):
            left_out.append(hit.entity_id)
        else:
            kept.append(hit)
    return kept, left_out


def _still_dismissed(dismissed: Mapping[str, str], entity_id: str, details: Mapping[str, Any]) -> bool:
    if entity_id not in dismissed:
        return False
    remembered = dismissed[entity_id]
    return not remembered or remembered == str(details.get(ENTITY_DIGEST, ""))
