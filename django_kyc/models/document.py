from __future__ import annotations

import uuid
from typing import Any

from django.db import models
from django.utils.translation import gettext_lazy as _
from django.utils.translation import pgettext_lazy

from django_kyc.crypto import BlindIndexField, EncryptedCharField
from django_kyc.status import DocumentStatus
from django_kyc.storage import document_storage, document_upload_to


class DocumentType(models.TextChoices):
    PASSPORT = "passport", _("Passport")
    ID_CARD = "id_card", _("National identity card")
    DRIVING_LICENCE = "driving_licence", _("Driving licence")
    RESIDENCE_PERMIT = "residence_permit", _("Residence permit")
    SELFIE = "selfie", _("Selfie")
    UTILITY_BILL = "utility_bill", _("Utility bill")
    BANK_STATEMENT = "bank_statement", _("Bank statement")
    OTHER = "other", _("Other")


class DocumentSide(models.TextChoices):
    FRONT = "front", pgettext_lazy("document side", "Front")
    BACK = "back", pgettext_lazy("document side", "Back")
    SINGLE = "single", _("Single page")


class Document(models.Model):
    """An identity document an applicant supplied; its images live in :class:`DocumentFile` rows."""

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    applicant = models.ForeignKey("django_kyc.Applicant", on_delete=models.CASCADE, related_name="documents")
    type = models.CharField(_("type"), max_length=32, choices=DocumentType.choices)
    # encrypted: find a document by number with ``number_bidx=blind_index(number)``, never ``number=``
    number = EncryptedCharField(_("document number"), max_length=64, blank=True)
    number_bidx = BlindIndexField(_("document number blind index"), source="number")
    issuing_country = models.CharField(_("issuing country"), max_length=2, blank=True)
    issue_date = models.DateField(_("issue date"), null=True, blank=True)
    expiry_date = models.DateField(_("expiry date"), null=True, blank=True)
    status = models.CharField(
        _("status"),
        max_length=32,
        choices=DocumentStatus.choices,
        default=DocumentStatus.UPLOADED,
        editable=False,
    )
    reasons = models.JSONField(_("reasons"), default=list, blank=True, editable=False)
    provider_document_id = models.CharField(_("provider document id"), max_length=128, blank=True, editable=False)
    created_at = models.DateTimeField(_("created at"), auto_now_add=True)
    updated_at = models.DateTimeField(_("updated at"), auto_now=True)

    class Meta:
        verbose_name = _("document")
        verbose_name_plural = _("documents")
        ordering = ["-created_at"]
        indexes = [models.Index(fields=["applicant", "-created_at"], name="kyc_document_applicant_idx")]

    def __str__(self) -> str:
        return f"{self.get_type_display()} ({self.get_status_display()})"

    def save(self, *args: Any, **kwargs: Any) -> None:
        """Keep the blind index in step with the number, also on ``save(update_fields=["number"])``."""
        update_fields = kwargs.get("update_fields")
        if update_fields is not None and "number" in update_fields and "number_bidx" not in update_fields:
            kwargs["update_fields"] = [*update_fields, "number_bidx"]
        super().save(*args, **kwargs)


class DocumentFile(models.Model):
    """One image or PDF of a document, on private storage, with the SHA-256 of its content."""

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    document = models.ForeignKey(Document, on_delete=models.CASCADE, related_name="files")
    side = models.CharField(_("side"), max_length=8, choices=DocumentSide.choices, default=DocumentSide.FRONT)
    file = models.FileField(_("file"), storage=document_storage, upload_to=document_upload_to, max_length=255)
    sha256 = models.CharField(_("SHA-256"), max_length=64, editable=False)
    content_type = models.CharField(_("content type"), max_length=64, editable=False)
    size = models.PositiveIntegerField(_("size in bytes"), editable=False)
    created_at = models.DateTimeField(_("created at"), auto_now_add=True)

    class Meta:
        verbose_name = _("document file")
        verbose_name_plural = _("document files")
        ordering = ["document", "side"]

    def __str__(self) -> str:
        return f"{self.get_side_display()} {self.content_type}"
