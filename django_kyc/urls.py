"""Include with ``path("kyc/", include("django_kyc.urls"))``."""

from __future__ import annotations

from django.http import HttpRequest, JsonResponse
from django.urls import include, path, re_path
from django.utils.translation import gettext as _
from django.views.decorators.csrf import csrf_exempt

from django_kyc.api.events import event_catalogue, event_schema
from django_kyc.api.schema import KycSchemaView, docs, docs_asset
from django_kyc.sandbox_views import SandboxCaptureView
from django_kyc.webhooks import webhook_view

app_name = "django_kyc"


@csrf_exempt  # answers 404 to every method; nothing to protect
def api_not_found(request: HttpRequest) -> JsonResponse:
    """Any other URL under ``api/`` (e.g. ``applicants/not-a-uuid/``): the API's JSON 404, not the host's page."""
    return JsonResponse({"detail": _("Not found.")}, status=404)


urlpatterns = [
    path("webhooks/<slug:alias>/", webhook_view, name="webhook"),
    path("sandbox/capture/<str:token>/", SandboxCaptureView.as_view(), name="sandbox-capture"),
    path("api/schema/", KycSchemaView.as_view(), name="api-schema"),
    path("api/events/", event_catalogue, name="api-events"),
    path("api/events/<str:name>.v<int:version>.json", event_schema, name="api-event-schema"),
    path("api/docs/", docs, name="api-docs"),
    path("api/docs/assets/<str:name>", docs_asset, name="api-docs-asset"),
    path("api/", include("django_kyc.api.urls")),
    re_path(r"^api/", api_not_found),
]
