"""Verifications and the review queue, with reasoned decisions that go through the review service."""

from __future__ import annotations

from collections.abc import Callable
from datetime import timedelta
from typing import Any

from django.contrib import admin, messages
from django.contrib.admin.helpers import ACTION_CHECKBOX_NAME
from django.core.exceptions import PermissionDenied, ValidationError
from django.db.models import QuerySet
from django.http import HttpRequest, HttpResponse, HttpResponseRedirect
from django.shortcuts import get_object_or_404
from django.template.response import TemplateResponse
from django.urls import URLPattern, path, reverse
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from django_kyc.admin.base import ReadOnlyAdmin
from django_kyc.admin.forms import DecisionForm
from django_kyc.exceptions import KycError
from django_kyc.models import ReviewQueueItem, Verification
from django_kyc.services import review
from django_kyc.status import VerificationStatus

DECISION_LABELS = {
    "approve": _("Approve"),
    "decline": _("Decline"),
    "request_resubmission": _("Request resubmission"),
    "retry": _("Retry submission"),
}


class AgeFilter(admin.SimpleListFilter):
    title = _("waiting")
    parameter_name = "age"
    BUCKETS = {"1h": timedelta(hours=1), "1d": timedelta(days=1), "7d": timedelta(days=7)}

    def lookups(self, request: HttpRequest, model_admin: Any) -> list[tuple[str, str]]:
        return [("1h", "over an hour"), ("1d", "over a day"), ("7d", "over a week")]

    def queryset(self, request: HttpRequest, queryset: QuerySet[Any]) -> QuerySet[Any]:
        value = self.value()
        if value in self.BUCKETS:
            return queryset.filter(updated_at__lte=timezone.now() - self.BUCKETS[value])
        return queryset


def _decision_action(decision: str) -> Callable[..., Any]:
    def action(modeladmin: VerificationAdmin, request: HttpRequest, queryset: QuerySet[Verification]) -> Any:
        return modeladmin.decide(request, queryset, decision)

    action.__name__ = decision
    return admin.action(description=str(DECISION_LABELS[decision]), permissions=["review"])(action)


@admin.register(Verification)
class VerificationAdmin(ReadOnlyAdmin):
    list_display = [
        "id",
        "applicant",
        "backend",
        "status",
        "provider_status",
        "attempts",
        "created_at",
        "updated_at",
    ]
    list_filter = ["status", "backend", "applicant__risk_level", AgeFilter, "created_at"]
    search_fields = ["id", "applicant__reference", "provider_verification_id", "provider_applicant_id"]
    list_select_related = ["applicant"]
    date_hierarchy = "created_at"
    change_form_template = "django_kyc/admin/verification_change_form.html"
    actions = [_decision_action(name) for name in DECISION_LABELS]
    readonly_fields = [
        "applicant",
        "backend",
        "status",
        "provider_status",
        "reasons",
        "provider_applicant_id",
        "provider_verification_id",
        "provider_data",
        "attempts",
        "next_attempt_at",
        "last_error",
        "client_link",
        "client_token_expires_at",
        "last_event_at",
        "last_polled_at",
        "submitted_at",
        "decided_at",
        "decision_source",
        "created_at",
        "updated_at",
    ]
    exclude = ["client_token"]

    def has_review_permission(self, request: HttpRequest) -> bool:
        return request.user.has_perm(review.REVIEW_PERMISSION)

    def get_urls(self) -> list[URLPattern]:
        info = self.opts.app_label, self.opts.model_name
        custom = [
            path(
                "<uuid:object_id>/decide/<str:decision>/",
                self.admin_site.admin_view(self.decide_one),
                name="{}_{}_decide".format(*info),
            )
        ]
        return custom + super().get_urls()

    def change_view(
        self,
        request: HttpRequest,
        object_id: str,
        form_url: str = "",
        extra_context: dict[str, Any] | None = None,
    ) -> HttpResponse:
        extra = {
            **(extra_context or {}),
            "decisions": DECISION_LABELS.items() if self.has_review_permission(request) else [],
            "decide_url_name": f"admin:{self.opts.app_label}_{self.opts.model_name}_decide",
        }
        return super().change_view(request, object_id, form_url, extra)

    def decide_one(self, request: HttpRequest, object_id: Any, decision: str) -> HttpResponse:
        """The decision page of one verification; the reviewer must be able to see what they decide on."""
        if not self.has_view_or_change_permission(request):
            raise PermissionDenied
        queryset = self.get_queryset(request).filter(pk=object_id)
        get_object_or_404(queryset)
        response = self.decide(request, queryset, decision, single=True)
        if response is None:
            return HttpResponseRedirect(
                reverse(f"admin:{self.opts.app_label}_{self.opts.model_name}_change", args=[object_id])
            )
        return response

    def decide(
        self, request: HttpRequest, queryset: QuerySet[Verification], decision: str, single: bool = False
    ) -> HttpResponse | None:
        """Ask for a reason code and comment, then apply the decision to each selected verification."""
        if decision not in DECISION_LABELS:
            raise PermissionDenied
        if not self.has_review_permission(request):
            raise PermissionDenied
        form = DecisionForm(request.POST if "apply" in request.POST else None)
        if form.is_bound and form.is_valid():
            done, failed = 0, []
            for verification in queryset:
                try:
                    if decision == "retry":
                        review.retry(verification.pk, user=request.user, **form.cleaned_data)
                    else:
                        review.decide(verification.pk, decision, user=request.user, **form.cleaned_data)
                    done += 1
                except (KycError, ValidationError) as exc:
                    failed.append(f"{verification.pk}: {exc}")
            if done:
                self.message_user(request, f"{DECISION_LABELS[decision]}: {done} verification(s).", messages.SUCCESS)
            for failure in failed:
                self.message_user(request, failure, messages.ERROR)
            return None
        context = {
            **self.admin_site.each_context(request),
            "title": f"{DECISION_LABELS[decision]}: give a reason",
            "opts": self.opts,
            "form": form,
            "decision": decision,
            "items": [
                (v.pk, f"{v.applicant.reference} · {v.backend} · {v.get_status_display()}")
                for v in queryset.select_related("applicant")
            ],
            "noun": "verification",
            "noun_plural": "verifications",
            "single": single,
            "action_checkbox_name": ACTION_CHECKBOX_NAME,
        }
        return TemplateResponse(request, "django_kyc/admin/decision.html", context)


@admin.register(ReviewQueueItem)
class ReviewQueueAdmin(VerificationAdmin):
    """What waits for a human: verifications in review or in error, oldest first."""

    list_display = [
        "id",
        "applicant",
        "risk",
        "backend",
        "status",
        "provider_status",
        "reasons",
        "waiting_since",
    ]
    ordering = ["updated_at"]

    def get_queryset(self, request: HttpRequest) -> QuerySet[Verification]:
        return super().get_queryset(request).filter(status__in=[VerificationStatus.REVIEW, VerificationStatus.ERROR])

    @admin.display(description=_("risk"), ordering="applicant__risk_level")
    def risk(self, obj: Verification) -> str:
        return obj.applicant.get_risk_level_display()

    @admin.display(description=_("waiting since"), ordering="updated_at")
    def waiting_since(self, obj: Verification) -> Any:
        return obj.updated_at
