from __future__ import annotations

from django.contrib import admin, messages
from django.db.models import QuerySet
from django.http import HttpRequest

from django_kyc.admin.base import ReadOnlyAdmin
from django_kyc.models import WebhookEvent
from django_kyc.services import webhooks


@admin.register(WebhookEvent)
class WebhookEventAdmin(ReadOnlyAdmin):
    """The inbox. Bodies are shown only on the detail page; the list never renders them."""

    list_display = [
        "received_at",
        "backend",
        "event_type",
        "event_id",
        "state",
        "attempts",
        "note",
        "verification",
    ]
    list_filter = ["state", "backend", "event_type", "received_at"]
    search_fields = ["event_id", "provider_ref"]
    list_select_related = ["verification"]
    date_hierarchy = "received_at"
    actions = ["reprocess"]

    @admin.action(description="Reprocess selected events", permissions=["reprocess"])
    def reprocess(self, request: HttpRequest, queryset: QuerySet[WebhookEvent]) -> None:
        count = webhooks.reprocess(list(queryset.values_list("pk", flat=True)))
        self.message_user(request, f"{count} event(s) queued for processing.", messages.SUCCESS)

    def has_reprocess_permission(self, request: HttpRequest) -> bool:
        return request.user.has_perm("django_kyc.change_webhookevent")
