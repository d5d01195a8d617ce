from __future__ import annotations

import secrets
import uuid
from typing import Any

from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _

from django_kyc.crypto import EncryptedDateField
from django_kyc.models.retention import compute_retention_until
from django_kyc.status import ApplicantStatus, ReviewReason, RiskLevel


def new_reference() -> str:
    """Our reference for an applicant, sent to providers instead of a database id or any PII."""
    return f"kyc_{secrets.token_hex(10)}"


class Applicant(models.Model):
    """A person being verified. ``status`` is an aggregate kept by the transition service."""

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    user = models.OneToOneField(
        settings.AUTH_USER_MODEL,
        on_delete=models.SET_NULL,  # KYC records outlive accounts: record-keeping rules require it
        null=True,
        blank=True,
        related_name="kyc_applicant",
    )
    reference = models.CharField(_("reference"), max_length=64, unique=True, default=new_reference, editable=False)
    external_id = models.CharField(
        _("external id"), max_length=128, blank=True, db_index=True, help_text=_("The site's own id, if any.")
    )

    first_name = models.CharField(_("first name"), max_length=150, blank=True)
    middle_name = models.CharField(_("middle name"), max_length=150, blank=True)
    last_name = models.CharField(_("last name"), max_length=150, blank=True)
    date_of_birth = EncryptedDateField(_("date of birth"), null=True, blank=True)  # a date in Python
    nationality = models.CharField(_("nationality"), max_length=2, blank=True, help_text=_("ISO 3166-1 alpha-2"))
    email = models.EmailField(_("email"), blank=True)
    phone = models.CharField(_("phone"), max_length=32, blank=True)
    country = models.CharField(_("country of residence"), max_length=2, blank=True)
    address_line = models.CharField(_("address"), max_length=255, blank=True)
    city = models.CharField(_("city"), max_length=128, blank=True)
    postal_code = models.CharField(_("postal code"), max_length=32, blank=True)

    status = models.CharField(
        _("status"),
        max_length=32,
        choices=ApplicantStatus.choices,
        default=ApplicantStatus.UNVERIFIED,
        editable=False,
    )
    # Changed only through django_kyc.services.risk.set_risk_level (audited): the four-eyes rule reads it, so no
    # form, serializer or bulk action may write it.
    risk_level = models.CharField(
        _("risk level"), max_length=16, choices=RiskLevel.choices, default=RiskLevel.LOW, editable=False
    )
    verified_at = models.DateTimeField(_("verified at"), null=True, blank=True, editable=False)

    # Ongoing due diligence (docs/review-policy.md): written only by django_kyc.services.review_policy
    # (audited), read by the daily review run, the "due for review" queue and the API.
    next_review_at = models.DateTimeField(
        _("next review"),
        null=True,
        blank=True,
        editable=False,
        help_text=_("When the applicant must be reviewed again (periodic review or document expiry)."),
    )
    review_reason = models.CharField(
        _("review reason"), max_length=32, choices=ReviewReason.choices, blank=True, editable=False
    )
    review_notified_at = models.DateTimeField(
        _("review notice sent at"),
        null=True,
        blank=True,
        editable=False,
        help_text=_("When the person was asked to verify again for the review now scheduled."),
    )
    reverification_required_at = models.DateTimeField(
        _("re-verification required since"),
        null=True,
        blank=True,
        editable=False,
        help_text=_("When a review lapsed; only an approval after this moment makes the applicant verified again."),
    )

    # Retention (docs/retention.md): records are kept for a period counted from the end of the relationship.
    relationship_ended_at = models.DateTimeField(
        _("relationship ended at"),
        null=True,
        blank=True,
        help_text=_("When the business relationship ended (or onboarding was refused); starts the retention."),
    )
    retention_until = models.DateTimeField(
        _("retain until"),
        null=True,
        blank=True,
        editable=False,
        db_index=True,
        help_text=_("Computed from the relationship end and DJANGO_KYC retention settings."),
    )
    legal_hold = models.BooleanField(
        _("legal hold"), default=False, help_text=_("Blocks every purge, even after retention lapses.")
    )
    legal_hold_reason = models.TextField(_("legal hold reason"), blank=True)
    pii_redacted_at = models.DateTimeField(_("personal data purged at"), null=True, blank=True, editable=False)
    created_at = models.DateTimeField(_("created at"), auto_now_add=True)
    updated_at = models.DateTimeField(_("updated at"), auto_now=True)

    class Meta:
        verbose_name = _("applicant")
        verbose_name_plural = _("applicants")
        ordering = ["-created_at"]
        indexes = [
            models.Index(fields=["status", "created_at"], name="kyc_applicant_status_idx"),
            models.Index(fields=["risk_level", "status"], name="kyc_applicant_risk_idx"),
            # the daily review run pages through due applicants by (next_review_at, id); the queue sorts by it
            models.Index(fields=["next_review_at", "id"], name="kyc_applicant_review_idx"),
        ]
        permissions = [
            ("review_applicant", _("Can approve, decline or request resubmission")),
            ("view_applicant_pii", _("Can view applicants' personal data")),
        ]

    def __str__(self) -> str:
        return self.reference

    def save(self, *args: Any, **kwargs: Any) -> None:
        """Keep ``retention_until`` in step with what it is computed from, whoever saves the row."""
        self.retention_until = compute_retention_until(self.relationship_ended_at, self.country)
        update_fields = kwargs.get("update_fields")
        if update_fields is not None and {"relationship_ended_at", "country"} & set(update_fields):
            kwargs["update_fields"] = {*update_fields, "retention_until"}
        super().save(*args, **kwargs)

    @property
    def full_name(self) -> str:
        return " ".join(part for part in (self.first_name, self.middle_name, self.last_name) if part)


class ReviewDueItem(Applicant):
    """The "due for review" queue in admin: approved applicants whose periodic review or identity document
    falls due soon or has lapsed, soonest first."""

    class Meta:
        proxy = True
        verbose_name = _("applicant due for review")
        verbose_name_plural = _("due for review")
