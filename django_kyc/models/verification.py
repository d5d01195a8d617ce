from __future__ import annotations

import uuid

from django.db import models
from django.utils.translation import gettext_lazy as _

from django_kyc.crypto import EncryptedJSONField
from django_kyc.models.assignable import Assignable
from django_kyc.status import VerificationStatus


class DecisionSource(models.TextChoices):
    PROVIDER = "provider", _("Provider")
    REVIEWER = "reviewer", _("Reviewer")
    SYSTEM = "system", _("System")


class Verification(Assignable):
    """One attempt to verify an applicant with one provider backend.

    ``backend`` stores the alias from ``DJANGO_KYC["BACKENDS"]`` so retries, polling and webhooks always
    reach the configuration that started it. ``status`` is normalised; ``provider_status`` keeps the
    provider's raw value beside it.
    """

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    applicant = models.ForeignKey("django_kyc.Applicant", on_delete=models.CASCADE, related_name="verifications")
    backend = models.CharField(_("backend alias"), max_length=64)
    status = models.CharField(
        _("status"),
        max_length=32,
        choices=VerificationStatus.choices,
        default=VerificationStatus.PENDING,
        editable=False,
    )
    provider_status = models.CharField(_("provider status"), max_length=128, blank=True, editable=False)
    reasons = models.JSONField(_("reasons"), default=list, blank=True, editable=False)
    provider_applicant_id = models.CharField(_("provider applicant id"), max_length=128, blank=True, editable=False)
    provider_verification_id = models.CharField(
        _("provider verification id"), max_length=128, blank=True, editable=False
    )
    provider_data = EncryptedJSONField(  # provider payloads carry PII
        _("provider data"), default=dict, blank=True, editable=False
    )

    attempts = models.PositiveIntegerField(_("attempts"), default=0, editable=False)
    next_attempt_at = models.DateTimeField(_("next attempt at"), null=True, blank=True, editable=False)
    last_error = models.TextField(_("last error"), blank=True, editable=False)

    client_token = models.TextField(_("client token"), blank=True, editable=False)
    client_link = models.URLField(_("client link"), max_length=1024, blank=True, editable=False)
    client_token_expires_at = models.DateTimeField(_("client token expires at"), null=True, blank=True)

    last_event_at = models.DateTimeField(
        _("last provider event at"),
        null=True,
        blank=True,
        editable=False,
        help_text=_("Provider timestamp of the last applied event; older events are ignored."),
    )
    last_polled_at = models.DateTimeField(_("last polled at"), null=True, blank=True, editable=False)
    submitted_at = models.DateTimeField(_("submitted at"), null=True, blank=True, editable=False)
    decided_at = models.DateTimeField(_("decided at"), null=True, blank=True, editable=False)
    decision_source = models.CharField(
        _("decision source"), max_length=16, choices=DecisionSource.choices, blank=True, editable=False
    )
    created_at = models.DateTimeField(_("created at"), auto_now_add=True)
    updated_at = models.DateTimeField(_("updated at"), auto_now=True)

    class Meta:
        verbose_name = _("verification")
        verbose_name_plural = _("verifications")
        ordering = ["-created_at"]
        indexes = [
            # the review queue: status filter, oldest first
            models.Index(fields=["status", "created_at"], name="kyc_verif_queue_idx"),
            # the sweeper: due retries and stale verifications to poll
            models.Index(fields=["status", "next_attempt_at"], name="kyc_verif_retry_idx"),
            models.Index(fields=["backend", "provider_verification_id"], name="kyc_verif_provider_ref_idx"),
            models.Index(fields=["applicant", "-created_at"], name="kyc_verif_applicant_idx"),
        ]

    def __str__(self) -> str:
        return f"{self.backend} {self.get_status_display()}"

    @property
    def is_terminal(self) -> bool:
        from django_kyc.status import VERIFICATION_TERMINAL

        return self.status in VERIFICATION_TERMINAL


class ReviewQueueItem(Verification):
    """The reviewer's queue in admin: verifications waiting for a human, oldest first."""

    class Meta:
        proxy = True
        verbose_name = _("review queue item")
        verbose_name_plural = _("review queue")


class ReviewDashboard(Verification):
    """The review dashboard's entry on the admin's front page, which lists models and nothing else: a proxy
    with no permissions of its own whose admin shows the dashboard (to those who may view verifications)."""

    class Meta:
        proxy = True
        default_permissions = ()
        verbose_name = _("review dashboard")
        verbose_name_plural = _("review dashboard")
