"""Four-eyes proposals (confirm or withdraw, through the review service) and the review dashboard."""

from __future__ import annotations

from typing import Any

from django import forms
from django.contrib import admin
from django.core.exceptions import PermissionDenied
from django.db.models import QuerySet
from django.http import HttpRequest, HttpResponse
from django.template.response import TemplateResponse
from django.urls import URLPattern, path
from django.utils.formats import date_format, number_format
from django.utils.html import format_html
from django.utils.translation import gettext, ngettext_lazy
from django.utils.translation import gettext_lazy as _

from django_kyc import charts
from django_kyc.admin.base import ReadOnlyAdmin, reasoned_action
from django_kyc.admin.columns import ApplicantColumnsMixin, applicant_columns, breakable
from django_kyc.conf import kyc_settings
from django_kyc.models import ReviewDecision
from django_kyc.services import dashboard, health, review
from django_kyc.status import ReviewReason, VerificationStatus


class ConfirmForm(forms.Form):
    """The confirmer adds only a comment: the reason code is the proposer's and is what gets recorded."""

    comment = forms.CharField(label=_("Comment"), required=False, widget=forms.Textarea(attrs={"rows": 3}))


def approval_text(rate: float | None, decided: int) -> str:
    """``"75% of 4"``: the share approved and of how many decisions, in the language's number format."""
    if rate is None:
        return gettext("n/a")
    return gettext("%(rate)s%% of %(decided)s") % {
        "rate": number_format(round(rate * 100)),
        "decided": number_format(decided, force_grouping=True),
    }


ACTIONS = {"confirm_proposals": _("Confirm (second reviewer)"), "withdraw_proposals": _("Withdraw")}
#: A proposal's age counts from when it was proposed.
COLUMNS = applicant_columns("applicant", age_field="created_at")


@admin.register(ReviewDecision)
class ReviewDecisionAdmin(ApplicantColumnsMixin, ReadOnlyAdmin):
    """Proposals awaiting a second reviewer, and the history of confirmed and withdrawn ones."""

    list_display = [
        COLUMNS["applicant_name"],
        COLUMNS["applicant_country"],
        COLUMNS["applicant_risk"],
        "target",
        "proposal",
        "status",
        "reviewers",
        COLUMNS["age"],
    ]
    list_filter = ["status", "decision", "applicant__risk_level"]
    list_select_related = ["applicant", "verification", "aml_hit__aml_check", "proposed_by", "confirmed_by"]
    # who the proposal is about: the reference for everyone, the rest only for those who may see names
    search_fields = [
        "applicant__reference",
        "applicant__first_name",
        "applicant__last_name",
        "applicant__email",
        "reason_code",
        "rule",
    ]
    ordering = ["status", "created_at"]
    actions = ["confirm_proposals", "withdraw_proposals"]
    readonly_fields = [
        "applicant",
        "verification",
        "aml_hit",
        "decision",
        "reason_code",
        "comment",
        "rule",
        "status",
        "proposed_by",
        "confirmed_by",
        "confirm_comment",
        "closed_by",
        "created_at",
        "closed_at",
    ]

    def has_approve_permission(self, request: HttpRequest) -> bool:
        return bool(request.user.has_perm(review.APPROVE_HIGH_RISK_PERMISSION))

    def has_review_permission(self, request: HttpRequest) -> bool:
        return bool(request.user.has_perm(review.REVIEW_PERMISSION))

    @admin.display(description=_("about"))
    def target(self, obj: ReviewDecision) -> Any:
        """What the proposal decides on, and with which backend."""
        if obj.verification is not None:
            what = gettext("Verification (%(status)s)") % {"status": obj.verification.get_status_display()}
            backend = obj.verification.backend
        elif obj.aml_hit is not None:
            what, backend = gettext("AML hit: %(hit)s") % {"hit": obj.aml_hit.caption}, obj.aml_hit.aml_check.backend
        else:
            return "-"
        return format_html("{}<br><small>{}</small>", what, breakable(backend))

    @admin.display(description=_("reviewers"), ordering="proposed_by__username")
    def reviewers(self, obj: ReviewDecision) -> Any:
        """Who proposed, and who confirmed or withdrew (the second pair of eyes, once there is one)."""
        proposer = obj.proposed_by.get_username() if obj.proposed_by else "-"
        if obj.confirmed_by is None:
            return proposer
        return format_html("{}<br><small>{} {}</small>", proposer, _("confirmed by"), obj.confirmed_by.get_username())

    @admin.display(description=_("proposal"), ordering="decision")
    def proposal(self, obj: ReviewDecision) -> Any:
        """The proposed decision and its reason code."""
        return format_html("{}<br><small>{}</small>", obj.decision_name, breakable(obj.reason_code))

    @admin.action(description=ACTIONS["confirm_proposals"], permissions=["approve"])
    def confirm_proposals(self, request: HttpRequest, queryset: QuerySet[ReviewDecision]) -> HttpResponse | None:
        return self._apply(request, queryset, "confirm_proposals")

    @admin.action(description=ACTIONS["withdraw_proposals"], permissions=["review"])
    def withdraw_proposals(self, request: HttpRequest, queryset: QuerySet[ReviewDecision]) -> HttpResponse | None:
        return self._apply(request, queryset, "withdraw_proposals")

    def _apply(self, request: HttpRequest, queryset: QuerySet[ReviewDecision], action: str) -> HttpResponse | None:
        """Same two-step page as decisions: list what is affected, ask for a comment, then call the service,
        which enforces who may confirm (never the proposer)."""
        service = review.confirm if action == "confirm_proposals" else review.withdraw
        return reasoned_action(
            self,
            request,
            queryset.select_related("applicant", "proposed_by"),
            form=ConfirmForm(request.POST if "apply" in request.POST else None),
            action=action,
            label=str(ACTIONS[action]),
            counted=ngettext_lazy("%(count)d proposal", "%(count)d proposals", "count"),
            describe=lambda p: (
                gettext("%(applicant)s · %(decision)s · %(reason)s · proposed by %(proposer)s")
                % {
                    "applicant": p.applicant.reference,
                    "decision": p.decision_name,
                    "reason": p.reason_code,
                    "proposer": p.proposed_by,
                }
            ),
            name=str,
            apply=lambda p, data: service(p.pk, request.user, comment=data["comment"]),
        )

    # --- the dashboard lives here so it shares this admin's site, permissions and URL namespace ---------

    def get_urls(self) -> list[URLPattern]:
        custom = [path("dashboard/", self.admin_site.admin_view(self.dashboard_view), name="django_kyc_dashboard")]
        return custom + super().get_urls()

    def dashboard_view(self, request: HttpRequest) -> HttpResponse:
        """Verifications per status over time, approval rate and median time to decision per backend, reviews
        falling due per month (docs/review-policy.md), refused webhooks for those who may view their counters,
        and whether the background worker runs.

        Aggregates only, no personal data: anyone who may list verifications may see it.
        """
        if not request.user.has_perm("django_kyc.view_verification"):
            raise PermissionDenied
        try:
            days = min(max(int(request.GET.get("days", kyc_settings.DASHBOARD_DAYS)), 1), 366)
        except ValueError:
            days = int(kyc_settings.DASHBOARD_DAYS)
        dates, series = dashboard.status_series(days)
        stats = dashboard.backend_stats(days)
        # refused webhooks are operations, not review: shown to those allowed to see the counters
        rejections = (
            dashboard.rejection_totals(days) if request.user.has_perm("django_kyc.view_webhookrejection") else None
        )
        names = {key: str(label) for key, label in VerificationStatus.choices}
        review_months, review_series = dashboard.upcoming_reviews()
        # the first column's key is a word, the others are months ("2027-08"): the word in the active language,
        # whole under its column (a translation may be longer than a month)
        review_columns = [gettext("overdue") if key == dashboard.OVERDUE else key for key in review_months]
        context = {
            **self.admin_site.each_context(request),
            "title": _("Review dashboard"),
            "opts": self.opts,
            "days": days,
            "stats": stats,
            "rejections": rejections,
            "worker": health.read_worker_health(),
            # dates and numbers in the active language's formats (the axis: day and month only)
            "status_chart": charts.stacked_bars(
                # Translators: a date format (Django's date filter): the day a chart's column stands for
                [date_format(d, gettext("Y-m-d")) for d in dates],
                series,
                names=names,
                title=gettext("Verifications per status"),
                # Translators: a date format (Django's date filter), day and month only, under a chart's column
                axis_labels=[date_format(d, gettext("m-d")) for d in dates],
            ),
            "approval_chart": charts.horizontal_bars(
                [(s.backend, s.approval_rate, approval_text(s.approval_rate, s.decided)) for s in stats],
                maximum=1.0,
                title=gettext("Approval rate per backend"),
            ),
            "reviews_chart": charts.stacked_bars(
                review_columns,
                review_series,
                names={key: str(label) for key, label in ReviewReason.choices},
                title=gettext("Reviews falling due per month"),
                colours=charts.REVIEW_COLOURS,
                axis_labels=review_columns,
            ),
            "median_chart": charts.horizontal_bars(
                [(s.backend, s.median_seconds, dashboard.humanise_seconds(s.median_seconds)) for s in stats],
                title=gettext("Median time to decision per backend"),
                colour="#5fa8d3",
            ),
        }
        return TemplateResponse(request, "django_kyc/admin/dashboard.html", context)
