"""The review dashboard's row on the admin's front page (and the KYC app's page): Django's index lists
registered models only, so the dashboard has a proxy model whose list is the dashboard itself."""

from __future__ import annotations

from typing import Any

from django.contrib import admin
from django.contrib.admin.exceptions import DisallowedModelAdminLookup
from django.core.exceptions import ImproperlyConfigured, PermissionDenied
from django.http import HttpRequest, HttpResponse
from django.urls import URLPattern, path

from django_kyc.admin.base import KycModelAdmin
from django_kyc.admin.review import ReviewDecisionAdmin
from django_kyc.models import ReviewDashboard, ReviewDecision

#: What the dashboard reads from the query string; anything else is refused as the admin's lists refuse an
#: unknown filter (400), so no path answers a question about hidden data, even with an unchanged page.
DASHBOARD_PARAMETERS = frozenset({"days"})


@admin.register(ReviewDashboard)
class ReviewDashboardAdmin(KycModelAdmin):
    """Shown to whoever may see the dashboard (``view_verification``); nothing to add, change or delete."""

    def has_view_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return bool(request.user.has_perm("django_kyc.view_verification"))

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def get_urls(self) -> list[URLPattern]:
        info = self.opts.app_label, self.opts.model_name
        return [path("", self.admin_site.admin_view(self.changelist_view), name="{}_{}_changelist".format(*info))]

    def changelist_view(self, request: HttpRequest, extra_context: dict[str, Any] | None = None) -> HttpResponse:
        if not self.has_view_permission(request):
            raise PermissionDenied
        unknown = sorted(set(request.GET) - DASHBOARD_PARAMETERS)
        if unknown:
            raise DisallowedModelAdminLookup(f"Filtering by {unknown[0]} not allowed")
        proposals = self.admin_site.get_model_admin(ReviewDecision)
        if not isinstance(proposals, ReviewDecisionAdmin):
            raise ImproperlyConfigured("The review dashboard needs django_kyc's admin for four-eyes proposals.")
        return proposals.dashboard_view(request)
