"""The audit trail writer: who did what, through which door, and why.

Every row of :class:`~django_kyc.models.AuditEvent` is written here, for status changes (by the transition
service) and for everything else a person or the system does to KYC data: uploads, file and report views,
exports, assignments, four-eyes proposals, decision pushes, erasure. The ``action`` is one of
:class:`~django_kyc.status.AuditAction`, so the admin can filter on a closed list and a reader can find every
kind of row in one place. Rows are append-only (:meth:`AuditEvent.save` refuses updates).
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from django_kyc.models import AmlCheck, Applicant, AuditEvent, Document, Verification, WebhookEvent
from django_kyc.models.verification import DecisionSource
from django_kyc.status import Actor, AuditAction, Source

if TYPE_CHECKING:
    from django.contrib.auth.models import AbstractBaseUser, AnonymousUser


@dataclass(frozen=True)
class Change:
    """Who is making a change, through which door, and why. Recorded on every audit row it causes."""

    actor_type: str
    source: str
    user: AbstractBaseUser | AnonymousUser | None = None
    label: str = ""
    reason: str = ""
    reason_code: str = ""
    webhook_event: WebhookEvent | None = None

    @classmethod
    def system(cls, source: str = Source.SYSTEM, reason: str = "") -> Change:
        return cls(actor_type=Actor.SYSTEM, source=source, label="django_kyc", reason=reason)

    @classmethod
    def provider(cls, backend: str, source: str, webhook_event: WebhookEvent | None = None) -> Change:
        return cls(actor_type=Actor.PROVIDER, source=source, label=backend, webhook_event=webhook_event)

    @classmethod
    def by_user(
        cls,
        user: AbstractBaseUser | AnonymousUser | None,
        source: str,
        reason: str = "",
        reason_code: str = "",
    ) -> Change:
        label = user.get_username() if user is not None and user.is_authenticated else ""
        return cls(
            actor_type=Actor.USER,
            source=source,
            user=user,
            label=label,
            reason=reason,
            reason_code=reason_code,
        )

    @property
    def decision_source(self) -> str:
        sources: dict[str, str] = {
            Actor.USER: DecisionSource.REVIEWER,
            Actor.PROVIDER: DecisionSource.PROVIDER,
        }
        return sources.get(self.actor_type, DecisionSource.SYSTEM)


def audit(
    change: Change,
    *,
    obj: Applicant | Document | Verification | AmlCheck,
    applicant_id: Any,
    action: AuditAction = AuditAction.STATUS_CHANGE,
    from_status: str = "",
    to_status: str = "",
    data: Mapping[str, Any] | None = None,
) -> AuditEvent:
    """Append one audit row about ``obj`` (an AML hit is audited on its check, naming the hit in ``data``)."""
    row = _row(change, obj, applicant_id, action, data)
    row.from_status, row.to_status = from_status, to_status
    row.save(force_insert=True)
    return row


def audit_many(
    change: Change,
    objects: Iterable[Applicant],
    *,
    action: AuditAction,
    data: Mapping[str, Any] | None = None,
) -> list[AuditEvent]:
    """One row per applicant in a single INSERT, for actions on many at once (an export)."""
    return AuditEvent.objects.bulk_create(_row(change, applicant, applicant.pk, action, data) for applicant in objects)


def audit_each(
    change: Change,
    rows: Iterable[tuple[Applicant, str, str, Mapping[str, Any] | None]],
    *,
    action: AuditAction = AuditAction.STATUS_CHANGE,
) -> list[AuditEvent]:
    """One row per ``(applicant, from_status, to_status, data)`` in a single INSERT: a batch of applicants each
    making its own change (the daily review run)."""
    events = []
    for applicant, from_status, to_status, data in rows:
        event = _row(change, applicant, applicant.pk, action, data)
        event.from_status, event.to_status = from_status, to_status
        events.append(event)
    return AuditEvent.objects.bulk_create(events)


def _row(
    change: Change,
    obj: Applicant | Document | Verification | AmlCheck,
    applicant_id: Any,
    action: AuditAction,
    data: Mapping[str, Any] | None,
) -> AuditEvent:
    if action not in AuditAction.values:
        raise ValueError(f"unknown audit action {action!r}: add it to django_kyc.status.AuditAction")
    user = change.user if change.user is not None and change.user.is_authenticated else None
    return AuditEvent(
        applicant_id=applicant_id,
        object_type=type(obj)._meta.model_name or "",
        object_id=str(obj.pk),
        action=action,
        actor_type=change.actor_type,
        actor=user,  # type: ignore[misc]  # the site's AUTH_USER_MODEL
        actor_label=change.label[:128],
        source=change.source,
        reason_code=change.reason_code,
        reason=change.reason,
        webhook_event=change.webhook_event,
        data=dict(data or {}),
    )


def decision_reason(verification: Verification) -> tuple[str, str]:
    """The reason and reason code recorded with the change that gave ``verification`` its current status,
    for a provider that wants the reviewer's words with a pushed decision."""
    row = (
        AuditEvent.objects.filter(
            object_type="verification",
            object_id=str(verification.pk),
            action=AuditAction.STATUS_CHANGE,
            to_status=verification.status,
        )
        .order_by("-created_at", "-id")
        .values_list("reason", "reason_code")
        .first()
    )
    return (row[0], row[1]) if row else ("", "")
