from __future__ import annotations

from django.contrib.auth import views as auth_views
from django.urls import path
from django.views.i18n import JavaScriptCatalog

from example_project.onboarding import views

app_name = "onboarding"

urlpatterns = [
    path("", views.OnboardingView.as_view(), name="index"),
    path("login/", views.DemoLoginView.as_view(), name="login"),
    path("logout/", auth_views.LogoutView.as_view(), name="logout"),
    # onboarding.js's strings (this app's djangojs catalog) in the visitor's language
    path("jsi18n/", JavaScriptCatalog.as_view(packages=["example_project.onboarding"]), name="jsi18n"),
]
