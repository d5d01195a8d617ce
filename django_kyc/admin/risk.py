"""Changing an applicant's risk level in the admin: a reasoned action and a page on the applicant, both
through :func:`django_kyc.services.risk.set_risk_level` (the field itself is read-only in the form)."""

from __future__ import annotations

from typing import Any

from django.contrib import admin
from django.core.exceptions import PermissionDenied
from django.db.models import QuerySet
from django.http import HttpRequest, HttpResponse
from django.utils.translation import gettext, ngettext_lazy
from django.utils.translation import gettext_lazy as _

from django_kyc.admin.base import DecisionPagesAdmin, reasoned_action
from django_kyc.admin.forms import RiskLevelForm
from django_kyc.models import Applicant
from django_kyc.services import review, risk
from django_kyc.services.audit import Change
from django_kyc.status import Source

#: The decision's name in the applicant page's URL (``<pk>/decide/risk_level/``).
RISK_DECISION = "risk_level"
LABEL = _("Change risk level")


@admin.action(description=LABEL, permissions=["review"])
def change_risk_level(modeladmin: RiskAdminMixin, request: HttpRequest, queryset: QuerySet[Applicant]) -> Any:
    return modeladmin.decide(request, queryset, RISK_DECISION)


class RiskAdminMixin(DecisionPagesAdmin):
    """What :class:`~django_kyc.admin.applicant.ApplicantAdmin` adds for risk levels."""

    def has_review_permission(self, request: HttpRequest) -> bool:
        return bool(request.user.has_perm(review.REVIEW_PERMISSION))

    def decisions(self, request: HttpRequest, obj: Any = None) -> dict[str, Any]:
        return {RISK_DECISION: LABEL} if self.has_review_permission(request) else {}

    def decide(
        self, request: HttpRequest, queryset: QuerySet[Applicant], decision: str, single: bool = False
    ) -> HttpResponse | None:
        """Ask for the new level, a reason code and a comment, then set it on each applicant (audited)."""
        if decision != RISK_DECISION or not self.has_review_permission(request):
            raise PermissionDenied

        def apply(applicant: Applicant, data: dict[str, Any]) -> Applicant:
            change = Change.by_user(request.user, Source.ADMIN, reason=data["comment"], reason_code=data["reason_code"])
            return risk.set_risk_level(applicant.pk, data["risk_level"], change)

        return reasoned_action(
            self,
            request,
            queryset,
            form=RiskLevelForm(request.POST if "apply" in request.POST else None),
            action=change_risk_level.__name__,
            label=str(LABEL),
            counted=ngettext_lazy("%(count)d applicant", "%(count)d applicants", "count"),
            describe=lambda applicant: (
                gettext("%(applicant)s · risk %(risk)s")
                % {"applicant": applicant.reference, "risk": applicant.get_risk_level_display()}
            ),
            name=lambda applicant: applicant.reference,
            apply=apply,
            single=single,
        )
