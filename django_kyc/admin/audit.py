from __future__ import annotations

from django.contrib import admin
from django.utils.translation import gettext_lazy as _

from django_kyc.admin.base import ReadOnlyAdmin
from django_kyc.admin.columns import exact_time
from django_kyc.models import AuditEvent


class TimelineTimes:
    """The ``created_at_seconds`` column of a timeline (the audit list, the applicant page's inline)."""

    @admin.display(description=_("created at"), ordering="created_at")
    def created_at_seconds(self, event: AuditEvent) -> str:
        return exact_time(event.created_at)


#: What a reviewer reads on a timeline row: when, what moved, who moved it, through which door, and why.
TIMELINE_COLUMNS = (
    "created_at_seconds",
    "object_type",
    "action",
    "from_status",
    "to_status",
    "actor_type",
    "actor_label",
    "source",
    "reason_code",
)


@admin.register(AuditEvent)
class AuditEventAdmin(TimelineTimes, ReadOnlyAdmin):
    list_display = (TIMELINE_COLUMNS[0], "applicant", *TIMELINE_COLUMNS[1:])
    list_filter = ["object_type", "action", "actor_type", "source", "created_at"]
    search_fields = ["object_id", "applicant__reference", "actor_label", "reason_code"]
    list_select_related = ["applicant"]
    date_hierarchy = "created_at"
    # Append-only and the largest table there is: the "(N total)" beside a filtered count would be a second
    # COUNT(*) over all of it on every page view (a full scan on PostgreSQL), even with no filter on.
    show_full_result_count = False
