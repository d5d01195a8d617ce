from __future__ import annotations

from django.contrib import admin

from django_kyc.admin.base import ReadOnlyAdmin, ReadOnlyInline
from django_kyc.models import AmlCheck, AmlHit


class AmlHitInline(ReadOnlyInline):
    model = AmlHit
    fields = ("caption", "entity_id", "score", "topics", "datasets", "status", "resolved_by", "resolved_at")
    readonly_fields = fields
    show_change_link = False


@admin.register(AmlCheck)
class AmlCheckAdmin(ReadOnlyAdmin):
    list_display = ["id", "applicant", "backend", "check_type", "status", "screened_at", "created_at"]
    list_filter = ["status", "backend", "check_type", "created_at"]
    search_fields = ["applicant__reference", "provider_check_id"]
    list_select_related = ["applicant"]
    inlines = [AmlHitInline]
