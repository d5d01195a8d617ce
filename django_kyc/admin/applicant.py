from __future__ import annotations

from typing import Any

from django.contrib import admin
from django.db.models import QuerySet
from django.http import HttpRequest
from django.urls import reverse
from django.utils.html import format_html
from django.utils.translation import gettext_lazy as _

from django_kyc.admin.audit import TIMELINE_COLUMNS, TimelineTimes
from django_kyc.admin.base import DOCUMENT_PII_FIELDS, ReadOnlyInline, can_view_pii, without
from django_kyc.admin.columns import ApplicantColumnsMixin, applicant_columns, breakable_list
from django_kyc.admin.export import ExportAdminMixin
from django_kyc.admin.retention import (
    ErasureRequestInline,
    RetentionAdminMixin,
    purge_applicants,
    record_erasure_request,
)
from django_kyc.admin.risk import RiskAdminMixin, change_risk_level
from django_kyc.models import AmlCheck, Applicant, AuditEvent, Document, Verification


class DocumentInline(ReadOnlyInline):
    model = Document
    fields = (
        "type",
        "number",
        "issuing_country",
        "expiry_date",
        "status",
        "reasons",
        "files_links",
        "created_at",
    )
    readonly_fields = fields

    def get_queryset(self, request: HttpRequest) -> QuerySet[Document]:
        """Files are listed only to reviewers who may see personal data (see :meth:`get_fields`): fetch them
        for those alone."""
        queryset = super().get_queryset(request)
        return queryset.prefetch_related("files") if can_view_pii(request) else queryset

    def get_fields(self, request: HttpRequest, obj: Any = None) -> list[Any]:
        """Numbers and images identify the person: previews and file links only with the PII permission."""
        fields = super().get_fields(request, obj)
        return list(fields) if can_view_pii(request) else without(fields, (*DOCUMENT_PII_FIELDS, "files_links"))

    @admin.display(description=_("files"))
    def files_links(self, obj: Document) -> str:
        """Image files get an inline preview; like every access, loading it goes through the audited view."""
        links = []
        for f in obj.files.all():
            url = reverse("admin:django_kyc_document_file", args=[f.pk])
            label = f"{f.get_side_display()} ({f.content_type})"
            if f.content_type.startswith("image/"):
                links.append(
                    format_html(
                        '<a href="{}" class="kyc-preview" title="{}"><img src="{}" alt="{}" '
                        'style="max-height:96px;max-width:160px;border:1px solid #ccc;border-radius:4px"></a>',
                        url,
                        label,
                        url,
                        label,
                    )
                )
            else:
                links.append(format_html('<a href="{}">{}</a>', url, label))
        return format_html(" ".join(["{}"] * len(links)), *links) if links else "-"


class VerificationInline(ReadOnlyInline):
    model = Verification
    fields = (
        "backend",
        "status",
        "provider_status",
        "reason_list",
        "attempts",
        "last_error",
        "created_at",
        "decided_at",
    )
    readonly_fields = fields

    @admin.display(description=_("reasons"))
    def reason_list(self, obj: Verification) -> Any:
        """The codes one per line, as the queues show them, not the stored JSON list."""
        return breakable_list(obj.reasons)


class AmlCheckInline(ReadOnlyInline):
    model = AmlCheck
    fields = ("backend", "check_type", "status", "screened_at", "created_at")
    readonly_fields = fields


class AuditInline(TimelineTimes, ReadOnlyInline):
    """The timeline: who did what, when and why, provider events included."""

    model = AuditEvent
    verbose_name_plural = _("audit timeline")
    fields = (*TIMELINE_COLUMNS, "reason")
    readonly_fields = fields
    show_change_link = False
    ordering = ["-created_at", "-id"]


#: An applicant's age on the list counts from its creation.
COLUMNS = applicant_columns("", age_field="created_at")


@admin.register(Applicant)
class ApplicantAdmin(ApplicantColumnsMixin, ExportAdminMixin, RetentionAdminMixin, RiskAdminMixin):
    # the name (masked without the PII permission) over the shortened reference, then what a reviewer sorts by
    list_display = [
        COLUMNS["applicant_name"],
        "user",
        "status",
        COLUMNS["applicant_risk"],
        COLUMNS["applicant_country"],
        COLUMNS["age"],
    ]
    list_filter = ["status", "risk_level", "created_at"]
    search_fields = ["reference", "external_id", "email", "last_name", "user__username", "user__email"]
    list_select_related = ["user"]
    readonly_fields = (
        "id",
        "reference",
        "status",
        "risk_level",  # through the "Change risk level" action and page: audited, and read by four-eyes
        "verified_at",
        "created_at",
        "updated_at",
        "personal_data",
        "retention_until",
        "pii_redacted_at",
        "next_screening_at",
    )
    actions = [record_erasure_request, purge_applicants, change_risk_level]
    raw_id_fields = ["user"]
    date_hierarchy = "created_at"
    change_form_template = "django_kyc/admin/applicant_change_form.html"
    inlines = [DocumentInline, VerificationInline, AmlCheckInline, ErasureRequestInline, AuditInline]
    fieldsets = [
        (None, {"fields": ["id", "reference", "external_id", "user", "status", "risk_level", "verified_at"]}),
        (_("Person"), {"fields": ["first_name", "middle_name", "last_name", "date_of_birth", "nationality"]}),
        (
            _("Contact and address"),
            {"fields": ["email", "phone", "country", "address_line", "city", "postal_code"]},
        ),
        (
            _("Retention"),
            {
                "fields": [
                    "relationship_ended_at",
                    "retention_until",
                    "legal_hold",
                    "legal_hold_reason",
                    "pii_redacted_at",
                ]
            },
        ),
        (_("Ongoing screening"), {"fields": ["next_screening_at"]}),
        (_("Timestamps"), {"fields": ["created_at", "updated_at"]}),
    ]

    # Personal data is shown only to reviewers with ``view_applicant_pii``. Without it the fields are left out
    # of the form (so they can be neither read nor overwritten blind), and the base admin keeps them out of
    # the search and the filters, which would otherwise answer "is there an applicant called ...?".

    def get_fieldsets(self, request: HttpRequest, obj: Any = None) -> Any:
        fieldsets = super().get_fieldsets(request, obj)
        hidden = tuple(self.hidden_fields(request))
        if not hidden:
            return fieldsets
        masked, placed = [], False
        for name, options in fieldsets:
            fields = list(options["fields"])
            kept = without(fields, hidden)
            if len(kept) < len(fields) and not placed:
                kept.insert(0, "personal_data")
                placed = True
            masked.append((name, {**options, "fields": kept}))
        return masked

    def get_queryset(self, request: HttpRequest) -> QuerySet[Applicant]:
        """The linked account is displayed on the list and, for read-only reviewers, on the applicant page
        (rendered from the row): join it rather than fetch it with a query of its own."""
        return super().get_queryset(request).select_related("user")

    @admin.display(description=_("personal data"))
    def personal_data(self, obj: Applicant) -> str:
        return str(_("Hidden: viewing personal data needs the permission “Can view applicants' personal data”."))
