"""Only this app's API, at the path the test project mounts it, for ``manage.py spectacular --urlconf``."""

from __future__ import annotations

from django.urls import include, path

urlpatterns = [path("kyc/api/", include("django_kyc.api.urls"))]
