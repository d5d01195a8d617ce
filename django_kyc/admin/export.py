"""CSV export of applicants, gated by its own permission and audited.

Exports leave the system, so they need ``export_applicant`` (separate from viewing) and every exported
applicant gets an audit row. Personal data columns are included only for users who may also view PII.
"""

from __future__ import annotations

import csv
import io
from typing import Any

from django.contrib import admin
from django.core.exceptions import PermissionDenied
from django.db.models import QuerySet
from django.http import HttpRequest, HttpResponse
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from django_kyc.models import Applicant, AuditEvent
from django_kyc.pii import APPLICANT_PII_FIELDS, can_view_pii
from django_kyc.status import Actor, Source

EXPORT_PERMISSION = "django_kyc.export_applicant"

#: Always exported: references, statuses and dates, no personal data.
BASE_COLUMNS = (
    "reference",
    "external_id",
    "status",
    "risk_level",
    "nationality",
    "country",
    "created_at",
    "verified_at",
)


def export_columns(user: Any) -> tuple[str, ...]:
    return (*BASE_COLUMNS, *APPLICANT_PII_FIELDS) if can_view_pii(user) else BASE_COLUMNS


def export_csv(user: Any, queryset: QuerySet[Applicant]) -> str:
    """The CSV text, after writing one audit row per exported applicant (one bulk insert)."""
    if not (user.is_authenticated and user.has_perm(EXPORT_PERMISSION)):
        raise PermissionDenied("Exporting applicants needs the export permission.")
    columns = export_columns(user)
    applicants = list(queryset.order_by("created_at"))
    buffer = io.StringIO()
    writer = csv.writer(buffer)
    writer.writerow(columns)
    for applicant in applicants:
        writer.writerow(["" if getattr(applicant, c) is None else getattr(applicant, c) for c in columns])
    pii = columns != BASE_COLUMNS
    AuditEvent.objects.bulk_create(
        AuditEvent(
            applicant_id=applicant.pk,
            object_type="applicant",
            object_id=str(applicant.pk),
            action="exported",
            actor_type=Actor.USER,
            actor=user,
            actor_label=user.get_username()[:128],
            source=Source.ADMIN,
            data={"format": "csv", "pii": pii, "count": len(applicants)},
        )
        for applicant in applicants
    )
    return buffer.getvalue()


@admin.action(description=_("Export selected (CSV)"), permissions=["export"])
def export_applicants(modeladmin: Any, request: HttpRequest, queryset: QuerySet[Applicant]) -> HttpResponse:
    content = export_csv(request.user, queryset)
    response = HttpResponse(content, content_type="text/csv; charset=utf-8")
    stamp = timezone.now().strftime("%Y%m%d-%H%M%S")
    response["Content-Disposition"] = f'attachment; filename="kyc-applicants-{stamp}.csv"'
    response["Cache-Control"] = "private, no-store"
    return response


class ExportAdminMixin:
    """Adds the export action to a model admin without touching its ``actions`` list."""

    def has_export_permission(self, request: HttpRequest) -> bool:
        return bool(request.user.has_perm(EXPORT_PERMISSION))

    def get_actions(self, request: HttpRequest) -> dict[str, Any]:
        actions: dict[str, Any] = super().get_actions(request)  # type: ignore[misc]
        if self.has_export_permission(request):
            name = export_applicants.__name__
            actions[name] = (export_applicants, name, export_applicants.short_description)  # type: ignore[attr-defined]
        return actions
