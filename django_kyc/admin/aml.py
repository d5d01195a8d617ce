"""AML checks and the hits reviewers resolve (with a reason code, through the AML service)."""

from __future__ import annotations

from typing import Any

from django.contrib import admin, messages
from django.contrib.admin.helpers import ACTION_CHECKBOX_NAME
from django.core.exceptions import PermissionDenied, ValidationError
from django.db.models import QuerySet
from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404
from django.template.response import TemplateResponse
from django.urls import URLPattern, path, reverse
from django.utils.html import format_html
from django.utils.translation import gettext_lazy as _

from django_kyc.admin.base import ReadOnlyAdmin, ReadOnlyInline
from django_kyc.admin.forms import DecisionForm
from django_kyc.backends import get_backend
from django_kyc.exceptions import KycError
from django_kyc.models import AmlCheck, AmlHit
from django_kyc.services import aml
from django_kyc.services.transitions import Change, audit
from django_kyc.status import AmlHitStatus, Source

RESOLUTIONS: dict[str, Any] = {
    AmlHitStatus.TRUE_POSITIVE: _("Confirm match (true positive)"),
    AmlHitStatus.FALSE_POSITIVE: _("Dismiss (false positive)"),
}


class AmlHitInline(ReadOnlyInline):
    model = AmlHit
    fields = ("caption", "entity_id", "score", "topics", "datasets", "status", "resolved_by", "resolved_at")
    readonly_fields = fields


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
            supported = get_backend(obj.backend).supports("aml_report")
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
            self.message_user(request, f"The report could not be fetched: {exc}", messages.ERROR)
            return TemplateResponse(request, "admin/base_site.html", self.admin_site.each_context(request))
        audit(
            Change.by_user(request.user, Source.ADMIN),
            obj=check,
            applicant_id=check.applicant_id,
            action="report_viewed",
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
    return admin.action(description=str(RESOLUTIONS[resolution]), permissions=["review"])(action)


@admin.register(AmlHit)
class AmlHitAdmin(ReadOnlyAdmin):
    """Hits to resolve: open ones first, highest score first."""

    list_display = ["caption", "check_link", "score", "topics", "status", "resolved_by", "resolved_at"]
    list_filter = ["status", "aml_check__subject", "aml_check__backend"]
    search_fields = ["caption", "entity_id", "aml_check__applicant__reference"]
    list_select_related = ["aml_check", "aml_check__applicant", "resolved_by"]
    ordering = ["status", "-score"]
    actions = [_resolution_action(name) for name in RESOLUTIONS]

    @admin.display(description=_("check"))
    def check_link(self, obj: AmlHit) -> str:
        url = reverse("admin:django_kyc_amlcheck_change", args=[obj.aml_check_id])
        return format_html('<a href="{}">{}</a>', url, obj.aml_check.applicant.reference)

    def has_review_permission(self, request: HttpRequest) -> bool:
        return bool(request.user.has_perm(aml.REVIEW_PERMISSION))

    def resolve(self, request: HttpRequest, queryset: QuerySet[AmlHit], resolution: str) -> HttpResponse | None:
        if not self.has_review_permission(request):
            raise PermissionDenied
        form = DecisionForm(request.POST if "apply" in request.POST else None)
        if form.is_bound and form.is_valid():
            done, failed = 0, []
            for hit in queryset:
                try:
                    aml.resolve_hit(hit.pk, resolution, user=request.user, **form.cleaned_data)
                    done += 1
                except (KycError, ValidationError, PermissionDenied) as exc:
                    failed.append(f"{hit.caption}: {exc}")
            if done:
                self.message_user(request, f"{RESOLUTIONS[resolution]}: {done} hit(s).", messages.SUCCESS)
            for failure in failed:
                self.message_user(request, failure, messages.ERROR)
            return None
        context = {
            **self.admin_site.each_context(request),
            "title": f"{RESOLUTIONS[resolution]}: give a reason",
            "opts": self.opts,
            "form": form,
            "decision": f"resolve_{resolution}",
            "items": [(hit.pk, f"{hit.caption} · score {hit.score}") for hit in queryset],
            "noun": "hit",
            "noun_plural": "hits",
            "single": False,
            "action_checkbox_name": ACTION_CHECKBOX_NAME,
        }
        return TemplateResponse(request, "django_kyc/admin/decision.html", context)
