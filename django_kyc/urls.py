"""Include with ``path("kyc/", include("django_kyc.urls"))``."""

from __future__ import annotations

from django.urls import include, path

from django_kyc.api.schema import KycSchemaView, docs, docs_asset
from django_kyc.sandbox_views import SandboxCaptureView
from django_kyc.webhooks import WebhookView

app_name = "django_kyc"

urlpatterns = [
    path("webhooks/<slug:alias>/", WebhookView.as_view(), name="webhook"),
    path("sandbox/capture/<str:token>/", SandboxCaptureView.as_view(), name="sandbox-capture"),
    path("api/schema/", KycSchemaView.as_view(), name="api-schema"),
    path("api/docs/", docs, name="api-docs"),
    path("api/docs/assets/<str:name>", docs_asset, name="api-docs-asset"),
    path("api/", include("django_kyc.api.urls")),
]
