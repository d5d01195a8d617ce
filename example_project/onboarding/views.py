"""Server-side views of the demo frontend.

The onboarding page renders only a shell; everything it does to KYC data goes through django_kyc's public
API from the browser, exactly as a separate frontend would. The view passes the API root and the
configured backends so the page does not hard-code either.

The page speaks the visitor's language: its own text comes from this app's catalogs (``locale/``, the
``djangojs`` one served by :class:`~django.views.i18n.JavaScriptCatalog` for ``onboarding.js``), and the names
of statuses and document types from django_kyc's, rendered into the page (``labels``) so they are translated
once, where the admin's are.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from django.contrib.auth.mixins import LoginRequiredMixin
from django.contrib.auth.views import LoginView
from django.urls import reverse
from django.utils.translation import gettext, gettext_lazy
from django.views.generic import TemplateView

from django_kyc.backends.sandbox import rules
from django_kyc.conf import kyc_settings
from django_kyc.models.document import DocumentType
from django_kyc.status import ApplicantStatus, DocumentStatus, VerificationStatus

#: The identity documents the page offers (a verification needs one of these), in this order.
IDENTITY_DOCUMENTS = (
    DocumentType.PASSPORT,
    DocumentType.ID_CARD,
    DocumentType.DRIVING_LICENCE,
    DocumentType.RESIDENCE_PERMIT,
)
#: How the page names a status where django_kyc's label speaks of someone else ("Awaiting user").
OWN_LABELS = {VerificationStatus.AWAITING_USER: gettext_lazy("Awaiting you")}


def sandbox_rules() -> list[tuple[str, str]]:
    """The sandbox's last-name rules, read from the sandbox itself so the page cannot drift from it."""
    return [(rule.keyword, str(rule.outcome)) for rule in rules.NAME_RULES] + [
        (gettext("anything else"), str(rules.OTHERWISE))
    ]


def labels() -> dict[str, dict[str, str]]:
    """The names the page's script shows for the codes the API returns, in the active language."""
    statuses: dict[str, str] = {}
    for choices in (DocumentStatus, ApplicantStatus, VerificationStatus):
        statuses.update({value: str(label) for value, label in choices.choices})
    statuses.update({value: str(label) for value, label in OWN_LABELS.items()})
    return {"status": statuses, "document_type": {value: str(label) for value, label in DocumentType.choices}}


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
                "label": gettext("Hosted flow (the user finishes on the provider's page)")
                if hosted
                else gettext("Direct (documents uploaded here are submitted by the server)"),
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
            document_types=[(value, DocumentType(value).label) for value in IDENTITY_DOCUMENTS],
            labels=labels(),
        )
        return context
