"""The OpenAPI schema of this app's API only, and a docs page whose assets are served locally.

The schema is generated from the app's own URL patterns mounted at wherever the host included them, so
host views that are not drf-spectacular-compatible never break it. Swagger UI's files come from the
``drf-spectacular-sidecar`` package through :func:`docs_asset`; no CDN is contacted.
"""

from __future__ import annotations

import mimetypes
from pathlib import Path
from typing import Any

from django.http import FileResponse, Http404, HttpRequest, HttpResponse
from django.shortcuts import render
from django.urls import include, path, reverse
from drf_spectacular.views import SpectacularAPIView
from rest_framework.request import Request
from rest_framework.response import Response

from django_kyc import __version__
from django_kyc.api import urls as api_urls
from django_kyc.api.policies import authentication_classes

SCHEMA_SETTINGS = {
    "TITLE": "django-kyc API",
    "DESCRIPTION": "Identity verification for the signed-in user: applicant, documents, verifications.",
    "VERSION": __version__,
    "COMPONENT_SPLIT_REQUEST": True,
}
# drf-spectacular refuses ``SERVE_*`` keys in ``custom_settings`` (a 500 on every request). None is needed:
# the schema view is not among the generated patterns, so it never describes itself.


class KycSchemaView(SpectacularAPIView):
    custom_settings = SCHEMA_SETTINGS

    def get_authenticators(self) -> list[Any]:
        return [cls() for cls in authentication_classes()]

    def get(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        prefix = reverse("django_kyc:api-schema").removesuffix("schema/").lstrip("/")
        self.patterns = [path(prefix, include(api_urls.urlpatterns))]
        return super().get(request, *args, **kwargs)


def docs(request: HttpRequest) -> HttpResponse:
    return render(request, "django_kyc/api/docs.html", {"schema_url": reverse("django_kyc:api-schema")})


def _sidecar_root() -> Path:
    import drf_spectacular_sidecar

    return Path(drf_spectacular_sidecar.__file__).parent / "static" / "drf_spectacular_sidecar" / "swagger-ui-dist"


ASSETS = {"swagger-ui.css", "swagger-ui-bundle.js", "swagger-ui-standalone-preset.js", "favicon-32x32.png"}


def docs_asset(request: HttpRequest, name: str) -> FileResponse:
    if name not in ASSETS:
        raise Http404(name)
    file_path = _sidecar_root() / name
    content_type = mimetypes.guess_type(name)[0] or "application/octet-stream"
    response = FileResponse(file_path.open("rb"), content_type=content_type)
    response["Cache-Control"] = "public, max-age=86400"
    return response
