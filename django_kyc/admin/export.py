"""CSV export of applicants, gated by its own permission and audited.

Exports leave the system, so they need ``export_applicant`` (separate from viewing) and every exported
applicant gets an audit row. Personal data columns are included only for users who may also view PII.

Applicants type most of what is exported, and the file is opened in a spreadsheet, which runs a cell that
starts like a formula (``=HYPERLINK(...)`` sends the neighbouring cells wherever it points). Every cell goes
through :func:`csv_cell`, as OWASP's CSV injection guidance recommends.
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

from django_kyc.models import Applicant
from django_kyc.pii import APPLICANT_PII_FIELDS, can_view_pii
from django_kyc.services.audit import Change, audit_many
from django_kyc.status import AuditAction, Source

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


#: What makes a spreadsheet read a cell as a formula (OWASP's list: = + - @, and tab and carriage return, which
#: a spreadsheet may drop before reading what follows), with the full-width forms some spreadsheets accept.
FORMULA_TRIGGERS = ("=", "+", "-", "@", "\t", "\r", "\uff1d", "\uff0b", "\uff0d", "\uff20")


def csv_cell(value: Any) -> str:
    """A value as a cell no spreadsheet runs: one starting with a formula trigger, after any leading spaces
    or quotes a spreadsheet might skip, gets a leading ``'`` (shown as text, never evaluated).

    A phone number such as ``+44 20 7946 0000`` is exported as ``'+44 20 7946 0000``: the price of never
    guessing which leading ``+`` or ``-`` is harmless.
    """
    text = "" if value is None else str(value)
    if text.lstrip(" \"'\n\x0b\x0c\xa0").startswith(FORMULA_TRIGGERS) or text.startswith(FORMULA_TRIGGERS):
        return "'" + text
    return text


def export_columns(user: Any) -> tuple[str, ...]:
    return (*BASE_COLUMNS, *APPLICANT_PII_FIELDS) if can_view_pii(user) else BASE_COLUMNS


def export_csv(user: Any, queryset: QuerySet[Applicant]) -> str:
    """The CSV text, after writing one audit row per exported applicant (one bulk insert)."""
    if not (user.is_authenticated and user.has_perm(EXPORT_PERMISSION)):
        raise PermissionDenied(_("Exporting applicants needs the export permission."))
    columns = export_columns(user)
    applicants = list(queryset.order_by("created_at"))
    buffer = io.StringIO()
    writer = csv.writer(buffer, quoting=csv.QUOTE_ALL)  # every cell quoted, inner quotes doubled (OWASP)
    writer.writerow(columns)
    for applicant in applicants:
        writer.writerow([csv_cell(getattr(applicant, column)) for column in columns])
    pii = columns != BASE_COLUMNS
    audit_many(
        Change.by_user(user, Source.ADMIN),
        applicants,
        action=AuditAction.EXPORTED,
        data={"format": "csv", "pii": pii, "count": len(applicants)},
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
