from __future__ import annotations

import json
import uuid

from django.db import models
from django.utils.translation import gettext_lazy as _

from django_kyc.crypto import EncryptedBinaryField


class WebhookState(models.TextChoices):
    RECEIVED = "received", _("Received")
    PROCESSED = "processed", _("Processed")
    IGNORED = "ignored", _("Ignored (stale or duplicate)")
    RETRY_WAIT = "retry_wait", _("Waiting to retry")
    FAILED = "failed", _("Failed")


class WebhookEvent(models.Model):
    """The inbox: every authenticated provider event, stored before it is processed.

    The unique constraint on (backend, event_id) among the rows that hold their event id is what makes a
    repeated delivery a no-op. A delivery whose event id rests on fields nobody authenticated (an unsigned
    callback's claimed state) holds it only once the fetched state has confirmed the claim
    (:attr:`~django_kyc.backends.base.ProviderEvent.claim`), so a forgery cannot take the key of the genuine
    delivery that follows it.
    """

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    backend = models.CharField(_("backend alias"), max_length=64)
    event_id = models.CharField(_("provider event id"), max_length=255)
    event_type = models.CharField(_("event type"), max_length=128, blank=True)
    provider_ref = models.CharField(_("provider reference"), max_length=128, blank=True)
    occurred_at = models.DateTimeField(_("occurred at"), null=True, blank=True)
    received_at = models.DateTimeField(_("received at"), auto_now_add=True)
    headers = models.JSONField(_("headers (allow-listed)"), default=dict, blank=True)
    #: The delivery exactly as authenticated: bytes, since JSON may be UTF-16 and a backend re-parses these very
    #: bytes when the event is processed. Encrypted (names, dates of birth, numbers); read it as text with
    #: :meth:`body_text`, for display only.
    body = EncryptedBinaryField(_("body"), blank=True)
    state = models.CharField(_("state"), max_length=16, choices=WebhookState.choices, default=WebhookState.RECEIVED)
    attempts = models.PositiveIntegerField(_("attempts"), default=0)
    next_attempt_at = models.DateTimeField(_("next attempt at"), null=True, blank=True)
    last_error = models.TextField(_("last error"), blank=True)
    note = models.CharField(_("note"), max_length=255, blank=True)
    holds_event_id = models.BooleanField(
        _("holds its event id"),
        default=True,
        help_text=_("False while an unauthenticated claim awaits confirmation: repeats are then stored too."),
    )
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
        constraints = [
            models.UniqueConstraint(
                fields=["backend", "event_id"],
                condition=models.Q(holds_event_id=True),
                name="kyc_webhook_unique_event",
            )
        ]
        indexes = [
            models.Index(fields=["state", "next_attempt_at"], name="kyc_webhook_state_idx"),
            models.Index(fields=["backend", "-received_at"], name="kyc_webhook_backend_idx"),
        ]

    def __str__(self) -> str:
        return f"{self.backend}:{self.event_id}"

    def body_text(self) -> str:
        """The body as text for people to read: in the encoding its BOM or NUL pattern shows for JSON
        (UTF-8, UTF-16 or UTF-32, as ``json.loads`` reads it), undecodable bytes replaced. Never re-parse
        this; processing works on :attr:`body` itself."""
        body = bytes(self.body or b"")
        return body.decode(json.detect_encoding(body), errors="replace")


class RejectionReason(models.TextChoices):
    """Why a delivery was refused: the closed set the rejection counters are kept under.

    Each :class:`~django_kyc.exceptions.WebhookError` subclass names one in its ``code``; the webhook view
    adds the refusals it makes before a backend is asked.
    """

    UNKNOWN_ENDPOINT = "unknown_endpoint", _("Unknown endpoint")
    WRONG_METHOD = "wrong_method", _("Wrong method")
    BAD_LENGTH = "bad_length", _("Invalid Content-Length")  # or a chunked body the server cannot deliver
    TOO_LARGE = "too_large", _("Body too large")
    EMPTY_BODY = "empty_body", _("Empty body")
    MISSING_SIGNATURE = "missing_signature", _("Missing signature")
    BAD_SIGNATURE = "bad_signature", _("Bad signature")
    STALE = "stale", _("Stale or replayed")
    MALFORMED = "malformed", _("Malformed body")
    OTHER = "other", _("Other")


class WebhookRejection(models.Model):
    """How many deliveries were refused, per endpoint, reason and day; nothing about the requests themselves.

    Refused deliveries come from anyone on the internet, so nothing they sent is kept: no body, no headers,
    no address, and not even the alias they asked for unless it is a configured backend (unknown aliases
    share the :attr:`UNKNOWN` bucket). That bounds the table at (configured aliases + 1) x reasons rows a
    day however hostile the traffic. Written only by
    :func:`django_kyc.services.webhooks.record_rejection`, one atomic increment per refusal.
    """

    #: the ``backend`` of refusals for aliases that are not configured (a URL slug is never empty)
    UNKNOWN = ""

    backend = models.CharField(_("backend alias"), max_length=64, blank=True)
    reason = models.CharField(_("reason"), max_length=32, choices=RejectionReason.choices)
    day = models.DateField(_("day"))
    count = models.PositiveBigIntegerField(_("count"), default=0)

    class Meta:
        verbose_name = _("webhook rejection count")
        verbose_name_plural = _("webhook rejection counts")
        ordering = ["-day", "backend", "reason"]
        # counters are written by the service only: nobody may add, change or delete one by hand
        default_permissions = ("view",)
        constraints = [
            models.UniqueConstraint(fields=["backend", "reason", "day"], name="kyc_webhook_rejection_unique")
        ]

    def __str__(self) -> str:
        return f"{self.backend or '(unknown)'}:{self.reason}:{self.day} = {self.count}"
