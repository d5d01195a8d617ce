"""AML checks and the hits reviewers resolve (with a reason code, through the AML service)."""

from __future__ import annotations

from typing import Any

from django.contrib import admin, messages
from django.core.exceptions import PermissionDenied
from django.db.models import QuerySet
from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404
from django.template.response import TemplateResponse
from django.urls import URLPattern, path, reverse
from django.utils import timezone
from django.utils.html import format_html
from django.utils.translation import gettext, ngettext_lazy
from django.utils.translation import gettext_lazy as _

from django_kyc.admin.base import ReadOnlyAdmin, ReadOnlyInline, reasoned_action
from django_kyc.admin.columns import ApplicantColumnsMixin, applicant_columns, assignee, breakable, short_id
from django_kyc.admin.forms import DecisionForm
from django_kyc.admin.verification import AGE_LOOKUPS, AgeFilter, AssigneeFilter, assign_to_me, unassign
from django_kyc.backends import get_backend
from django_kyc.backends.capabilities import Capability
from django_kyc.exceptions import KycError
from django_kyc.models import AmlCheck, AmlHit, AmlQueueItem
from django_kyc.services import review
from django_kyc.services.audit import Change, audit
from django_kyc.status import AmlHitStatus, AuditAction, Source

RESOLUTIONS: dict[str, Any] = {
    AmlHitStatus.TRUE_POSITIVE: _("Confirm match (true positive)"),
    AmlHitStatus.FALSE_POSITIVE: _("Dismiss (false positive)"),
}


@admin.display(description=_("topics"))
def topic_labels(hit: AmlHit) -> str:
    """The topics as reviewers name them ("PEP", "Sanction"), not the provider's codes."""
    return ", ".join(hit.topic_labels) or "-"


@admin.display(description=_("risk"))
def hit_risk(hit: AmlHit) -> str:
    """The hit's own risk (:attr:`AmlHit.risk`): a PEP or sanctions match is high whatever the applicant's level."""
    return str(hit.risk.label)


#: The hit lists' shared columns; a hit waits since its screening was created (hits have no timestamp).
COLUMNS = applicant_columns("aml_check__applicant", age_field="aml_check__created_at")
#: Who the hit is about: the reference for everyone, the rest only for those who may see names.
SEARCH_FIELDS = [
    "caption",
    "entity_id",
    "aml_check__applicant__reference",
    "aml_check__applicant__first_name",
    "aml_check__applicant__last_name",
    "aml_check__applicant__email",
]


class AmlHitInline(ReadOnlyInline):
    model = AmlHit
    fields = ("caption", "entity_id", "score", "topic_names", "datasets", "status", "resolved_by", "resolved_at")
    readonly_fields = fields

    @admin.display(description=_("topics"))
    def topic_names(self, obj: AmlHit) -> str:
        return topic_labels(obj)

    def get_queryset(self, request: HttpRequest) -> QuerySet[AmlHit]:
        """``resolved_by`` is shown as a link to the reviewer: join it, or the check's page runs one query per
        resolved hit."""
        return super().get_queryset(request).select_related("resolved_by")


@admin.register(AmlCheck)
class AmlCheckAdmin(ReadOnlyAdmin):
    list_display = [
        "id",
        "applicant",
        "backend",
        "subject",
        "check_type",
        "status",
        "risk_level",
        "score",
        "screened_at",
    ]
    list_filter = ["status", "subject", "backend", "check_type", "risk_level", "created_at"]
    search_fields = ["applicant__reference", "provider_check_id", "address", "tx_hash"]
    list_select_related = ["applicant"]
    readonly_fields = [
        "applicant",
        "backend",
        "check_type",
        "subject",
        "blockchain",
        "address",
        "tx_hash",
        "status",
        "provider_status",
        "provider_check_id",
        "score",
        "risk_level",
        "monitored",
        "report",
        "provider_data",
        "attempts",
        "last_error",
        "screened_at",
        "created_at",
        "updated_at",
    ]
    exclude = ["next_attempt_at"]
    inlines = [AmlHitInline]

    def get_fields(self, request: HttpRequest, obj: Any = None) -> list[Any]:
        """Only the read-only fields that are visible: provider payloads and the screened wallet carry personal
        data, which the base admin hides (and refuses to search or filter on) without the PII permission."""
        visible = set(self.get_readonly_fields(request, obj))
        return [name for name in super().get_fields(request, obj) if name in visible]

    def get_urls(self) -> list[URLPattern]:
        custom = [
            path(
                "<uuid:object_id>/report/",
                self.admin_site.admin_view(self.report_view),
                name="django_kyc_amlcheck_report",
            )
        ]
        return custom + super().get_urls()

    @admin.display(description=_("provider report"))
    def report(self, obj: AmlCheck) -> str:
        try:
            supported = get_backend(obj.backend).supports(Capability.AML_REPORT)
        except KycError:
            supported = False
        if not (supported and obj.provider_check_id):
            return "-"
        url = reverse("admin:django_kyc_amlcheck_report", args=[obj.pk])
        return format_html('<a href="{}">{}</a>', url, _("Open the provider's report"))

    def report_view(self, request: HttpRequest, object_id: Any) -> HttpResponse:
        """Fetch the provider's report on demand (never stored), for reviewers; each access is audited."""
        if not request.user.has_perm("django_kyc.view_amlcheck"):
            raise PermissionDenied
        check = get_object_or_404(AmlCheck, pk=object_id)
        try:
            content, content_type = get_backend(check.backend).aml_report(check)
        except KycError as exc:
            self.message_user(
                request, gettext("The report could not be fetched: %(error)s") % {"error": exc}, messages.ERROR
            )
            return TemplateResponse(request, "admin/base_site.html", self.admin_site.each_context(request))
        audit(
            Change.by_user(request.user, Source.ADMIN),
            obj=check,
            applicant_id=check.applicant_id,
            action=AuditAction.REPORT_VIEWED,
        )
        response = HttpResponse(content, content_type=content_type)
        response["Content-Disposition"] = f'inline; filename="aml-report-{check.pk}.pdf"'
        response["Cache-Control"] = "private, no-store"
        response["X-Content-Type-Options"] = "nosniff"
        return response


def _resolution_action(resolution: str) -> Any:
    def action(modeladmin: AmlHitAdmin, request: HttpRequest, queryset: QuerySet[AmlHit]) -> Any:
        return modeladmin.resolve(request, queryset, resolution)

    action.__name__ = f"resolve_{resolution}"
    return admin.action(description=RESOLUTIONS[resolution], permissions=["review"])(action)


@admin.register(AmlHit)
class AmlHitAdmin(ApplicantColumnsMixin, ReadOnlyAdmin):
    """Hits to resolve: open ones first, highest score first."""

    list_display = [
        "caption",
        COLUMNS["applicant_name"],
        "check_link",
        hit_risk,
        topic_labels,
        "score",
        "status",
        "resolved_by",
        "resolved_at",
    ]
    list_filter = ["status", "aml_check__subject", "aml_check__backend"]
    search_fields = SEARCH_FIELDS
    list_select_related = ["aml_check", "aml_check__applicant", "resolved_by"]
    ordering = ["status", "-score"]
    actions = [_resolution_action(name) for name in RESOLUTIONS]

    @admin.display(description=_("match"), ordering="-score")
    def match(self, obj: AmlHit) -> Any:
        """What the screening matched, and how closely (the provider's score)."""
        if obj.score is None:
            return obj.caption
        return format_html("{}<br><small>{} {}</small>", obj.caption, _("score"), obj.score)

    @admin.display(description=_("screening"))
    def check_link(self, obj: AmlHit) -> str:
        url = reverse("admin:django_kyc_amlcheck_change", args=[obj.aml_check_id])
        return format_html('<a href="{}">{}</a>', url, short_id(obj.aml_check_id))

    def has_review_permission(self, request: HttpRequest) -> bool:
        return bool(request.user.has_perm(review.REVIEW_PERMISSION))

    def resolve(self, request: HttpRequest, queryset: QuerySet[AmlHit], resolution: str) -> HttpResponse | None:
        if not self.has_review_permission(request):
            raise PermissionDenied
        return reasoned_action(
            self,
            request,
            queryset,
            form=DecisionForm(request.POST if "apply" in request.POST else None, decision=resolution),
            action=f"resolve_{resolution}",
            label=str(RESOLUTIONS[resolution]),
            counted=ngettext_lazy("%(count)d hit", "%(count)d hits", "count"),
            describe=lambda hit: gettext("%(hit)s · score %(score)s") % {"hit": hit.caption, "score": hit.score},
            name=lambda hit: str(hit.caption),
            apply=lambda hit, data: review.decide_hit(hit.pk, resolution, user=request.user, **data),
        )


@admin.register(AmlQueueItem)
class AmlQueueAdmin(AmlHitAdmin):
    """The AML half of the review queue: open hits, oldest screening first, with the queue's filters."""

    list_display = [
        "match",
        COLUMNS["applicant_name"],
        COLUMNS["applicant_country"],
        hit_risk,
        "backend",
        topic_labels,
        assignee,
        COLUMNS["age"],
    ]
    list_select_related = ["aml_check", "aml_check__applicant", "assigned_to"]
    ordering = ["aml_check__created_at", "-score"]

    actions = [*AmlHitAdmin.actions, assign_to_me, unassign]

    def get_list_filter(self, request: HttpRequest) -> list[Any]:
        return [
            "aml_check__backend",
            "aml_check__applicant__risk_level",
            "aml_check__subject",
            AmlAgeFilter,
            AssigneeFilter,
        ]

    def get_queryset(self, request: HttpRequest) -> QuerySet[AmlHit]:
        return super().get_queryset(request).filter(status=AmlHitStatus.OPEN)

    @admin.display(description=_("backend"), ordering="aml_check__backend")
    def backend(self, obj: AmlHit) -> Any:
        return breakable(obj.aml_check.backend)


class AmlAgeFilter(admin.SimpleListFilter):
    """How long the screening behind the hit has waited (hits have no timestamp of their own)."""

    title = _("waiting")
    parameter_name = "age"

    def lookups(self, request: HttpRequest, model_admin: Any) -> list[tuple[str, Any]]:
        return AGE_LOOKUPS

    def queryset(self, request: HttpRequest, queryset: QuerySet[Any]) -> QuerySet[Any]:
        value = self.value()
        if value in AgeFilter.BUCKETS:
            return queryset.filter(aml_check__created_at__lte=timezone.now() - AgeFilter.BUCKETS[value])
        return queryset
