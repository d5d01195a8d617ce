"""The applicant's risk level: the only code that changes it, and the history the four-eyes rule reads.

The risk level decides whether a decision needs a second reviewer, so whoever could change it unseen could
switch the four-eyes policy off for the applicant in front of them. Every change therefore goes through
:func:`set_risk_level`, which locks the applicant and writes a ``risk_changed`` audit row (old and new level in
``from_status``/``to_status``, who, and why). :func:`history` reads those rows back for
:func:`~django_kyc.services.review.four_eyes_rule`, so lowering the level does not lower the bar for the
decision it was lowered for. The applicant's next review follows the new level
(:func:`~django_kyc.services.review_policy.reschedule`, in the same transaction).
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.db.models import Q
from django.utils.translation import gettext as _

from django_kyc.models import Applicant, AuditEvent
from django_kyc.services import events, review_policy
from django_kyc.services.audit import Change, audit
from django_kyc.services.reviewers import check_reviewer
from django_kyc.status import Actor, AuditAction, RiskLevel


def set_risk_level(applicant_id: Any, level: str, change: Change) -> Applicant:
    """Change an applicant's risk level, audited with the old and new level, the actor and the reason.

    A person needs ``review_applicant`` and a reason code from the catalogue (the rule of every reviewer
    decision) and may not rate their own applicant; other actors (a site's own risk engine running as
    :meth:`Change.system`) need a reason. Setting the level the applicant already has is refused rather than
    audited as a change that did not happen.
    """
    if level not in RiskLevel.values:
        raise ValidationError({"risk_level": _("Unknown risk level %(level)s.") % {"level": repr(level)}})
    if change.actor_type == Actor.USER:
        assert change.user is not None
        check_reviewer(change.user, change.reason_code)
    elif not (change.reason or change.reason_code):
        raise ValidationError({"reason": _("A risk level change needs a reason.")})
    with transaction.atomic():
        applicant = Applicant.objects.select_for_update().get(pk=applicant_id)
        if change.user is not None and applicant.user_id is not None and applicant.user_id == change.user.pk:
            raise PermissionDenied(_("Reviewers cannot change the risk level of their own applicant."))
        old = applicant.risk_level
        if old == level:
            raise ValidationError(
                {"risk_level": _("The risk level is already %(level)s.") % {"level": RiskLevel(level).label}}
            )
        applicant.risk_level = level
        applicant.save(update_fields=["risk_level", "updated_at"])
        audit(
            change,
            obj=applicant,
            applicant_id=applicant.pk,
            action=AuditAction.RISK_CHANGED,
            from_status=old,
            to_status=level,
        )
        events.emit(
            "applicant.risk_changed",
            applicant,
            {"applicant_id": str(applicant.pk), "from_level": old or "", "to_level": level},
        )
        # the interval follows the level: a riskier customer is reviewed sooner (AMLR Art. 26)
        applicant = review_policy.reschedule(applicant.pk, change, trigger=review_policy.TRIGGER_RISK)
    return applicant


@dataclass(frozen=True)
class RiskHistory:
    """What the risk level was before it became what it is, as far as a decision needs to know."""

    #: levels the applicant had at some moment since the item under decision was opened
    held_since: frozenset[str]
    #: levels the deciding reviewer moved the applicant away from, whenever that was
    left_by_decider: frozenset[str]


def history(applicant_id: Any, *, since: datetime, decider: Any = None) -> RiskHistory:
    """The earlier levels that still count for a decision made now by ``decider`` on an item opened ``since``.

    Each change replaces the level it starts from, so the levels held since a moment are the current one and
    the ``from`` side of every change after it. A change made by the decider counts whenever it was made: a
    reviewer who took the level down cannot be the only pair of eyes on that applicant. One query.
    """
    window = Q(created_at__gte=since)
    decider_id = getattr(decider, "pk", None)
    if decider_id is not None:
        window |= Q(actor_id=decider_id)
    rows = AuditEvent.objects.filter(window, applicant_id=applicant_id, action=AuditAction.RISK_CHANGED).values_list(
        "from_status", "actor_id", "created_at"
    )
    held, left = set(), set()
    for level, actor_id, at in rows:
        if at >= since:
            held.add(level)
        if decider_id is not None and actor_id == decider_id:
            left.add(level)
    return RiskHistory(held_since=frozenset(held), left_by_decider=frozenset(left))


def highest(levels: Iterable[str]) -> str:
    """The most severe of ``levels``, in the order of :class:`~django_kyc.status.RiskLevel` (unknown ones least)."""
    rank = {level: position for position, level in enumerate(RiskLevel.values)}
    return max(levels, key=lambda level: rank.get(level, -1))
