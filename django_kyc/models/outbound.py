"""Outbound events: the endpoints of the site's own services, the outbox, and every delivery attempt.

An :class:`OutboundEvent` is written in the same transaction as the change it reports (an outbox), with one
:class:`Delivery` per endpoint subscribed to it; the delivery's retry state lives on its row, as for every other
retried piece of work, and each try leaves a :class:`DeliveryAttempt`. See ``docs/events.md``.
"""

from __future__ import annotations

import uuid

from django.db import models
from django.utils.translation import gettext_lazy as _

from django_kyc.crypto import EncryptedCharField


class EndpointSource(models.TextChoices):
    ADMIN = "admin", _("Admin")
    SETTINGS = "settings", _("Settings")


class Endpoint(models.Model):
    """A URL of one of the site's services that receives signed events.

    Endpoints added in the admin keep their ``whsec_`` secret here, encrypted, shown once when created or
    rotated. Endpoints declared in ``DJANGO_KYC["OUTBOUND_ENDPOINTS"]`` are mirrored into a row (``source``
    ``settings``, keyed by ``name``) so deliveries can point at them, but their secrets are read from the
    settings on every delivery and never stored.
    """

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    name = models.CharField(_("name"), max_length=100, unique=True)
    url = models.URLField(_("URL"), max_length=500)
    #: event types this endpoint receives; ``["*"]`` is every type, including ones added later
    event_types = models.JSONField(_("event types"), default=list, blank=True)
    enabled = models.BooleanField(_("enabled"), default=True)
    disabled_reason = models.CharField(_("why it is disabled"), max_length=255, blank=True)
    source = models.CharField(_("source"), max_length=16, choices=EndpointSource.choices, default=EndpointSource.ADMIN)
    secret = EncryptedCharField(_("signing secret"), max_length=200, blank=True, editable=False)
    #: the secret before the last rotation: deliveries are signed with both until ``previous_secret_until``
    previous_secret = EncryptedCharField(_("previous signing secret"), max_length=200, blank=True, editable=False)
    previous_secret_until = models.DateTimeField(_("previous secret signs until"), null=True, blank=True)
    created_at = models.DateTimeField(_("created at"), auto_now_add=True)
    updated_at = models.DateTimeField(_("updated at"), auto_now=True)

    class Meta:
        verbose_name = _("event endpoint")
        verbose_name_plural = _("event endpoints")
        ordering = ["name"]

    def __str__(self) -> str:
        return self.name

    def receives(self, event_type: str) -> bool:
        types = self.event_types or []
        return "*" in types or event_type in types


class OutboundEvent(models.Model):
    """One event, as its receivers get it. ``id`` is the Standard Webhooks ``webhook-id`` of every delivery and
    resend of it, so a receiver can drop repeats. ``data`` holds ids and statuses, never personal data."""

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    event_type = models.CharField(_("event type"), max_length=64)
    version = models.PositiveSmallIntegerField(_("schema version"), default=1)
    subject_type = models.CharField(_("subject type"), max_length=32)
    subject_id = models.CharField(_("subject id"), max_length=64)
    data = models.JSONField(_("data"), default=dict)
    occurred_at = models.DateTimeField(_("occurred at"))

    class Meta:
        verbose_name = _("outbound event")
        verbose_name_plural = _("outbound events")
        ordering = ["-occurred_at"]
        indexes = [
            models.Index(fields=["occurred_at"], name="kyc_outbound_event_time_idx"),
            models.Index(fields=["subject_type", "subject_id"], name="kyc_outbound_subject_idx"),
        ]

    def __str__(self) -> str:
        return f"{self.event_type} {self.subject_type}:{self.subject_id}"


class DeliveryState(models.TextChoices):
    PENDING = "pending", _("Pending")
    RETRY_WAIT = "retry_wait", _("Waiting to retry")
    DELIVERED = "delivered", _("Delivered")
    FAILED = "failed", _("Failed")
    #: the endpoint was disabled (answered 410, or by hand) before this delivery succeeded
    ENDPOINT_DISABLED = "endpoint_disabled", _("Endpoint disabled")


#: Deliveries the sweeper still drives.
OPEN_DELIVERY_STATES = (DeliveryState.PENDING, DeliveryState.RETRY_WAIT)


class Delivery(models.Model):
    """One event to one endpoint. Its state is what the admin shows: ``failed`` after the last attempt, never
    a silent drop."""

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    event = models.ForeignKey(OutboundEvent, on_delete=models.CASCADE, related_name="deliveries")
    endpoint = models.ForeignKey(Endpoint, on_delete=models.CASCADE, related_name="deliveries")
    state = models.CharField(_("state"), max_length=20, choices=DeliveryState.choices, default=DeliveryState.PENDING)
    attempts = models.PositiveIntegerField(_("attempts"), default=0)
    next_attempt_at = models.DateTimeField(_("next attempt at"), null=True, blank=True)
    last_status_code = models.PositiveSmallIntegerField(_("last status code"), null=True, blank=True)
    last_error = models.CharField(_("last error"), max_length=500, blank=True)
    delivered_at = models.DateTimeField(_("delivered at"), null=True, blank=True)
    created_at = models.DateTimeField(_("created at"), auto_now_add=True)
    updated_at = models.DateTimeField(_("updated at"), auto_now=True)

    class Meta:
        verbose_name = _("event delivery")
        verbose_name_plural = _("event deliveries")
        ordering = ["-created_at"]
        permissions = [("resend_delivery", _("Can resend and replay event deliveries"))]
        constraints = [models.UniqueConstraint(fields=["event", "endpoint"], name="kyc_delivery_unique")]
        indexes = [models.Index(fields=["state", "next_attempt_at"], name="kyc_delivery_state_idx")]

    def __str__(self) -> str:
        return f"{self.event_id} → {self.endpoint_id}"


class DeliveryAttempt(models.Model):
    """One try: what the receiver answered (status, the first few KB of its body), how long it took, or why
    there was no answer. Kept so a site can see what its receiver did, attempt by attempt."""

    delivery = models.ForeignKey(Delivery, on_delete=models.CASCADE, related_name="attempt_log")
    number = models.PositiveIntegerField(_("attempt"))
    started_at = models.DateTimeField(_("started at"))
    duration_ms = models.PositiveIntegerField(_("duration (ms)"), default=0)
    status_code = models.PositiveSmallIntegerField(_("status code"), null=True, blank=True)
    error = models.CharField(_("error"), max_length=500, blank=True)
    response_body = models.TextField(_("response body (first bytes)"), blank=True)
    succeeded = models.BooleanField(_("succeeded"), default=False)

    class Meta:
        verbose_name = _("delivery attempt")
        verbose_name_plural = _("delivery attempts")
        ordering = ["-started_at"]
        default_permissions = ("view",)

    def __str__(self) -> str:
        return f"#{self.number} {self.status_code or self.error[:40]}"
