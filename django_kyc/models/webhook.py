from __future__ import annotations

import uuid

from django.db import models
from django.utils.translation import gettext_lazy as _

from django_kyc.crypto import EncryptedTextField


class WebhookState(models.TextChoices):
    RECEIVED = "received", _("Received")
    PROCESSED = "processed", _("Processed")
    IGNORED = "ignored", _("Ignored (stale or duplicate)")
    RETRY_WAIT = "retry_wait", _("Waiting to retry")
    FAILED = "failed", _("Failed")


class WebhookEvent(models.Model):
    """The inbox: every authenticated provider event, stored before it is processed.

    The unique constraint on (backend, event_id) is what makes a repeated delivery a no-op.
    """

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    backend = models.CharField(_("backend alias"), max_length=64)
    event_id = models.CharField(_("provider event id"), max_length=255)
    event_type = models.CharField(_("event type"), max_length=128, blank=True)
    provider_ref = models.CharField(_("provider reference"), max_length=128, blank=True)
    occurred_at = models.DateTimeField(_("occurred at"), null=True, blank=True)
    received_at = models.DateTimeField(_("received at"), auto_now_add=True)
    headers = models.JSONField(_("headers (allow-listed)"), default=dict, blank=True)
    body = EncryptedTextField(_("body"), blank=True)  # the raw delivery: names, dates of birth, numbers
    state = models.CharField(_("state"), max_length=16, choices=WebhookState.choices, default=WebhookState.RECEIVED)
    attempts = models.PositiveIntegerField(_("attempts"), default=0)
    next_attempt_at = models.DateTimeField(_("next attempt at"), null=True, blank=True)
    last_error = models.TextField(_("last error"), blank=True)
    note = models.CharField(_("note"), max_length=255, blank=True)
    processed_at = models.DateTimeField(_("processed at"), null=True, blank=True)
    verification = models.ForeignKey(
        "django_kyc.Verification",
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="webhook_events",
    )

    class Meta:
        verbose_name = _("webhook event")
        verbose_name_plural = _("webhook events")
        ordering = ["-received_at"]
        constraints = [models.UniqueConstraint(fields=["backend", "event_id"], name="kyc_webhook_unique_event")]
        indexes = [
            models.Index(fields=["state", "next_attempt_at"], name="kyc_webhook_state_idx"),
            models.Index(fields=["backend", "-received_at"], name="kyc_webhook_backend_idx"),
        ]

    def __str__(self) -> str:
        return f"{self.backend}:{self.event_id}"
