"""The columns every queue shares: who the applicant is, where from, how risky, how long it has waited, and a
short id. A reviewer scans a queue for people and ages, not for UUIDs.

A list column is a plain callable of the row, so the applicant's name cannot depend on the request: each
admin lists ``applicant_name``, and :class:`ApplicantColumnsMixin` swaps it for its ``masked`` twin for staff
without ``view_applicant_pii``. The masked column sorts by the reference, so ``?o=`` cannot order rows by a
hidden name either. Names come from the row's joined applicant (``list_select_related``): no query per row.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from datetime import datetime
from typing import Any

from django.contrib import admin
from django.http import HttpRequest
from django.utils import timezone
from django.utils.formats import date_format
from django.utils.html import format_html, format_html_join
from django.utils.safestring import SafeString, mark_safe
from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _

from django_kyc.admin.base import HIDDEN, can_view_pii
from django_kyc.models import Applicant

#: How many characters of a UUID a list shows; the full id is in the cell's title.
SHORT_ID_LENGTH = 8
#: How much of an applicant reference (``kyc_`` and 20 hex digits) a list shows: enough to tell rows apart
#: and to search by (search matches a part of the reference), the whole one in the title.
SHORT_REFERENCE_LENGTH = 12
#: Where a code may break across lines: ``DOCUMENT_BLURRY``, ``sandbox_hosted``, ``role.pep``.
_BREAKS = re.compile(r"(?<=[_.])")


def short_id(value: Any, length: int = SHORT_ID_LENGTH, css: str = "kyc-short-id") -> SafeString:
    """The first characters of an id, the whole id in the title (hover to read it, search finds either)."""
    text = str(value)
    shown = text if len(text) <= length + 1 else text[:length] + "…"
    return format_html('<span class="{}" title="{}">{}</span>', css, text, shown)


def breakable(text: Any) -> SafeString:
    """``text`` with line-break opportunities after ``_`` and ``.``: a code is one long word, and a narrow
    column would otherwise push the table past the screen's edge."""
    return format_html_join(mark_safe("<wbr>"), "{}", ((part,) for part in _BREAKS.split(str(text))))


def breakable_list(values: Any) -> SafeString | str:
    """Codes one per line, each breakable."""
    items = [breakable(value) for value in values or ()]
    return format_html_join(mark_safe("<br>"), "{}", ((item,) for item in items)) if items else "-"


def humanise_age(since: datetime | None, now: datetime | None = None) -> str:
    """``"12 min"``, ``"3 h"``, ``"2 d"``: how long something has waited, at a glance."""
    if since is None:
        return "-"
    seconds = max(((now or timezone.now()) - since).total_seconds(), 0)
    if seconds < 60:
        return gettext("now")
    if seconds < 3600:
        return gettext("%(n)d min") % {"n": seconds // 60}
    if seconds < 86400:
        return gettext("%(n)d h") % {"n": seconds // 3600}
    return gettext("%(n)d d") % {"n": seconds // 86400}


def exact_time(moment: datetime) -> str:
    """A moment to the second, in the reviewer's language: the events of one decision land within the same
    minute, and their order is what a reviewer reads. The case page's templates use the same format string."""
    return date_format(timezone.localtime(moment), gettext("Y-m-d H:i:s"))


def age_cell(since: datetime | None) -> SafeString | str:
    """The humanised age, with the exact time (seconds shown) in the title; on one line, so a narrow column does
    not break "23 h" into two (the queues' pages have no stylesheet of ours, hence the inline style)."""
    if since is None:
        return "-"
    return format_html(
        '<span class="kyc-age" title="{}" style="white-space: nowrap">{}</span>', exact_time(since), humanise_age(since)
    )


def _follow(obj: Any, path: str) -> Any:
    for part in path.split("__") if path else ():
        obj = getattr(obj, part, None) if obj is not None else None
    return obj


def applicant_columns(path: str, *, age_field: str) -> dict[str, Callable[[Any], Any]]:
    """The shared columns of rows that reach an applicant through ``path`` (``"applicant"``,
    ``"aml_check__applicant"``; ``""`` for applicants themselves), with the row's age read from ``age_field``
    (a path too).

    Returned by name, for ``list_display`` and for :class:`ApplicantColumnsMixin`, which picks the name
    column the user may see.
    """

    prefix = f"{path}__" if path else ""

    def applicant(obj: Any) -> Applicant | None:
        found: Applicant | None = _follow(obj, path)
        return found

    @admin.display(description=_("applicant"), ordering=f"{prefix}last_name")
    def applicant_name(obj: Any) -> SafeString | str:
        person = applicant(obj)
        if person is None:
            return "-"
        return format_html(
            '<span class="kyc-person">{}</span><br><small>{}</small>',
            person.full_name or "-",
            short_id(person.reference, SHORT_REFERENCE_LENGTH, "kyc-reference"),
        )

    @admin.display(description=_("applicant"), ordering=f"{prefix}reference")
    def applicant_masked_name(obj: Any) -> SafeString | str:
        person = applicant(obj)
        if person is None:
            return "-"
        return format_html(
            '<span class="kyc-person" title="{}">{}</span><br><small>{}</small>',
            gettext("Hidden: viewing personal data needs the permission “Can view applicants' personal data”."),
            HIDDEN if person.full_name else "-",
            short_id(person.reference, SHORT_REFERENCE_LENGTH, "kyc-reference"),
        )

    @admin.display(description=_("country"), ordering=f"{prefix}country")
    def applicant_country(obj: Any) -> str:
        person = applicant(obj)
        return (person.country or person.nationality or "-") if person is not None else "-"

    @admin.display(description=_("risk"), ordering=f"{prefix}risk_level")
    def applicant_risk(obj: Any) -> str:
        person = applicant(obj)
        return str(person.get_risk_level_display()) if person is not None else "-"

    # ordered by the timestamp, newest first: sorting the column ascending lists the youngest first
    @admin.display(description=_("age"), ordering=f"-{age_field}")
    def age(obj: Any) -> SafeString | str:
        return age_cell(_follow(obj, age_field))

    @admin.display(description=_("id"), ordering="pk")
    def short_pk(obj: Any) -> SafeString:
        return short_id(obj.pk)

    applicant_name.masked = applicant_masked_name  # type: ignore[attr-defined]
    return {
        column.__name__: column
        for column in (applicant_name, applicant_masked_name, applicant_country, applicant_risk, age, short_pk)
    }


class ApplicantColumnsMixin:
    """Shows the applicant's name column only to staff who may see names, the masked one to the others."""

    def get_list_display(self, request: HttpRequest) -> list[Any]:
        columns = list(super().get_list_display(request))  # type: ignore[misc]
        if can_view_pii(request):
            return columns
        return [self._masked(column) for column in columns]

    @staticmethod
    def _masked(column: Any) -> Any:
        return getattr(column, "masked", column) if callable(column) else column


@admin.display(description=_("assignee"), ordering="assigned_to__username")
def assignee(obj: Any) -> str:
    """Who took the item ("assign to me"); join ``assigned_to`` when listing."""
    user = obj.assigned_to
    return user.get_username() if user is not None else "-"
