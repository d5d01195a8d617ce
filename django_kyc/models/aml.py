from __future__ import annotations

import uuid

from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _

from django_kyc import aml_topics
from django_kyc.crypto import EncryptedJSONField
from django_kyc.models.assignable import Assignable
from django_kyc.status import AmlHitStatus, AmlStatus, RiskLevel


class AmlCheckType(models.TextChoices):
    INITIAL = "initial", _("Initial")
    ONGOING = "ongoing", _("Ongoing")
    MANUAL = "manual", _("Manual")
    #: scheduled, or after a change of name, date of birth or nationality (services.rescreening)
    RESCREENING = "rescreening", _("Re-screening")


class AmlSubject(models.TextChoices):
    APPLICANT = "applicant", _("Applicant (person screening)")
    WALLET = "wallet", _("Crypto wallet address")
    TRANSACTION = "transaction", _("Crypto transaction")


class AmlCheck(models.Model):
    """One screening: of the applicant against sanctions, PEP and adverse-media lists, or of a crypto wallet
    address or transaction the applicant uses (``subject``)."""

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    applicant = models.ForeignKey("django_kyc.Applicant", on_delete=models.CASCADE, related_name="aml_checks")
    backend = models.CharField(_("backend alias"), max_length=64)
    check_type = models.CharField(_("check type"), max_length=16, choices=AmlCheckType.choices, default="initial")
    # "ongoing": a re-screening through a provider's ongoing monitoring (enrolment, capability aml_monitoring)
    subject = models.CharField(_("subject"), max_length=16, choices=AmlSubject.choices, default=AmlSubject.APPLICANT)
    blockchain = models.CharField(_("blockchain"), max_length=32, blank=True)
    address = models.CharField(_("wallet address"), max_length=128, blank=True)
    tx_hash = models.CharField(_("transaction hash"), max_length=128, blank=True)
    score = models.FloatField(_("risk score"), null=True, blank=True, editable=False)
    risk_level = models.CharField(_("provider risk level"), max_length=32, blank=True, editable=False)
    monitored = models.BooleanField(_("ongoing monitoring"), default=False, editable=False)
    status = models.CharField(
        _("status"), max_length=32, choices=AmlStatus.choices, default=AmlStatus.PENDING, editable=False
    )
    provider_status = models.CharField(_("provider status"), max_length=128, blank=True, editable=False)
    provider_check_id = models.CharField(_("provider check id"), max_length=128, blank=True, editable=False)
    provider_data = EncryptedJSONField(  # provider payloads carry PII
        _("provider data"), default=dict, blank=True, editable=False
    )
    attempts = models.PositiveIntegerField(_("attempts"), default=0, editable=False)
    next_attempt_at = models.DateTimeField(_("next attempt at"), null=True, blank=True, editable=False)
    last_error = models.TextField(_("last error"), blank=True, editable=False)
    screened_at = models.DateTimeField(_("screened at"), null=True, blank=True, editable=False)
    created_at = models.DateTimeField(_("created at"), auto_now_add=True)
    updated_at = models.DateTimeField(_("updated at"), auto_now=True)

    class Meta:
        verbose_name = _("AML check")
        verbose_name_plural = _("AML checks")
        ordering = ["-created_at"]
        indexes = [
            models.Index(fields=["status", "created_at"], name="kyc_aml_status_idx"),
            models.Index(fields=["applicant", "-created_at"], name="kyc_aml_applicant_idx"),
        ]

    def __str__(self) -> str:
        return f"{self.backend} {self.get_status_display()}"


class AmlHit(Assignable):
    """A potential match found by a screening, resolved by a reviewer."""

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    aml_check = models.ForeignKey(AmlCheck, on_delete=models.CASCADE, related_name="hits")
    entity_id = models.CharField(_("entity id"), max_length=255)
    caption = models.CharField(_("caption"), max_length=255)
    score = models.FloatField(_("score"), null=True, blank=True)
    topics = models.JSONField(_("topics"), default=list, blank=True, help_text=_("sanction, pep, crime ..."))
    datasets = models.JSONField(_("datasets"), default=list, blank=True)
    details = models.JSONField(_("details"), default=dict, blank=True)
    status = models.CharField(_("status"), max_length=16, choices=AmlHitStatus.choices, default=AmlHitStatus.OPEN)
    resolved_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    resolved_at = models.DateTimeField(_("resolved at"), null=True, blank=True)
    resolution_reason = models.TextField(_("resolution reason"), blank=True)
    resolution_code = models.CharField(_("resolution reason code"), max_length=64, blank=True)

    class Meta:
        verbose_name = _("AML hit")
        verbose_name_plural = _("AML hits")
        ordering = ["-score"]
        constraints = [models.UniqueConstraint(fields=["aml_check", "entity_id"], name="kyc_amlhit_unique_entity")]

    def __str__(self) -> str:
        return self.caption

    @property
    def risk(self) -> RiskLevel:
        """How risky this potential match is: the most severe of what its topics imply (a PEP or sanctions
        match is high risk), the applicant's own level and the provider's level for the screening or the match.
        Reads the check and its applicant: join them (``select_related``) when listing hits."""
        check = self.aml_check
        provider_level = (self.details or {}).get("risk_level") if isinstance(self.details, dict) else None
        return aml_topics.hit_risk(self.topics, check.applicant.risk_level, check.risk_level, str(provider_level or ""))

    @property
    def topic_labels(self) -> list[str]:
        """The topics as reviewers name them ("PEP", "Sanction")."""
        return aml_topics.labels(self.topics)


class AmlQueueItem(AmlHit):
    """The AML half of the reviewer's queue in admin: open hits, oldest screening first."""

    class Meta:
        proxy = True
        verbose_name = _("AML hit awaiting review")
        verbose_name_plural = _("review queue: AML hits")
