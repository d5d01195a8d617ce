"""The reviewers' false-positive memory, read-only: who dismissed which listed entity for which applicant,
and when. Rows are written only by the review service (:mod:`django_kyc.services.dismissals`); staff with the
view permission may look, nobody edits. The applicant appears by reference only: names need the PII
permission, which this page does not check."""

from __future__ import annotations

from django.contrib import admin
from django.urls import reverse
from django.utils.html import format_html
from django.utils.translation import gettext_lazy as _

from django_kyc.admin.base import ReadOnlyAdmin
from django_kyc.models import ScreeningDismissal


@admin.register(ScreeningDismissal)
class ScreeningDismissalAdmin(ReadOnlyAdmin):
    list_display = ["entity_id", "applicant_link", "backend", "dismissed_by", "created_at", "digest"]
    list_filter = ["backend"]
    search_fields = ["entity_id", "applicant__reference"]
    list_select_related = ["applicant", "dismissed_by"]
    ordering = ["-created_at"]
    fields = (
        "applicant_link",
        "backend",
        "entity_id",
        "digest",
        "hit_link",
        "dismissed_by",
        "created_at",
    )
    readonly_fields = fields

    @admin.display(description=_("applicant"), ordering="applicant__reference")
    def applicant_link(self, obj: ScreeningDismissal) -> str:
        url = reverse("admin:django_kyc_applicant_change", args=[obj.applicant_id])
        return format_html('<a href="{}">{}</a>', url, obj.applicant.reference)

    @admin.display(description=_("hit"))
    def hit_link(self, obj: ScreeningDismissal) -> str:
        if obj.hit_id is None:
            return "-"
        url = reverse("admin:django_kyc_amlhit_change", args=[obj.hit_id])
        return format_html('<a href="{}">{}</a>', url, obj.hit_id)

    @admin.display(description=_("entity digest"))
    def digest(self, obj: ScreeningDismissal) -> str:
        """Enough of the digest to tell versions apart; empty: the dismissal holds until the applicant changes."""
        return obj.entity_digest[:12] or "-"
