"""Shared admin pieces: the personal-data rules every django_kyc admin follows, read-only inlines, a read-only
model admin for provider-sourced data, and the reasoned two-step page every reviewer action shares."""

from __future__ import annotations

from collections.abc import Callable, Iterable
from typing import Any

from django import forms
from django.contrib import admin, messages
from django.contrib.admin.helpers import ACTION_CHECKBOX_NAME
from django.core.exceptions import PermissionDenied, ValidationError
from django.db.models import QuerySet
from django.http import HttpRequest, HttpResponse, HttpResponseRedirect
from django.shortcuts import get_object_or_404
from django.template.response import TemplateResponse
from django.urls import URLPattern, path, reverse
from django.utils.translation import gettext, ngettext

from django_kyc import pii
from django_kyc.exceptions import KycError
from django_kyc.pii import APPLICANT_PII_FIELDS, DOCUMENT_PII_FIELDS

__all__ = ["APPLICANT_PII_FIELDS", "DOCUMENT_PII_FIELDS", "HIDDEN", "can_view_pii"]

HIDDEN = "•••"

#: Bearer credentials (the hosted flow's token and link): no filter or search may reach them, whoever asks,
#: or a viewer could read them back a character at a time.
CREDENTIAL_FIELDS: dict[str, tuple[str, ...]] = {"django_kyc.verification": ("client_token", "client_link")}


def can_view_pii(request: HttpRequest) -> bool:
    return pii.can_view_pii(request.user)


def without(fields: Any, hidden: tuple[str, ...]) -> list[Any]:
    return [name for name in fields if name not in hidden]


class KycModelAdmin(admin.ModelAdmin):  # type: ignore[type-arg,unused-ignore]
    """The base of every django_kyc model admin: personal data only for staff with ``view_applicant_pii``.

    Without the permission, the model's personal fields (:func:`django_kyc.pii.personal_fields`) are left out
    of its pages and lists, and no query string may reach a personal field of any model, directly or through
    relations: not a filter (``?last_name__startswith=J``, ``?applicant__email__startswith=j``: 400), not a
    search field (``?q=``). A field that cannot be read must not be guessable letter by letter either, and for
    the same reason no one may filter on a credential (:data:`CREDENTIAL_FIELDS`). Sorting (``?o=``) follows
    the list's columns, which hold no personal field for these users.
    """

    def hidden_fields(self, request: HttpRequest) -> frozenset[str]:
        """This model's fields the user may not see (none with the PII permission)."""
        return frozenset() if can_view_pii(request) else pii.personal_fields(self.model)

    def get_fields(self, request: HttpRequest, obj: Any = None) -> list[Any]:
        return without(super().get_fields(request, obj), tuple(self.hidden_fields(request)))

    def get_readonly_fields(self, request: HttpRequest, obj: Any = None) -> list[Any]:
        return without(super().get_readonly_fields(request, obj), tuple(self.hidden_fields(request)))

    def get_list_display(self, request: HttpRequest) -> list[Any]:
        return without(super().get_list_display(request), tuple(self.hidden_fields(request)))

    def get_search_fields(self, request: HttpRequest) -> list[str]:
        # a search field may carry a prefix choosing its lookup: ^startswith, =iexact, @search
        fields = super().get_search_fields(request)
        return [name for name in fields if not self.reaches_hidden_field(request, name.lstrip("^=@"))]

    def lookup_allowed(self, lookup: str, value: str, request: HttpRequest | None = None) -> bool:
        if self.reaches_hidden_field(request, lookup):
            return False  # the changelist answers 400 "Filtering by ... not allowed"
        return bool(super().lookup_allowed(lookup, value, request))

    def reaches_hidden_field(self, request: HttpRequest | None, path: str) -> bool:
        """Whether a query-string path reaches a credential, or personal data the user may not see."""
        personal = request is None or not can_view_pii(request)
        for model, name in pii.path_fields(self.model, path):
            if name in CREDENTIAL_FIELDS.get(model._meta.label_lower, ()):
                return True
            if personal and name in pii.personal_fields(model):
                return True
        return False


class ReadOnlyInline(admin.TabularInline):  # type: ignore[type-arg,unused-ignore]
    extra = 0
    can_delete = False
    show_change_link = True

    def has_add_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False


class ReadOnlyAdmin(KycModelAdmin):
    """For rows written only by services (provider data, audit, inbox): viewable, never hand-edited."""

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False


def reasoned_action(
    modeladmin: admin.ModelAdmin,
    request: HttpRequest,
    queryset: Iterable[Any],
    *,
    form: forms.Form,
    action: str,
    label: str,
    counted: Any,
    describe: Callable[[Any], str],
    name: Callable[[Any], str],
    apply: Callable[[Any, dict[str, Any]], Any],
    single: bool = False,
) -> HttpResponse | None:
    """The two-step page every reviewer action shares: list what is affected and ask for a reason (and
    comment), then call the service for each object and report what was done, what became a four-eyes
    proposal, and what was refused (with the service's own message). Services enforce the rules; this only
    collects input and reports.

    ``counted`` says how many objects, as ``ngettext_lazy("%(count)d verification", "%(count)d verifications",
    "count")`` does: the count picks the plural form of the language, whose rules are not English's.
    """
    from django_kyc.models.review import ProposalStatus, ReviewDecision

    if form.is_bound and form.is_valid():
        done, proposed, failed = 0, 0, []
        for obj in queryset:
            try:
                result = apply(obj, form.cleaned_data)
            except (KycError, ValidationError, PermissionDenied) as exc:
                failed.append(f"{name(obj)}: {' '.join(getattr(exc, 'messages', [str(exc)]))}")
                continue
            if isinstance(result, ReviewDecision) and result.status == ProposalStatus.PROPOSED:
                proposed += 1  # four-eyes: recorded as a proposal, not applied
            else:
                done += 1
        if done:
            modeladmin.message_user(
                request,
                gettext("%(action)s: %(objects)s.") % {"action": label, "objects": counted % {"count": done}},
                messages.SUCCESS,
            )
        if proposed:
            modeladmin.message_user(
                request,
                ngettext(
                    "%(action)s: %(objects)s needs a second reviewer (four-eyes); the proposal is recorded.",
                    "%(action)s: %(objects)s need a second reviewer (four-eyes); the proposals are recorded.",
                    proposed,
                )
                % {"action": label, "objects": counted % {"count": proposed}},
                messages.WARNING,
            )
        for failure in failed:
            modeladmin.message_user(request, failure, messages.ERROR)
        return None
    items = [(obj.pk, describe(obj)) for obj in queryset]
    context = {
        **modeladmin.admin_site.each_context(request),
        "title": gettext("%(action)s: give a reason") % {"action": label},
        "opts": modeladmin.opts,
        "form": form,
        "decision": action,
        "items": items,
        "counted": counted % {"count": len(items)},
        "single": single,
        "action_checkbox_name": ACTION_CHECKBOX_NAME,
    }
    return TemplateResponse(request, "django_kyc/admin/decision.html", context)


class DecisionPagesAdmin(KycModelAdmin):
    """A page per decision on one object (``<pk>/decide/<decision>/``), linked from the object's page.

    It runs the admin's ``decide(request, queryset, decision, single=True)``, the same two-step
    :func:`reasoned_action` as the list's bulk action, on that one object, and returns to the object's page
    (or to the list, when the decision took the object out of this admin's queryset).
    ``decisions(request)`` names the decisions the user may take (``{name: label}``).
    """

    change_form_template = "django_kyc/admin/decisions_change_form.html"

    def decisions(self, request: HttpRequest, obj: Any = None) -> dict[str, Any]:
        """The decisions ``request.user`` may take on ``obj`` (``None``: on the list's selection)."""
        raise NotImplementedError

    def decide(
        self, request: HttpRequest, queryset: QuerySet[Any], decision: str, single: bool = False
    ) -> HttpResponse | None:
        raise NotImplementedError

    def get_urls(self) -> list[URLPattern]:
        info = self.opts.app_label, self.opts.model_name
        custom = [
            path(
                "<uuid:object_id>/decide/<str:decision>/",
                self.admin_site.admin_view(self.decide_one),
                name="{}_{}_decide".format(*info),
            )
        ]
        return custom + super().get_urls()

    def render_change_form(
        self,
        request: HttpRequest,
        context: dict[str, Any],
        add: bool = False,
        change: bool = False,
        form_url: str = "",
        obj: Any = None,
    ) -> HttpResponse:
        context = {
            **context,
            # the add page has no object to decide on yet
            "decisions": self.decisions(request, obj).items() if obj is not None else (),
            "decide_url_name": f"admin:{self.opts.app_label}_{self.opts.model_name}_decide",
        }
        return super().render_change_form(request, context, add, change, form_url, obj)

    def decide_one(self, request: HttpRequest, object_id: Any, decision: str) -> HttpResponse:
        """The decision page of one object; the reviewer must be able to see what they decide on."""
        if not self.has_view_or_change_permission(request):
            raise PermissionDenied
        queryset = self.get_queryset(request).filter(pk=object_id)
        get_object_or_404(queryset)
        response = self.decide(request, queryset, decision, single=True)
        if response is None:
            # A decision can take the object out of this admin's queryset (a decided item leaves the review
            # queue): then its page would only say it does not exist, so the list is where the reviewer goes.
            opts = self.opts
            if queryset.exists():
                return HttpResponseRedirect(
                    reverse(f"admin:{opts.app_label}_{opts.model_name}_change", args=[object_id])
                )
            return HttpResponseRedirect(reverse(f"admin:{opts.app_label}_{opts.model_name}_changelist"))
        return response
