from __future__ import annotations

from typing import Any

from django.apps import apps
from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _
from django.utils.translation import pgettext_lazy

from django_kyc.status import (
    Actor,
    AmlHitStatus,
    AmlStatus,
    ApplicantStatus,
    AuditAction,
    DocumentStatus,
    Source,
    VerificationStatus,
)

#: The statuses of each kind of object the trail records, for naming them in the active language.
STATUS_CHOICES: dict[str, type[models.TextChoices]] = {
    "applicant": ApplicantStatus,
    "verification": VerificationStatus,
    "document": DocumentStatus,
    "amlcheck": AmlStatus,
    "amlhit": AmlHitStatus,
}


class AuditEvent(models.Model):
    """Append-only history: every status change, decision and document access.

    Rows are never updated or deleted by the application; :meth:`save` refuses updates and the admin is
    read-only.
    """

    created_at = models.DateTimeField(pgettext_lazy("audit event: when", "at"), auto_now_add=True, db_index=True)
    applicant = models.ForeignKey(
        "django_kyc.Applicant", on_delete=models.CASCADE, related_name="audit_events", null=True, blank=True
    )
    object_type = models.CharField(_("object type"), max_length=32)
    object_id = models.CharField(_("object id"), max_length=64)
    action = models.CharField(
        _("action"), max_length=32, choices=AuditAction.choices, default=AuditAction.STATUS_CHANGE
    )
    from_status = models.CharField(pgettext_lazy("audit event: old status", "from"), max_length=32, blank=True)
    to_status = models.CharField(pgettext_lazy("audit event: new status", "to"), max_length=32, blank=True)
    actor_type = models.CharField(_("actor type"), max_length=16, choices=Actor.choices)
    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    actor_label = models.CharField(_("actor"), max_length=128, blank=True)
    source = models.CharField(_("source"), max_length=16, choices=Source.choices)
    reason_code = models.CharField(_("reason code"), max_length=64, blank=True)
    reason = models.TextField(_("reason"), blank=True)
    webhook_event = models.ForeignKey(
        "django_kyc.WebhookEvent", on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    data = models.JSONField(_("data"), default=dict, blank=True)

    class Meta:
        verbose_name = _("audit event")
        verbose_name_plural = _("audit events")
        ordering = ["-created_at", "-id"]
        indexes = [
            models.Index(fields=["applicant", "-created_at"], name="kyc_audit_applicant_idx"),
            models.Index(fields=["object_type", "object_id"], name="kyc_audit_object_idx"),
        ]

    def __str__(self) -> str:
        return f"{self.object_type} {self.from_status}→{self.to_status}"

    def save(self, *args: Any, **kwargs: Any) -> None:
        if not self._state.adding:
            raise ValueError("Audit events are append-only.")
        super().save(*args, **kwargs)

    def delete(self, *args: Any, **kwargs: Any) -> Any:
        raise ValueError("Audit events are append-only.")

    @property
    def object_type_label(self) -> str:
        """What kind of object the row is about, as its model names it in the active language."""
        try:
            return str(apps.get_model("django_kyc", self.object_type)._meta.verbose_name)
        except LookupError:
            return self.object_type

    def status_label(self, status: str) -> str:
        """``status`` (one of this object's) in the active language; a code it does not know as itself."""
        choices = STATUS_CHOICES.get(self.object_type)
        return str(choices(status).label) if choices is not None and status in choices.values else status

    @property
    def from_status_label(self) -> str:
        return self.status_label(self.from_status)

    @property
    def to_status_label(self) -> str:
        return self.status_label(self.to_status)
