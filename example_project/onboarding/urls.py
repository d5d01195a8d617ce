from __future__ import annotations

from django.contrib.auth import views as auth_views
from django.urls import path

from example_project.onboarding import views

app_name = "onboarding"

urlpatterns = [
    path("", views.OnboardingView.as_view(), name="index"),
    path("login/", views.DemoLoginView.as_view(), name="login"),
    path("logout/", auth_views.LogoutView.as_view(), name="logout"),
]
