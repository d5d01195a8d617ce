"""Admin for retention and erasure: the erasure-request register and the applicant actions.

Recording a request needs only ``change_applicant`` (anyone handling a data-subject request may log it);
executing a purge needs ``purge_applicant``, because it destroys personal data for good. A request recorded
by someone without it is due at once and the daily purge executes it.
"""

from __future__ import annotations

from typing import Any

from django import forms
from django.contrib import admin, messages
from django.core.exceptions import PermissionDenied
from django.db.models import QuerySet
from django.http import HttpRequest, HttpResponse, HttpResponseRedirect
from django.shortcuts import get_object_or_404
from django.template.response import TemplateResponse
from django.urls import URLPattern, path, reverse
from django.utils.translation import gettext_lazy as _
from django.utils.translation import ngettext

from django_kyc.admin.base import KycModelAdmin, ReadOnlyInline
from django_kyc.models import Applicant, ErasureRequest, ErasureSource, ErasureStatus
from django_kyc.services import retention
from django_kyc.services.audit import Change
from django_kyc.status import Source

PURGE_PERMISSION = "django_kyc.purge_applicant"


def can_purge(request: HttpRequest) -> bool:
    return bool(request.user.has_perm(PURGE_PERMISSION))


class ErasureRequestInline(ReadOnlyInline):
    model = ErasureRequest
    fields = ("requested_at", "source", "status", "due_at", "completed_at", "note")
    readonly_fields = fields
    show_change_link = True

    def get_queryset(self, request: HttpRequest) -> QuerySet[ErasureRequest]:
        """Each row's change link is labelled ``str(request)``, which names the applicant: join it, or the
        applicant page runs one query per erasure request."""
        return super().get_queryset(request).select_related("applicant")


@admin.action(description=_("Record an erasure request"), permissions=["change"])
def record_erasure_request(modeladmin: Any, request: HttpRequest, queryset: QuerySet[Applicant]) -> None:
    """Log a data subject's request; it is purged now if retention allows and the user may purge."""
    outcomes: dict[str, int] = {}
    for applicant in queryset:
        erasure = retention.request_erasure(
            applicant,
            source=ErasureSource.STAFF,
            user=request.user,
            note=str(_("Recorded in admin.")),
            execute=can_purge(request),
        )
        outcomes[erasure.get_status_display()] = outcomes.get(erasure.get_status_display(), 0) + 1
    detail = ", ".join(f"{label}: {count}" for label, count in sorted(outcomes.items()))
    modeladmin.message_user(request, _("Erasure requests recorded (%(detail)s).") % {"detail": detail})


@admin.action(description=_("Purge personal data (only where retention has lapsed)"), permissions=["purge"])
def purge_applicants(modeladmin: Any, request: HttpRequest, queryset: QuerySet[Applicant]) -> None:
    """Purge now instead of waiting for the daily run; retention and legal holds are still enforced."""
    change = Change.by_user(request.user, Source.ADMIN, reason="purge from admin")
    results = [retention.purge(applicant.pk, change=change) for applicant in queryset]
    purged = sum(1 for result in results if result.outcome == retention.PURGED)
    skipped = {result.outcome for result in results if result.outcome != retention.PURGED}
    modeladmin.message_user(
        request,
        ngettext("%(count)d applicant purged.", "%(count)d applicants purged.", purged) % {"count": purged}
        + (f" {_('Not purged')}: {', '.join(sorted(skipped))}." if skipped else ""),
        messages.SUCCESS if not skipped else messages.WARNING,
    )


class ErasureRequestForm(forms.Form):
    note = forms.CharField(
        label=_("Note"),
        required=False,
        widget=forms.Textarea(attrs={"rows": 3}),
        help_text=_("How the request reached you (e.g. the email or ticket it came in); no personal data."),
    )


class RetentionAdminMixin(KycModelAdmin):
    """What :class:`~django_kyc.admin.applicant.ApplicantAdmin` adds for retention: the purge action, and on
    the applicant's page a "Request erasure" page in place of Delete.

    Deleting an applicant would cascade to the audit trail and the erasure register, which no one may delete
    (so Django's delete page told even a superuser "no"), and would skip what erasure must respect: the
    retention period, legal holds and the providers' copies. Erasure goes through
    :func:`~django_kyc.services.retention.request_erasure`, which honours all three and keeps the evidence.
    """

    def has_purge_permission(self, request: HttpRequest) -> bool:
        return can_purge(request)

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def has_erasure_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        """Recording a request needs what the list's action needs: ``change_applicant``."""
        return bool(self.has_change_permission(request, obj))

    def get_urls(self) -> list[URLPattern]:
        custom = [
            path(
                "<uuid:object_id>/erasure/",
                self.admin_site.admin_view(self.erasure_view),
                name="django_kyc_applicant_erasure",
            )
        ]
        return custom + super().get_urls()

    def change_view(
        self, request: HttpRequest, object_id: str, form_url: str = "", extra_context: dict[str, Any] | None = None
    ) -> HttpResponse:
        extra = {
            **(extra_context or {}),
            # one applicant is edited at a time; "add another" from here only led away from the record
            "show_save_and_add_another": False,
            "erasure_url": (
                reverse("admin:django_kyc_applicant_erasure", args=[object_id])
                if self.has_erasure_permission(request)
                else None
            ),
        }
        return super().change_view(request, object_id, form_url, extra)

    def erasure_view(self, request: HttpRequest, object_id: Any) -> HttpResponse:
        """Explain what erasure will do for this applicant, then record the request (and purge now when
        retention allows and the user may purge); back to the applicant's page with the outcome."""
        applicant = get_object_or_404(self.get_queryset(request), pk=object_id)
        if not self.has_erasure_permission(request, applicant):
            raise PermissionDenied
        change_url = reverse("admin:django_kyc_applicant_change", args=[applicant.pk])
        form = ErasureRequestForm(request.POST if request.method == "POST" else None)
        if form.is_valid():
            erasure = retention.request_erasure(
                applicant,
                source=ErasureSource.STAFF,
                user=request.user,
                note=form.cleaned_data["note"] or str(_("Recorded in admin.")),
                execute=can_purge(request),
            )
            self.message_user(
                request,
                _("Erasure request: %(status)s.") % {"status": erasure.get_status_display()},
                messages.SUCCESS if erasure.status == ErasureStatus.DONE else messages.INFO,
            )
            return HttpResponseRedirect(change_url)
        opts = self.opts
        context = {
            **self.admin_site.each_context(request),
            "title": _("Request erasure of %(applicant)s") % {"applicant": applicant},
            "opts": opts,
            "original": applicant,
            "change_url": change_url,
            "form": form,
            "open_request": applicant.erasure_requests.filter(
                status__in=[ErasureStatus.REQUESTED, ErasureStatus.SCHEDULED]
            ).first(),
            "lapsed": retention.retention_lapsed(applicant),
            "can_purge": can_purge(request),
        }
        return TemplateResponse(request, "django_kyc/admin/request_erasure.html", context)

    def save_model(self, request: HttpRequest, obj: Applicant, form: Any, change: bool) -> None:
        super().save_model(request, obj, form, change)
        retention.sync_due_dates(obj)  # a changed relationship end moves waiting requests with it


@admin.register(ErasureRequest)
class ErasureRequestAdmin(KycModelAdmin):
    """The register: who asked, when, and what became of it. Requests are recorded through the applicant
    action or :func:`~django_kyc.services.retention.request_erasure`, never typed in, so each one is
    evaluated against retention when it is made."""

    list_display = ["applicant", "requested_at", "source", "status", "due_at", "completed_at", "requested_by"]
    list_filter = ["status", "source", "requested_at"]
    search_fields = ["applicant__reference"]
    list_select_related = ["applicant", "requested_by"]
    date_hierarchy = "requested_at"
    readonly_fields = ("applicant", "requested_at", "requested_by", "source", "status", "due_at", "completed_at")
    fields = (*readonly_fields, "note")
    actions = ["refuse"]

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False  # the register is evidence of how requests were handled

    @admin.action(description=_("Refuse (the note must give the reason)"), permissions=["change"])
    def refuse(self, request: HttpRequest, queryset: QuerySet[ErasureRequest]) -> None:
        refused = 0
        for erasure in queryset:
            if not erasure.is_open or not erasure.note.strip():
                continue
            retention.refuse_erasure(
                erasure, erasure.note.strip().splitlines()[-1], Change.by_user(request.user, Source.ADMIN)
            )
            refused += 1
        self.message_user(
            request,
            ngettext("%(count)d request refused.", "%(count)d requests refused.", refused) % {"count": refused},
        )
