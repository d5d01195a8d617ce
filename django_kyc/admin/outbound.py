"""Outbound events in the admin: endpoints (secret shown once), the events, and every delivery attempt.

Least privilege: adding or changing an endpoint needs the endpoint permissions (a URL and a secret are what
decide where data goes); seeing events and attempts needs only view permissions; resending and replaying need
``resend_delivery``. Secrets are never in a form or a page after the one that shows a new secret, and endpoints
declared in settings are read-only here, except that a person may enable one again after a 410.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

from django import forms
from django.contrib import admin, messages
from django.db.models import QuerySet
from django.http import HttpRequest, HttpResponse
from django.template.response import TemplateResponse
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy, ngettext

from django_kyc.admin.base import KycModelAdmin, ReadOnlyAdmin, ReadOnlyInline
from django_kyc.models import Delivery, DeliveryAttempt, Endpoint, EndpointSource, OutboundEvent
from django_kyc.outbound.catalogue import CATALOGUE
from django_kyc.outbound.client import Refused, check_url
from django_kyc.outbound.signing import generate_secret
from django_kyc.services import outbound

RESEND_PERMISSION = "django_kyc.resend_delivery"


def event_type_choices() -> list[tuple[str, Any]]:
    return [("*", gettext_lazy("Every event type, including ones added later")), *((e.name, e.name) for e in CATALOGUE)]


def _https_by_default(field: Any, **kwargs: Any) -> Any:
    if field.name == "url":
        kwargs["assume_scheme"] = "https"
    return field.formfield(**kwargs)


class EndpointForm(forms.ModelForm):
    event_types = forms.MultipleChoiceField(
        label=gettext_lazy("event types"), choices=event_type_choices, widget=forms.CheckboxSelectMultiple
    )

    class Meta:
        model = Endpoint
        fields = ["name", "url", "event_types", "enabled"]
        formfield_callback = _https_by_default

    def clean_url(self) -> str:
        url = str(self.cleaned_data["url"])
        try:
            # http only where deliveries allow it; addresses are checked again on every delivery, after DNS
            from django.conf import settings

            check_url(url, allow_http=bool(settings.DEBUG))
        except Refused as exc:
            raise forms.ValidationError(str(exc)) from None
        return url


class ReplayForm(forms.Form):
    since = forms.DateTimeField(
        label=gettext_lazy("Replay events since"),
        help_text=gettext_lazy("Every event since then that the endpoint subscribes to is sent to it again."),
    )


@admin.register(Endpoint)
class EndpointAdmin(KycModelAdmin):
    form = EndpointForm
    list_display = ["name", "url", "source", "enabled", "disabled_reason", "updated_at"]
    list_filter = ["enabled", "source"]
    search_fields = ["name"]
    actions = ["rotate_secret", "replay_since"]

    def formfield_for_dbfield(self, db_field: Any, request: HttpRequest, **kwargs: Any) -> Any:
        if db_field.name == "url":
            kwargs["assume_scheme"] = "https"
        return super().formfield_for_dbfield(db_field, request, **kwargs)

    def get_readonly_fields(self, request: HttpRequest, obj: Any = None) -> list[Any]:
        if obj is not None and obj.source == EndpointSource.SETTINGS:
            return ["name", "url", "event_types", "source", "disabled_reason"]
        return ["source", "disabled_reason"] if obj is not None else []

    def get_form(self, request: HttpRequest, obj: Any = None, change: bool = False, **kwargs: Any) -> Any:
        if obj is not None and obj.source == EndpointSource.SETTINGS:
            kwargs["form"] = forms.ModelForm
            kwargs["fields"] = ["enabled"]
        return super().get_form(request, obj, change, **kwargs)

    def save_model(self, request: HttpRequest, obj: Endpoint, form: Any, change: bool) -> None:
        if not change:
            obj.secret = generate_secret()
            obj.source = EndpointSource.ADMIN
            request._kyc_new_secret = obj.secret  # type: ignore[attr-defined]
        if obj.enabled:
            obj.disabled_reason = ""
        super().save_model(request, obj, form, change)

    def response_add(self, request: HttpRequest, obj: Endpoint, post_url_continue: str | None = None) -> HttpResponse:
        """The secret's only appearance: this page, not a message (messages may live in a cookie)."""
        return self.secret_page(request, obj, getattr(request, "_kyc_new_secret", obj.secret))

    def secret_page(self, request: HttpRequest, endpoint: Endpoint, secret: str) -> HttpResponse:
        context = {
            **self.admin_site.each_context(request),
            "opts": self.model._meta,
            "title": _("Signing secret of %(name)s") % {"name": endpoint.name},
            "endpoint": endpoint,
            "secret": secret,
            "change_url": reverse("admin:django_kyc_endpoint_change", args=[endpoint.pk]),
        }
        response = TemplateResponse(request, "django_kyc/admin/endpoint_secret.html", context)
        response["Cache-Control"] = "no-store"
        return response

    @admin.action(
        description=gettext_lazy("Rotate the signing secret (the old one signs too for a while)"),
        permissions=["change"],
    )
    def rotate_secret(self, request: HttpRequest, queryset: QuerySet[Endpoint]) -> HttpResponse | None:
        endpoints = list(queryset)
        if len(endpoints) != 1 or endpoints[0].source != EndpointSource.ADMIN:
            self.message_user(request, _("Choose one endpoint added in the admin."), messages.ERROR)
            return None
        return self.secret_page(request, endpoints[0], outbound.rotate_secret(endpoints[0].pk))

    @admin.action(description=gettext_lazy("Replay events since a date"), permissions=["resend"])
    def replay_since(self, request: HttpRequest, queryset: QuerySet[Endpoint]) -> HttpResponse | None:
        endpoints = list(queryset)
        if len(endpoints) != 1:
            self.message_user(request, _("Choose one endpoint to replay events to."), messages.ERROR)
            return None
        endpoint = endpoints[0]
        form = ReplayForm(
            request.POST if "since" in request.POST else None,
            initial={"since": timezone.now() - timedelta(days=1)},
        )
        if form.is_valid():
            since: datetime = form.cleaned_data["since"]
            replay = outbound.replay_since(endpoint.pk, since)
            self.message_user(
                request,
                _("Replayed for %(name)s: deliveries resent %(resent)s, created %(created)s.")
                % {"resent": replay.resent, "created": replay.created, "name": endpoint.name},
                messages.SUCCESS,
            )
            return None
        context = {
            **self.admin_site.each_context(request),
            "opts": self.model._meta,
            "title": _("Replay events to %(name)s") % {"name": endpoint.name},
            "endpoint": endpoint,
            "form": form,
            "action": "replay_since",
            "selected": [str(endpoint.pk)],
        }
        return TemplateResponse(request, "django_kyc/admin/replay_since.html", context)

    def has_resend_permission(self, request: HttpRequest) -> bool:
        return request.user.has_perm(RESEND_PERMISSION)


class AttemptInline(ReadOnlyInline):
    model = DeliveryAttempt
    fields = ["number", "started_at", "duration_ms", "status_code", "succeeded", "error", "response_body"]
    readonly_fields = ["number", "started_at", "duration_ms", "status_code", "succeeded", "error", "response_body"]
    show_change_link = False
    ordering = ["-started_at"]

    def has_view_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return request.user.has_perm("django_kyc.view_delivery")


class DeliveryInline(ReadOnlyInline):
    model = Delivery
    fields = ["endpoint", "state", "attempts", "last_status_code", "last_error", "next_attempt_at", "delivered_at"]
    readonly_fields = [
        "endpoint",
        "state",
        "attempts",
        "last_status_code",
        "last_error",
        "next_attempt_at",
        "delivered_at",
    ]


@admin.register(OutboundEvent)
class OutboundEventAdmin(ReadOnlyAdmin):
    list_display = ["occurred_at", "event_type", "subject_type", "subject_id", "version"]
    list_filter = ["event_type", "subject_type", "occurred_at"]
    search_fields = ["=subject_id", "=id"]
    date_hierarchy = "occurred_at"
    show_full_result_count = False
    inlines = [DeliveryInline]


@admin.register(Delivery)
class DeliveryAdmin(ReadOnlyAdmin):
    """Every delivery and its attempts. ``failed`` is the error state a person must look at: filter on it."""

    list_display = [
        "created_at",
        "event_type",
        "endpoint",
        "state",
        "attempts",
        "last_status_code",
        "last_error",
        "next_attempt_at",
    ]
    list_filter = ["state", "endpoint", "event__event_type"]
    list_select_related = ["event", "endpoint"]
    search_fields = ["=event__id", "=event__subject_id"]
    show_full_result_count = False
    inlines = [AttemptInline]
    actions = ["resend"]

    @admin.display(description=gettext_lazy("event type"), ordering="event__event_type")
    def event_type(self, obj: Delivery) -> str:
        return obj.event.event_type

    @admin.action(description=gettext_lazy("Resend selected deliveries"), permissions=["resend"])
    def resend(self, request: HttpRequest, queryset: QuerySet[Delivery]) -> None:
        count = outbound.resend(queryset.values_list("pk", flat=True))
        message = ngettext("%(count)d delivery queued again.", "%(count)d deliveries queued again.", count)
        self.message_user(request, message % {"count": count}, messages.SUCCESS)

    def has_resend_permission(self, request: HttpRequest) -> bool:
        return request.user.has_perm(RESEND_PERMISSION)
