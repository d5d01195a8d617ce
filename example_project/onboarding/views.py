"""Server-side views of the demo frontend.

The onboarding page renders only a shell; everything it does to KYC data goes through django_kyc's public
API from the browser, exactly as a separate frontend would. The view passes the API root and the
configured backends so the page does not hard-code either.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from django.contrib.auth.mixins import LoginRequiredMixin
from django.contrib.auth.views import LoginView
from django.urls import reverse
from django.views.generic import TemplateView

from django_kyc.backends.sandbox import rules
from django_kyc.conf import kyc_settings


def sandbox_rules() -> list[tuple[str, str]]:
    """The sandbox's last-name rules, read from the sandbox itself so the page cannot drift from it."""
    return [(rule.keyword, rule.outcome) for rule in rules.NAME_RULES] + [("anything else", rules.OTHERWISE)]


def backend_choices() -> list[dict[str, Any]]:
    """Configured backend aliases, labelled by whether they use a hosted flow (a link for the user)."""
    choices = []
    for alias in kyc_settings.backend_aliases:
        config = kyc_settings.backend_config(alias) or {}
        options = config.get("OPTIONS") or {}
        hosted = bool(isinstance(options, Mapping) and options.get("HOSTED_FLOW"))
        choices.append(
            {
                "alias": alias,
                "hosted": hosted,
                "label": "Hosted flow (the user finishes on the provider's page)"
                if hosted
                else "Direct (documents uploaded here are submitted by the server)",
                "default": alias == kyc_settings.DEFAULT_BACKEND,
            }
        )
    return choices


class DemoLoginView(LoginView):
    template_name = "onboarding/login.html"
    redirect_authenticated_user = True


class OnboardingView(LoginRequiredMixin, TemplateView):
    template_name = "onboarding/index.html"

    def get_context_data(self, **kwargs: Any) -> dict[str, Any]:
        context = super().get_context_data(**kwargs)
        api_root = reverse("django_kyc:applicant-list").removesuffix("applicants/")
        context.update(
            api_root=api_root,
            api_docs_url=reverse("django_kyc:api-docs"),
            backends=backend_choices(),
            rules=sandbox_rules(),
            admin_url=reverse("admin:index"),
        )
        return context
