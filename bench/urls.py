from __future__ import annotations

from django.urls import include, path

from bench.bareapp.views import bare_webhook

urlpatterns = [
    path("bare/", bare_webhook),
    path("kyc/", include("django_kyc.urls")),
    path("onfido/", include("onfido.urls")),
]
