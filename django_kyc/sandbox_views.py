"""The sandbox's stand-in for a provider's hosted capture page (hosted-flow mode only)."""

from __future__ import annotations

from django.conf import settings
from django.core import signing
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import render
from django.utils.decorators import method_decorator
from django.utils.translation import gettext_lazy as _
from django.views import View
from django.views.decorators.csrf import csrf_exempt

from django_kyc.backends.registry import get_backend, is_configured
from django_kyc.backends.sandbox import SandboxBackend, load_capture_token
from django_kyc.models import Verification
from django_kyc.status import VerificationStatus

CHOICES = [
    ("", _("Use the last-name rule")),
    ("approved", _("Approve")),
    ("declined", _("Decline")),
    ("needs_review", _("Send to manual review")),
    ("resubmission_requested", _("Ask for resubmission")),
]


@method_decorator(csrf_exempt, name="dispatch")  # the signed token is the credential, as on a provider's page
class SandboxCaptureView(View):
    http_method_names = ["get", "post"]

    def _load(self, token: str) -> tuple[SandboxBackend, Verification]:
        try:
            data = load_capture_token(token, max_age=None)
            if not is_configured(data["a"]):
                raise Http404("Unknown backend.")
            backend = get_backend(data["a"])
            if not isinstance(backend, SandboxBackend):
                raise Http404("Not a sandbox backend.")
            if not (settings.DEBUG or backend.option("CAPTURE_PAGE")):
                # the page lets whoever holds the link choose the outcome: development only, or an explicit
                # opt-in for a test environment
                raise Http404("The sandbox capture page is off.")
            # the link lives exactly as long as the expiry the API reported for it
            load_capture_token(token, max_age=backend.client_token_ttl)
        except signing.BadSignature as exc:
            raise Http404("Link invalid or expired.") from exc
        verification = Verification.objects.select_related("applicant").filter(pk=data["v"]).first()
        if verification is None:
            raise Http404("Unknown verification.")
        return backend, verification

    def get(self, request: HttpRequest, token: str) -> HttpResponse:
        verification = self._load(token)[1]
        return render(
            request,
            "django_kyc/sandbox/capture.html",
            {"verification": verification, "choices": CHOICES, "submitted": False},
        )

    def post(self, request: HttpRequest, token: str) -> HttpResponse:
        backend, verification = self._load(token)
        submitted = verification.status == VerificationStatus.AWAITING_USER
        if submitted:
            chosen = request.POST.get("outcome", "")
            backend.schedule_decision(verification, chosen if chosen in dict(CHOICES) else "")
        return render(
            request,
            "django_kyc/sandbox/capture.html",
            {"verification": verification, "choices": CHOICES, "submitted": True, "accepted": submitted},
        )
