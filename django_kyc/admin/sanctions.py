"""Read-only pages over the official sanctions lists the ``lists`` backend screens against: each list with the
version in use and its last load (or failure), every load attempt, and the entries with their names, facts and
the authority's original record. Lists change only through ``kyc_load_lists``, never by hand."""

from __future__ import annotations

import json
from typing import Any

from django.contrib import admin
from django.db.models import Count, OuterRef, QuerySet, Subquery
from django.http import HttpRequest
from django.utils.html import format_html, format_html_join
from django.utils.translation import gettext_lazy as _

from django_kyc.admin.base import ReadOnlyAdmin, ReadOnlyInline
from django_kyc.models.sanctions import ListEntry, ListEntryName, ListVersion, SanctionsList, VersionStatus


def _json(value: Any) -> str:
    return format_html("<pre>{}</pre>", json.dumps(value, indent=2, ensure_ascii=False, sort_keys=True))


class ListVersionInline(ReadOnlyInline):
    model = ListVersion
    fields = ("started_at", "status", "entries", "added", "changed", "removed", "sha256", "error")
    readonly_fields = fields
    ordering = ["-started_at"]
    max_num = 0


@admin.register(SanctionsList)
class SanctionsListAdmin(ReadOnlyAdmin):
    list_display = ["__str__", "source", "current_version", "active_entries", "last_load", "last_status", "last_error"]
    list_select_related = ["current_version", "current_version__sanctions_list"]
    readonly_fields = ["source", "current_version"]
    inlines = [ListVersionInline]

    def get_queryset(self, request: HttpRequest) -> QuerySet[SanctionsList]:
        """Counts and the latest attempt as annotations: one query for the page, however long the lists."""
        latest = ListVersion.objects.filter(sanctions_list=OuterRef("pk")).order_by("-started_at", "-pk")
        active = (
            ListEntry.objects.filter(sanctions_list=OuterRef("pk"), removed_at__isnull=True)
            .order_by()
            .values("sanctions_list")
            .annotate(n=Count("pk"))
            .values("n")
        )
        return (
            super()
            .get_queryset(request)
            .annotate(
                active_count=Subquery(active),
                last_started=Subquery(latest.values("started_at")[:1]),
                last_status_value=Subquery(latest.values("status")[:1]),
                last_error_text=Subquery(latest.values("error")[:1]),
            )
        )

    @admin.display(description=_("active entries"))
    def active_entries(self, obj: SanctionsList) -> int:
        return int(getattr(obj, "active_count", None) or 0)

    @admin.display(description=_("last load"))
    def last_load(self, obj: SanctionsList) -> Any:
        return getattr(obj, "last_started", None) or "—"

    @admin.display(description=_("status"))
    def last_status(self, obj: SanctionsList) -> str:
        value = getattr(obj, "last_status_value", None)
        return str(VersionStatus(value).label) if value in VersionStatus.values else ""

    @admin.display(description=_("last error"))
    def last_error(self, obj: SanctionsList) -> str:
        return str(getattr(obj, "last_error_text", None) or "")[:200]


@admin.register(ListVersion)
class ListVersionAdmin(ReadOnlyAdmin):
    list_display = ["sanctions_list", "started_at", "status", "entries", "added", "changed", "removed", "loaded_at"]
    list_filter = ["sanctions_list", "status"]
    list_select_related = ["sanctions_list"]
    readonly_fields = [
        "sanctions_list",
        "status",
        "source_url",
        "sha256",
        "size_bytes",
        "published_at",
        "started_at",
        "loaded_at",
        "entries",
        "added",
        "changed",
        "removed",
        "key_version",
        "error",
    ]


class ListEntryNameInline(ReadOnlyInline):
    model = ListEntryName
    fields = ("name", "name_type", "weak", "script", "normalised")
    readonly_fields = fields
    show_change_link = False
    max_num = 0


@admin.register(ListEntry)
class ListEntryAdmin(ReadOnlyAdmin):
    list_display = ["caption", "sanctions_list", "source_id", "kind", "listed_on", "removed_at"]
    list_filter = ["sanctions_list", "kind", ("removed_at", admin.EmptyFieldListFilter)]
    list_select_related = ["sanctions_list"]
    search_fields = ["caption", "source_id", "names__normalised"]
    readonly_fields = (
        "sanctions_list",
        "source_id",
        "kind",
        "caption",
        "programmes",
        "listed_on",
        "name_list",
        "facts",
        "original",
        "digest",
        "first_version",
        "changed_version",
        "removed_at",
        "removed_version",
    )
    fields = readonly_fields
    inlines = [ListEntryNameInline]

    def get_search_results(
        self, request: HttpRequest, queryset: QuerySet[ListEntry], search_term: str
    ) -> tuple[QuerySet[ListEntry], bool]:
        found, _duplicates = super().get_search_results(request, queryset, search_term)
        return found.distinct(), False

    @admin.display(description=_("names"))
    def name_list(self, obj: ListEntry) -> str:
        return format_html_join(
            "",
            "<div>{} <small>({}{})</small></div>",
            ((n.name, n.get_name_type_display(), ", weak" if n.weak else "") for n in obj.names.all()),
        )

    @admin.display(description=_("data"))
    def facts(self, obj: ListEntry) -> str:
        return _json(obj.data)

    @admin.display(description=_("original record"))
    def original(self, obj: ListEntry) -> str:
        return _json(obj.raw)
