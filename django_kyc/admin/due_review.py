"""The "due for review" queue: approved applicants whose periodic review or identity document falls due soon or
has lapsed (docs/review-policy.md). Overdue ones first: the daily run has already taken ``verified`` from them
and a reviewer should look at who they are and why.

The rows are applicants (a proxy, :class:`~django_kyc.models.ReviewDueItem`), listed with the columns every
queue shares; a row's page shows the review and links to the applicant's own page, where its history,
documents and verifications are.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

from django.contrib import admin
from django.db.models import QuerySet
from django.http import HttpRequest
from django.urls import reverse
from django.utils import timezone
from django.utils.formats import date_format
from django.utils.html import format_html
from django.utils.safestring import SafeString
from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _

from django_kyc.admin.base import ReadOnlyAdmin
from django_kyc.admin.columns import ApplicantColumnsMixin, applicant_columns
from django_kyc.models import Applicant, ReviewDueItem
from django_kyc.services import review_policy
from django_kyc.status import ApplicantStatus

#: The queue's horizon without a filter: what is overdue, and what falls due within this many days.
HORIZON_DAYS = 90
#: An applicant waits since its review fell due.
COLUMNS = applicant_columns("", age_field="next_review_at")


class DueFilter(admin.SimpleListFilter):
    """Overdue, or due within 30 days (the default notice period), or everything within the horizon."""

    title = _("due")
    parameter_name = "due"

    def lookups(self, request: HttpRequest, model_admin: Any) -> list[tuple[str, Any]]:
        return [("overdue", _("overdue")), ("30d", _("due in 30 days"))]

    def queryset(self, request: HttpRequest, queryset: QuerySet[Any]) -> QuerySet[Any]:
        now = timezone.now()
        if self.value() == "overdue":
            return queryset.filter(next_review_at__lte=now)
        if self.value() == "30d":
            return queryset.filter(next_review_at__gt=now, next_review_at__lte=now + timedelta(days=30))
        return queryset


def due_by(applicants: QuerySet[Applicant], moment: datetime) -> QuerySet[Applicant]:
    """Those of ``applicants`` with a review due by ``moment`` (rejected ones have nothing left to review): the
    queue's rows, and with ``moment`` now the overdue reviews the review queue's header counts."""
    return applicants.filter(next_review_at__lte=moment).exclude(status=ApplicantStatus.REJECTED)


@admin.register(ReviewDueItem)
class DueReviewAdmin(ApplicantColumnsMixin, ReadOnlyAdmin):
    """Applicants due for review within :data:`HORIZON_DAYS` or overdue, the most overdue first."""

    list_display = [
        COLUMNS["applicant_name"],
        COLUMNS["applicant_country"],
        COLUMNS["applicant_risk"],
        "status",
        "review_reason",
        "due",
        "notice",
    ]
    list_filter = [DueFilter, "review_reason", "status", "risk_level"]
    search_fields = ["reference", "external_id", "email", "last_name"]
    ordering = ["next_review_at", "id"]
    list_per_page = 100
    fields = (
        "applicant_page",
        "status",
        "risk_level",
        "verified_at",
        "next_review_at",
        "review_reason",
        "review_notified_at",
        "reverification_required_at",
    )
    readonly_fields = fields

    def get_queryset(self, request: HttpRequest) -> QuerySet[Applicant]:
        return due_by(super().get_queryset(request), timezone.now() + timedelta(days=HORIZON_DAYS))

    @admin.display(description=_("due"), ordering="next_review_at")
    def due(self, obj: Applicant) -> SafeString | str:
        """The date, marked when it has passed."""
        if obj.next_review_at is None:
            return "-"
        day = date_format(timezone.localtime(obj.next_review_at), "DATE_FORMAT")
        if obj.next_review_at <= timezone.now():
            return format_html('<strong class="kyc-overdue">{}</strong><br><small>{}</small>', day, gettext("overdue"))
        return day

    @admin.display(description=_("person asked"), ordering="review_notified_at")
    def notice(self, obj: Applicant) -> str:
        """Whether the person has been asked to verify again (the notice) or is now required to."""
        if obj.status == ApplicantStatus.REVERIFICATION_REQUIRED:
            return gettext("required")
        if obj.review_notified_at is not None:
            return date_format(timezone.localtime(obj.review_notified_at), "DATE_FORMAT")
        if review_policy.review_notice_open(obj):
            return gettext("today's run")
        return "-"

    @admin.display(description=_("applicant page"))
    def applicant_page(self, obj: Applicant) -> SafeString:
        """The applicant's own page holds its history, documents and verifications."""
        url = reverse("admin:django_kyc_applicant_change", args=[obj.pk])
        return format_html('<a href="{}">{}</a>', url, obj.reference)
