"""URLs of the demo site: the onboarding page at ``/``, the admin, django_kyc under ``kyc/`` and Django's
``set_language`` view under ``i18n/``."""

from __future__ import annotations

from django.contrib import admin
from django.urls import include, path

admin.site.site_header = "django-kyc demo"
admin.site.site_title = "django-kyc demo"
admin.site.index_title = "Compliance back office"

urlpatterns = [
    path("", include("example_project.onboarding.urls")),
    path("admin/", admin.site.urls),
    path("kyc/", include("django_kyc.urls")),
    # set_language: POST a "language" field to switch the visitor's language (a cookie)
    path("i18n/", include("django.conf.urls.i18n")),
]
