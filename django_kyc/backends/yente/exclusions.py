"""Reviewers' dismissals told to yente (``exclude_entity_ids``), without losing what the memory promises
(``docs/providers/yente.md``, "False positives").

Every backend's hits already pass through :func:`django_kyc.services.dismissals.apply_dismissals`; yente is
also told, so a dismissed namesake does not take one of the ``limit`` places a real candidate needs. Two limits
shape the plan:

* yente takes at most 50 ids per request: the 50 most recently dismissed are excluded there, and ``limit`` is
  raised by the number left over, which come back and are filtered here;
* a dismissal holds only while the listed entity is unchanged (its ``last_change`` is the digest), but an
  entity excluded at yente cannot be seen to have changed. So a second call (the *probe*) asks, for the same
  person, only for entities changed since the oldest excluded digest (``changed_since``, which yente compares
  with ``last_change``); an excluded entity it returns with another ``last_change`` was amended and is raised
  again. An id whose digest is not a timestamp yente can compare is not excluded at all (the filter handles
  it), and one dismissed without a digest holds until the person changes, so it needs no probe.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from django_kyc.models import Applicant

#: yente's ``exclude_entity_ids`` cap per request.
MAX_EXCLUDED = 50
#: What yente's ``changed_since`` accepts (``YYYY-MM-DD[THH[:MM[:SS]]]``).
TIMESTAMP = re.compile(r"^\d{4}-\d{2}-\d{2}(T\d{2}(:\d{2}(:\d{2})?)?)?$")


@dataclass(frozen=True)
class ExclusionPlan:
    """``excluded``: ids sent to yente; ``left_over``: dismissed ids not sent (they come back and are filtered,
    so ``limit`` grows by their number); ``watched``: excluded id → digest, checked by the probe."""

    excluded: tuple[str, ...] = ()
    left_over: int = 0
    watched: dict[str, str] = field(default_factory=dict)

    @property
    def changed_since(self) -> str:
        """The probe's ``changed_since``: the oldest watched digest (every later change is newer than it)."""
        return min(self.watched.values()) if self.watched else ""


def digest_timestamp(digest: str) -> str:
    """A ``last_change`` as ``changed_since`` takes it (seconds, no zone or fraction), or ``""``."""
    stamp = digest.strip()[:19]
    return stamp if TIMESTAMP.match(stamp) else ""


def plan_for(dismissed: list[tuple[str, str]]) -> ExclusionPlan:
    """The plan for ``dismissed`` (entity id, digest) pairs, newest dismissal first."""
    excludable = [(entity_id, digest) for entity_id, digest in dismissed if not digest or digest_timestamp(digest)]
    chosen = excludable[:MAX_EXCLUDED]
    watched = {entity_id: digest_timestamp(digest) for entity_id, digest in chosen if digest}
    return ExclusionPlan(
        excluded=tuple(entity_id for entity_id, _ in chosen), left_over=len(dismissed) - len(chosen), watched=watched
    )


def dismissals_for(applicant: Applicant, alias: str) -> list[tuple[str, str]]:
    """The dismissals that still hold for ``applicant`` under backend ``alias``, newest first."""
    from django_kyc.models import ScreeningDismissal
    from django_kyc.services.dismissals import dismissed_entities

    holding = dismissed_entities(applicant, alias)
    if not holding:
        return []
    order = ScreeningDismissal.objects.filter(applicant=applicant, backend=alias, entity_id__in=list(holding))
    newest_first = order.order_by("-created_at", "-pk").values_list("entity_id", flat=True)
    return [(entity_id, holding[entity_id]) for entity_id in newest_first]
