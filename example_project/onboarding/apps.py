from __future__ import annotations

from django.apps import AppConfig


class OnboardingConfig(AppConfig):
    name = "example_project.onboarding"
    label = "onboarding"
    verbose_name = "Demo onboarding"
