"""Verifications and the review queue, with reasoned decisions that go through the review service."""

from __future__ import annotations

from collections.abc import Callable
from datetime import timedelta
from typing import Any

from django.contrib import admin, messages
from django.core.exceptions import PermissionDenied
from django.db.models import CharField, Count, DateTimeField, Max, QuerySet, Value
from django.db.models.functions import Cast
from django.http import HttpRequest, HttpResponse
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext, ngettext, ngettext_lazy
from django.utils.translation import gettext_lazy as _

from django_kyc.admin.base import DecisionPagesAdmin, ReadOnlyAdmin, reasoned_action
from django_kyc.admin.case import CasePageMixin
from django_kyc.admin.columns import ApplicantColumnsMixin, applicant_columns, assignee, breakable, breakable_list
from django_kyc.admin.due_review import due_by
from django_kyc.admin.forms import DECISION_LABELS, WAITING, DecisionForm, decisions_for_status
from django_kyc.models import (
    AmlHit,
    Applicant,
    Heartbeat,
    ProposalStatus,
    ReviewDecision,
    ReviewQueueItem,
    Verification,
)
from django_kyc.services import health, review
from django_kyc.status import AmlHitStatus, VerificationStatus


class WaitingStatusFilter(admin.SimpleListFilter):
    """The queue's status filter offers only the statuses the queue can hold, not every verification status."""

    title = _("status")
    parameter_name = "status__exact"

    def lookups(self, request: HttpRequest, model_admin: Any) -> list[tuple[str, Any]]:
        labels = dict(VerificationStatus.choices)
        return [(status.value, labels[status]) for status in WAITING]

    def queryset(self, request: HttpRequest, queryset: QuerySet[Any]) -> QuerySet[Any]:
        return queryset.filter(status=self.value()) if self.value() in WAITING else queryset


#: The age filter's choices, shared by the queues.
AGE_LOOKUPS: list[tuple[str, Any]] = [
    ("1h", _("over an hour")),
    ("1d", _("over a day")),
    ("7d", _("over a week")),
]


class AgeFilter(admin.SimpleListFilter):
    title = _("waiting")
    parameter_name = "age"
    BUCKETS = {"1h": timedelta(hours=1), "1d": timedelta(days=1), "7d": timedelta(days=7)}

    def lookups(self, request: HttpRequest, model_admin: Any) -> list[tuple[str, Any]]:
        return AGE_LOOKUPS

    def queryset(self, request: HttpRequest, queryset: QuerySet[Any]) -> QuerySet[Any]:
        value = self.value()
        if value in self.BUCKETS:
            return queryset.filter(updated_at__lte=timezone.now() - self.BUCKETS[value])
        return queryset


class AssigneeFilter(admin.SimpleListFilter):
    """Mine, nobody's, or anyone's: what a reviewer picks from first."""

    title = _("assignee")
    parameter_name = "assignee"

    def lookups(self, request: HttpRequest, model_admin: Any) -> list[tuple[str, Any]]:
        return [("me", _("assigned to me")), ("none", _("unassigned")), ("others", _("assigned to others"))]

    def queryset(self, request: HttpRequest, queryset: QuerySet[Any]) -> QuerySet[Any]:
        value = self.value()
        if value == "me":
            return queryset.filter(assigned_to=request.user.pk)
        if value == "none":
            return queryset.filter(assigned_to__isnull=True)
        if value == "others":
            return queryset.filter(assigned_to__isnull=False).exclude(assigned_to=request.user.pk)
        return queryset


@admin.action(description=_("Assign to me"), permissions=["review"])
def assign_to_me(modeladmin: Any, request: HttpRequest, queryset: QuerySet[Any]) -> None:
    """Take the selected items; the review service checks the permission and audits each assignment."""
    done = 0
    for item in queryset:
        review.assign(item, request.user)
        done += 1
    modeladmin.message_user(
        request,
        ngettext("Assigned %(count)d item to you.", "Assigned %(count)d items to you.", done) % {"count": done},
        messages.SUCCESS,
    )


@admin.action(description=_("Unassign"), permissions=["review"])
def unassign(modeladmin: Any, request: HttpRequest, queryset: QuerySet[Any]) -> None:
    for item in queryset:
        review.assign(item, None, by=request.user)
    modeladmin.message_user(request, gettext("Unassigned."), messages.SUCCESS)


#: The heartbeat column of the rows that have none: a NULL typed as a timestamp, so PostgreSQL can match it
#: with the heartbeat's in the ``UNION`` (two untyped NULLs resolve as text), inside an aggregate, so it adds
#: nothing to GROUP BY (grouping by a constant returns no row at all from an empty table).
NO_TIME = Max(Cast(Value(None), DateTimeField()))


def _tally(queryset: QuerySet[Any], kind: str, at: Any = NO_TIME) -> QuerySet[Any]:
    """``(kind, number of rows, at)`` as one row, even when there are none (nothing to group by but a constant)."""
    return (
        queryset.order_by()
        .annotate(kind=Value(kind, output_field=CharField()))
        .values_list("kind")
        .annotate(n=Count("pk"), at=at)
        .values_list("kind", "n", "at")
    )


def queue_counts() -> dict[str, Any]:
    """What waits for a human, per status, and whether the background worker runs: one query.

    The queue is the page reviewers reload all day, and a page may cost at most ten queries (session, user
    and permissions included; ``tests/test_query_counts.py``), so the four aggregates and the sweeper's
    heartbeat go to the database together, joined by ``UNION ALL``. Overdue reviews (docs/review-policy.md)
    are counted here too: a review the person let lapse is escalated to the reviewers, who see the number on
    the page they work from, linked to the "due for review" queue's overdue filter.
    """
    by_status = (
        Verification.objects.filter(status__in=WAITING)
        .order_by()
        .values_list("status")
        .annotate(n=Count("pk"), at=NO_TIME)
        .values_list("status", "n", "at")
    )
    rows = by_status.union(
        _tally(AmlHit.objects.filter(status=AmlHitStatus.OPEN), "aml_hits"),
        _tally(ReviewDecision.objects.filter(status=ProposalStatus.PROPOSED), "proposals"),
        _tally(due_by(Applicant.objects.all(), timezone.now()), "overdue_reviews"),
        _tally(Heartbeat.objects.filter(name=health.SWEEPER), "heartbeat", at=Max("beat_at")),
        all=True,
    )
    counts = {kind: (n, at) for kind, n, at in rows}
    labels = dict(VerificationStatus.choices)
    return {
        "verifications": [(labels[status], counts.get(status, (0,))[0]) for status in WAITING],
        "aml_hits": counts["aml_hits"][0],
        "proposals": counts["proposals"][0],
        "overdue_reviews": counts["overdue_reviews"][0],
        "worker": health.worker_health(counts["heartbeat"][1]),
    }


def _decision_action(decision: str) -> Callable[..., Any]:
    def action(modeladmin: VerificationAdmin, request: HttpRequest, queryset: QuerySet[Verification]) -> Any:
        return modeladmin.decide(request, queryset, decision)

    action.__name__ = decision
    return admin.action(description=DECISION_LABELS[decision], permissions=["review"])(action)


#: The columns of a verification's row, its age counted from its creation.
COLUMNS = applicant_columns("applicant", age_field="created_at")
#: The queue's, its age counted from the last change (when it started waiting).
QUEUE_COLUMNS = applicant_columns("applicant", age_field="updated_at")
#: Who the verification is about, for everyone (the reference) and for those who may see names (the rest;
#: :class:`~django_kyc.admin.base.KycModelAdmin` drops those for the others). Ids are matched in part, as the
#: lists show their first characters.
SEARCH_FIELDS = [
    "id",
    "applicant__reference",
    "applicant__first_name",
    "applicant__last_name",
    "applicant__email",
    "provider_verification_id",
    "provider_applicant_id",
]


@admin.register(Verification)
class VerificationAdmin(ApplicantColumnsMixin, DecisionPagesAdmin, ReadOnlyAdmin):
    list_display = [
        COLUMNS["short_pk"],
        COLUMNS["applicant_name"],
        COLUMNS["applicant_country"],
        COLUMNS["applicant_risk"],
        "backend_name",
        "status",
        assignee,
        COLUMNS["age"],
    ]
    list_filter = ["status", "backend", "applicant__risk_level", AgeFilter, "created_at"]
    search_fields = SEARCH_FIELDS
    list_select_related = ["applicant", "assigned_to"]
    date_hierarchy = "created_at"
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

    @admin.display(description=_("backend"), ordering="backend")
    def backend_name(self, obj: Verification) -> Any:
        return breakable(obj.backend)

    def get_readonly_fields(self, request: HttpRequest, obj: Any = None) -> list[str]:
        """The client link is a bearer credential for the hosted flow: only for staff who may act for the
        applicant. (Provider payloads carry personal data: the base admin hides them without the PII
        permission.)"""
        fields = super().get_readonly_fields(request, obj)
        if request.user.has_perm("django_kyc.change_applicant"):
            return list(fields)
        return [name for name in fields if name != "client_link"]

    def get_fields(self, request: HttpRequest, obj: Any = None) -> list[Any]:
        visible = set(self.get_readonly_fields(request, obj))
        return [name for name in super().get_fields(request, obj) if name in visible]

    def has_review_permission(self, request: HttpRequest) -> bool:
        return request.user.has_perm(review.REVIEW_PERMISSION)

    def decisions(self, request: HttpRequest, obj: Any = None) -> dict[str, Any]:
        """On one verification, only what its status allows: a decision while it waits for a human, and a
        retry only when its submission failed."""
        if not self.has_review_permission(request):
            return {}
        return DECISION_LABELS if obj is None else decisions_for_status(obj.status)

    def render_change_form(
        self,
        request: HttpRequest,
        context: dict[str, Any],
        add: bool = False,
        change: bool = False,
        form_url: str = "",
        obj: Any = None,
    ) -> HttpResponse:
        """A verification waiting in the queue links to its case page, where it is best decided."""
        if obj is not None and obj.status in WAITING and request.user.has_perm("django_kyc.view_reviewqueueitem"):
            context = {**context, "case_url": reverse("admin:django_kyc_reviewqueueitem_change", args=[obj.pk])}
        return super().render_change_form(request, context, add, change, form_url, obj)

    def get_actions(self, request: HttpRequest) -> dict[str, Any]:
        """ "Retry submission" only on a list filtered to errors, the one status it applies to: on a list of items
        in review it could only be refused row by row. (An item's own page offers it on an error alone.)"""
        actions = super().get_actions(request)
        if request.GET.get("status__exact") != VerificationStatus.ERROR:
            actions.pop("retry", None)
        return actions

    def decide(
        self, request: HttpRequest, queryset: QuerySet[Verification], decision: str, single: bool = False
    ) -> HttpResponse | None:
        """Ask for a reason code and comment, then apply the decision to each selected verification."""
        if decision not in DECISION_LABELS:
            raise PermissionDenied
        if not self.has_review_permission(request):
            raise PermissionDenied

        def apply(verification: Verification, data: dict[str, Any]) -> Any:
            if decision == "retry":
                return review.retry(verification.pk, user=request.user, **data)
            return review.decide(verification.pk, decision, user=request.user, **data)

        return reasoned_action(
            self,
            request,
            queryset.select_related("applicant"),
            form=DecisionForm(request.POST if "apply" in request.POST else None, decision=decision),
            action=decision,
            label=str(DECISION_LABELS[decision]),
            counted=ngettext_lazy("%(count)d verification", "%(count)d verifications", "count"),
            describe=lambda v: f"{v.applicant.reference} · {v.backend} · {v.get_status_display()}",
            name=lambda v: str(v.pk),
            apply=apply,
            single=single,
        )


@admin.register(ReviewQueueItem)
class ReviewQueueAdmin(CasePageMixin, VerificationAdmin):
    """What waits for a human: verifications in review or in error, oldest first. An item's page is its case
    page (:mod:`django_kyc.admin.case`)."""

    # the applicant's name leads to the item (a reviewer looks for a person); the id is on the item's page
    list_display = [
        QUEUE_COLUMNS["applicant_name"],
        QUEUE_COLUMNS["applicant_country"],
        QUEUE_COLUMNS["applicant_risk"],
        "backend_name",
        "status",
        "reason_list",
        assignee,
        QUEUE_COLUMNS["age"],
    ]
    list_filter = [WaitingStatusFilter, "backend", "applicant__risk_level", AgeFilter, AssigneeFilter]
    list_select_related = ["applicant", "assigned_to"]
    ordering = ["updated_at"]
    change_list_template = "django_kyc/admin/review_queue_change_list.html"
    # The "(N total)" beside a filtered count is a second COUNT over the queue on every page view, and the
    # page's header (queue_counts) already shows the queue's totals per status.
    show_full_result_count = False

    actions = [*VerificationAdmin.actions, assign_to_me, unassign]

    def changelist_view(self, request: HttpRequest, extra_context: dict[str, Any] | None = None) -> HttpResponse:
        extra = {**(extra_context or {}), "queue_counts": queue_counts()}
        if self.has_review_permission(request):
            extra["next_case_url"] = self.next_url()
        return super().changelist_view(request, extra)

    def get_queryset(self, request: HttpRequest) -> QuerySet[Verification]:
        return super().get_queryset(request).filter(status__in=WAITING)

    @admin.display(description=_("reasons"))
    def reason_list(self, obj: Verification) -> Any:
        return breakable_list(obj.reasons)
