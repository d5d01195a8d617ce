from __future__ import annotations

import json

from django.contrib import admin, messages
from django.db.models import QuerySet
from django.http import HttpRequest
from django.utils.html import format_html
from django.utils.safestring import SafeString
from django.utils.translation import gettext_lazy as _
from django.utils.translation import ngettext

from django_kyc.admin.base import ReadOnlyAdmin
from django_kyc.models import WebhookEvent, WebhookRejection
from django_kyc.services import webhooks

#: A ``<pre>`` that wraps: the admin's read-only field is a fixed-width column, and an unwrapped signed JSON
#: line is thousands of characters wide.
BODY_STYLE = "white-space:pre-wrap;overflow-wrap:anywhere;max-width:100%;margin:0;font-size:12px"


def pretty_body(text: str) -> str:
    """``text`` re-indented when it is JSON (display only: processing works on the stored bytes)."""
    try:
        return json.dumps(json.loads(text), indent=2, ensure_ascii=False, sort_keys=False)
    except ValueError:
        return text


@admin.register(WebhookEvent)
class WebhookEventAdmin(ReadOnlyAdmin):
    """The inbox. Bodies are shown only on the detail page, and only to staff who may see personal data
    (they carry names, dates of birth and document numbers): the base admin's rule, as for provider payloads
    on the verification page. The list never renders them.

    The stored body is bytes (exactly what was authenticated); the page shows it decoded for reading, with
    bytes that do not decode replaced, and indented when it is JSON: display only, processing never reads what
    is shown.
    """

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
    list_filter = ["state", "backend", "event_type", "holds_event_id", "received_at"]
    search_fields = ["event_id", "provider_ref"]
    list_select_related = ["verification"]
    date_hierarchy = "received_at"
    # Every delivery adds a row: the "(N total)" beside a filtered count would be a second COUNT(*) over the
    # whole inbox on every page view (a full scan on PostgreSQL), even with no filter on.
    show_full_result_count = False
    actions = ["reprocess"]
    readonly_fields = ["body_as_text"]

    def hidden_fields(self, request: HttpRequest) -> frozenset[str]:
        """The decoded body is the body: hidden whenever the stored one is."""
        hidden = super().hidden_fields(request)
        return hidden | {"body_as_text"} if "body" in hidden else hidden

    @admin.display(description=_("body"))
    def body_as_text(self, obj: WebhookEvent) -> SafeString:
        """JSON indented for reading, wrapped to the page (long tokens and URLs break rather than widen it);
        anything else as received."""
        return format_html(
            '<pre class="kyc-webhook-body" style="{}">{}</pre>', BODY_STYLE, pretty_body(obj.body_text())
        )

    @admin.action(description=_("Reprocess selected events"), permissions=["reprocess"])
    def reprocess(self, request: HttpRequest, queryset: QuerySet[WebhookEvent]) -> None:
        count = webhooks.reprocess(list(queryset.values_list("pk", flat=True)))
        self.message_user(
            request,
            ngettext("%(count)d event queued for processing.", "%(count)d events queued for processing.", count)
            % {"count": count},
            messages.SUCCESS,
        )

    def has_reprocess_permission(self, request: HttpRequest) -> bool:
        return request.user.has_perm("django_kyc.change_webhookevent")


@admin.register(WebhookRejection)
class WebhookRejectionAdmin(ReadOnlyAdmin):
    """Refused deliveries per endpoint, reason and day: counts only, as the refused requests are never kept.

    View permission only (the model defines no other); :class:`ReadOnlyAdmin` refuses adding, changing and
    deleting even to superusers, because the counters are written by the webhook service alone.
    """

    list_display = ["day", "endpoint", "reason", "count"]
    list_filter = ["reason", "backend", "day"]
    date_hierarchy = "day"
    actions = None

    @admin.display(description=_("backend alias"), ordering="backend")
    def endpoint(self, obj: WebhookRejection) -> str:
        return obj.backend or str(_("(unknown endpoint)"))
