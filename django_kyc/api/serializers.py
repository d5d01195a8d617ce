from __future__ import annotations

import logging
from typing import Any

from django.core.files.base import File
from django.db import transaction
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from drf_spectacular.utils import extend_schema_field, inline_serializer
from rest_framework import serializers

from django_kyc.api.permissions import applicant_actions, may_act_for, may_choose_backend, may_see_pii
from django_kyc.api.uploads import CheckedUpload, check_upload
from django_kyc.backends.registry import is_configured
from django_kyc.models import AmlCheck, AmlHit, Applicant, Document, DocumentFile, Verification
from django_kyc.models.document import DocumentSide, DocumentType
from django_kyc.pii import AML_CHECK_PII_FIELDS, APPLICANT_PII_FIELDS, DOCUMENT_PII_FIELDS
from django_kyc.services.audit import Change, audit
from django_kyc.services.review_policy import action_required
from django_kyc.status import APPLICANT_EDITABLE, AuditAction, ReviewReason, Source

logger = logging.getLogger("django_kyc.api")


def country_code(value: str) -> str:
    """An ISO 3166-1 alpha-2 code, upper-cased; blank stays blank.

    ASCII only: ``str.isalpha`` also accepts letters such as "Ä" or "ß" (which upper-cases to two letters),
    and no provider knows such a code.
    """
    if not value:
        return value
    if len(value) != 2 or not (value.isascii() and value.isalpha()):
        raise serializers.ValidationError(_("Use a two-letter ISO 3166-1 country code."))
    return value.upper()


def masked(
    data: dict[str, Any], fields: tuple[str, ...], context: dict[str, Any], applicant: Applicant
) -> dict[str, Any]:
    """Blank out ``fields`` unless the request's user may see the applicant's personal data."""
    request = context.get("request")
    if request is not None and may_see_pii(request.user, applicant):
        return data
    for name in fields:
        data[name] = None if name == "date_of_birth" else ""
    return data


def chosen_backend(value: str, context: dict[str, Any]) -> str:
    """A backend alias a client asked for (verifications and AML checks alike): it must be configured, and
    which provider looks at someone is the site's decision (see ``may_choose_backend``)."""
    if not is_configured(value):
        raise serializers.ValidationError(_("Unknown backend %(backend)s.") % {"backend": repr(value)})
    request = context.get("request")
    if request is not None and not may_choose_backend(request.user, value):
        raise serializers.ValidationError(_("Backend %(backend)s cannot be chosen here.") % {"backend": repr(value)})
    return value


#: The schema of an applicant's ``actions``: what the signed-in user may do to it now (a frontend enables its
#: controls from it). Built inline because a serializer field named ``update`` would shadow ``Serializer.update``.
APPLICANT_ACTIONS = inline_serializer(
    "ApplicantActions",
    fields={
        "update": serializers.BooleanField(help_text="Change the personal data (PATCH or PUT the applicant)."),
        "upload_document": serializers.BooleanField(help_text="Upload a document (POST to its documents)."),
        "start_verification": serializers.BooleanField(help_text="Start a verification (POST to its verifications)."),
    },
)


class ApplicantSerializer(serializers.ModelSerializer[Applicant]):
    actions = serializers.SerializerMethodField()
    # declared: DRF builds a non-editable model field without ``allow_blank``, so the schema would leave out the
    # empty value every applicant without a review date has
    review_reason = serializers.ChoiceField(
        choices=ReviewReason.choices,
        allow_blank=True,
        read_only=True,
        help_text=gettext_lazy("Why the next review falls due then; empty while there is no review date."),
    )
    action_required = serializers.SerializerMethodField(
        help_text=gettext_lazy(
            "Whether the person is asked to act now: resubmit, or verify again because a review (periodic or an "
            "identity document's expiry) is due within the notice period or has lapsed."
        )
    )

    class Meta:
        model = Applicant
        fields = [
            "id",
            "reference",
            "external_id",
            "first_name",
            "middle_name",
            "last_name",
            "date_of_birth",
            "nationality",
            "email",
            "phone",
            "country",
            "address_line",
            "city",
            "postal_code",
            "status",
            "risk_level",
            "verified_at",
            "next_review_at",
            "review_reason",
            "action_required",
            "created_at",
            "updated_at",
            "actions",
        ]
        read_only_fields = [
            "id",
            "reference",
            "external_id",
            "status",
            "risk_level",
            "verified_at",
            "next_review_at",
            "review_reason",
            "created_at",
            "updated_at",
        ]
        extra_kwargs = {
            "next_review_at": {
                "help_text": gettext_lazy(
                    "When the applicant's next review falls due (docs/review-policy.md); null while nothing is "
                    "approved."
                )
            },
        }

    EDITABLE_STATUSES = APPLICANT_EDITABLE
    #: Identify the person; blank (``null`` for dates) for staff without ``view_applicant_pii``.
    PII_FIELDS = APPLICANT_PII_FIELDS

    def to_representation(self, instance: Applicant) -> dict[str, Any]:
        data: dict[str, Any] = super().to_representation(instance)
        return masked(data, self.PII_FIELDS, self.context, instance)

    @extend_schema_field(APPLICANT_ACTIONS)
    def get_actions(self, instance: Applicant) -> dict[str, bool]:
        """What the requesting user may do to the applicant now; nothing without a request to ask for."""
        request = self.context.get("request")
        if request is None:
            return dict.fromkeys(APPLICANT_ACTIONS.fields, False)
        return applicant_actions(request.user, instance)

    def get_action_required(self, instance: Applicant) -> bool:
        return action_required(instance)

    def validate(self, attrs: dict[str, Any]) -> dict[str, Any]:
        if self.instance is not None and self.instance.status not in self.EDITABLE_STATUSES:
            raise serializers.ValidationError(
                _("Personal data cannot be changed while the applicant is %(status)s.")
                % {"status": self.instance.get_status_display()}
            )
        request = self.context.get("request")
        if self.instance is not None and request is not None and not may_see_pii(request.user, self.instance):
            # as in the admin: who may not read personal data may not overwrite it blind either
            hidden = sorted(set(attrs) & set(self.PII_FIELDS))
            if hidden:
                raise serializers.ValidationError(dict.fromkeys(hidden, _("You may not change personal data.")))
        return attrs

    def validate_nationality(self, value: str) -> str:
        return country_code(value)

    def validate_country(self, value: str) -> str:
        return country_code(value)


class DocumentFileSerializer(serializers.ModelSerializer[DocumentFile]):
    class Meta:
        model = DocumentFile
        fields = ["id", "side", "content_type", "size", "sha256", "created_at"]
        read_only_fields = fields


class DocumentSerializer(serializers.ModelSerializer[Document]):
    files = DocumentFileSerializer(many=True, read_only=True)
    file = serializers.FileField(
        write_only=True, help_text=gettext_lazy("Front side, or the only page (JPEG, PNG, WebP or PDF).")
    )
    back_file = serializers.FileField(write_only=True, required=False, help_text=gettext_lazy("Back side, if any."))

    class Meta:
        model = Document
        fields = [
            "id",
            "type",
            "number",
            "issuing_country",
            "issue_date",
            "expiry_date",
            "status",
            "reasons",
            "files",
            "file",
            "back_file",
            "created_at",
        ]
        read_only_fields = ["id", "status", "reasons", "files", "created_at"]

    def to_representation(self, instance: Document) -> dict[str, Any]:
        data: dict[str, Any] = super().to_representation(instance)
        return masked(data, DOCUMENT_PII_FIELDS, self.context, instance.applicant)

    def validate_file(self, value: File) -> CheckedUpload:
        return check_upload(value)  # type: ignore[arg-type]

    def validate_back_file(self, value: File) -> CheckedUpload:
        return check_upload(value)  # type: ignore[arg-type]

    def validate_issuing_country(self, value: str) -> str:
        return country_code(value)

    def validate(self, attrs: dict[str, Any]) -> dict[str, Any]:
        issue, expiry = attrs.get("issue_date"), attrs.get("expiry_date")
        if issue and expiry and expiry <= issue:
            raise serializers.ValidationError({"expiry_date": _("The expiry date must be after the issue date.")})
        if "back_file" in attrs and attrs.get("type") == DocumentType.SELFIE:
            raise serializers.ValidationError({"back_file": _("A selfie has no back side.")})
        return attrs

    def create(self, validated_data: dict[str, Any]) -> Document:
        front: CheckedUpload = validated_data.pop("file")
        back: CheckedUpload | None = validated_data.pop("back_file", None)
        applicant: Applicant = self.context["applicant"]
        request = self.context["request"]
        stored: list[DocumentFile] = []
        try:
            with transaction.atomic():
                document = Document.objects.create(applicant=applicant, **validated_data)
                for side, upload in (
                    (DocumentSide.FRONT if back else DocumentSide.SINGLE, front),
                    (DocumentSide.BACK, back),
                ):
                    if upload is None:
                        continue
                    row = DocumentFile(
                        document=document,
                        side=side,
                        sha256=upload.sha256,
                        content_type=upload.content_type,
                        size=upload.size,
                    )
                    row.file.save(upload.storage_name, upload.file, save=False)
                    stored.append(row)
                    row.save()
                audit(
                    Change.by_user(request.user, Source.API),
                    obj=document,
                    applicant_id=applicant.pk,
                    action=AuditAction.UPLOADED,
                    to_status=document.status,
                )
        except Exception:
            # the rows are rolled back; the files saved before the failure must go too (a storage failure
            # is answered 503 by the exception handler, with nothing half-stored)
            for row in stored:
                try:
                    row.file.storage.delete(row.file.name)
                except Exception:
                    logger.warning("Could not delete document file %s after a failed upload", row.pk, exc_info=True)
            raise
        return document


class VerificationSerializer(serializers.ModelSerializer[Verification]):
    backend = serializers.CharField(
        required=False, help_text=gettext_lazy("Backend alias; the default backend if omitted.")
    )
    # a plain string, not ``format: uri``: empty until the provider issues a link, and for read-only staff
    client_link = serializers.CharField(
        read_only=True,
        help_text=gettext_lazy("The hosted-flow URL; empty when there is none or it is not yours to see."),
    )

    class Meta:
        model = Verification
        fields = [
            "id",
            "applicant",
            "backend",
            "status",
            "reasons",
            "client_link",
            "client_token",
            "client_token_expires_at",
            "attempts",
            "submitted_at",
            "decided_at",
            "created_at",
            "updated_at",
        ]
        read_only_fields = [f for f in fields if f != "backend"]

    #: Bearer credentials for the provider's hosted flow: only for who may act for the applicant.
    CREDENTIAL_FIELDS = ("client_link", "client_token")

    def validate_backend(self, value: str) -> str:
        return chosen_backend(value, self.context)

    def to_representation(self, instance: Verification) -> dict[str, Any]:
        """Staff who may only read (``view_applicant``) get the verification without its client token."""
        data: dict[str, Any] = super().to_representation(instance)
        request = self.context.get("request")
        if request is None or not may_act_for(request.user, instance.applicant):
            for name in self.CREDENTIAL_FIELDS:
                data[name] = ""
        return data


class ClientTokenSerializer(serializers.Serializer[Verification]):
    token = serializers.CharField(source="client_token", read_only=True)
    link = serializers.CharField(source="client_link", read_only=True)
    expires_at = serializers.DateTimeField(source="client_token_expires_at", read_only=True)


class AmlHitSerializer(serializers.ModelSerializer[AmlHit]):
    class Meta:
        model = AmlHit
        fields = ["id", "entity_id", "caption", "score", "topics", "datasets", "status"]
        read_only_fields = fields


class AmlCheckSerializer(serializers.ModelSerializer[AmlCheck]):
    hits = AmlHitSerializer(many=True, read_only=True)
    backend = serializers.CharField(required=False)

    class Meta:
        model = AmlCheck
        fields = [
            "id",
            "applicant",
            "backend",
            "check_type",
            "subject",
            "blockchain",
            "address",
            "tx_hash",
            "status",
            "score",
            "risk_level",
            "monitored",
            "hits",
            "screened_at",
            "created_at",
        ]
        read_only_fields = [
            "id",
            "applicant",
            "status",
            "score",
            "risk_level",
            "monitored",
            "hits",
            "screened_at",
            "created_at",
        ]

    def to_representation(self, instance: AmlCheck) -> dict[str, Any]:
        """The screened wallet or transaction identifies the person: blank without ``view_applicant_pii``."""
        data: dict[str, Any] = super().to_representation(instance)
        return masked(data, AML_CHECK_PII_FIELDS, self.context, instance.applicant)

    def validate_backend(self, value: str) -> str:
        return chosen_backend(value, self.context)

    def validate(self, attrs: dict[str, Any]) -> dict[str, Any]:
        """The subject rules live in the AML service; surface its field errors as ordinary 400s."""
        from django.core.exceptions import ValidationError as DjangoValidationError

        from django_kyc.services.aml import validate_subject

        try:
            validate_subject(
                attrs.get("subject", "applicant"),
                attrs.get("blockchain", ""),
                attrs.get("address", ""),
                attrs.get("tx_hash", ""),
            )
        except DjangoValidationError as exc:
            raise serializers.ValidationError(exc.message_dict) from exc
        return attrs


class ErrorSerializer(serializers.Serializer[Any]):
    """The shape of every error: detail for general errors, or each field name mapping to its messages."""

    # absent from field errors (``{"postal_code": ["..."]}``), which the object's open properties describe
    detail = serializers.CharField(required=False)
