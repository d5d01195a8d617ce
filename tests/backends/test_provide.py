"""Provide (gateway to Vouched / IdentityMind) against its fake server, plus what only Provide has."""

from __future__ import annotations

import base64
import time
from typing import Any

import pytest
from django.test import override_settings

from django_kyc.backends import get_backend
from django_kyc.backends.base import InboundWebhook
from django_kyc.backends.provide import ProvideBackend
from django_kyc.exceptions import WebhookAuthenticationError
from django_kyc.models import AuditEvent, Verification
from django_kyc.services import review
from django_kyc.status import VerificationStatus
from django_kyc.testing import FakeProviderServer
from django_kyc.testing.provide import FakeProvide
from tests.backends.contract import ALIAS, BackendContract
from tests.conftest import make_png

V = VerificationStatus


class TestProvideContract(BackendContract):
    backend_class = "django_kyc.backends.provide.ProvideBackend"
    server_class = FakeProvide
    STATUS_TABLE = [
        ("pending", V.PROCESSING),
        ("submitted", V.PROCESSING),
        ("review", V.REVIEW),
        ("remediate", V.RESUBMISSION_REQUESTED),
        ("accepted", V.APPROVED),
        ("rejected", V.DECLINED),
        ("failed", V.ERROR),
    ]
    UNKNOWN_OUTCOME = "escalated"
    PROGRESS_OUTCOME = "submitted"
    APPROVED_OUTCOME = "accepted"
    SIGNATURE_HEADER = "X-Request-Signature"
    TIMESTAMPED = True

    def server_kwargs(self) -> dict[str, Any]:
        return {"token": "jwt-for-tests", "webhook_secret": "whsec_current"}

    def backend_options(self, server: FakeProviderServer) -> dict[str, Any]:
        assert isinstance(server, FakeProvide)
        return {
            "TOKEN": "jwt-for-tests",
            "BASE_URL": server.api_base,
            "WEBHOOK_URL": f"http://testserver/kyc/webhooks/{ALIAS}/",
            "WEBHOOK_SECRET": "whsec_current",
        }

    def wrong_credentials(self, options: dict[str, Any]) -> dict[str, Any]:
        return {**options, "TOKEN": "expired-jwt"}

    def rotated(self, options: dict[str, Any], server: FakeProviderServer) -> dict[str, Any]:
        return {**options, "WEBHOOK_SECRET": ["whsec_next", "whsec_current"]}

    def stale_delivery(self, server: FakeProviderServer, ref: str) -> tuple[bytes, dict[str, str]]:
        return server.webhook_for(ref, timestamp=int(time.time()) - 301)

    # --- Provide only ----------------------------------------------------------------------------------
    @pytest.mark.django_db
    def test_application_carries_normalised_params_and_photos(
        self, server: FakeProvide, submitted: Verification
    ) -> None:
        application = server.applications[submitted.provider_verification_id]
        params = application["params"]
        assert (application["provider"], application["type"]) == ("vouched", "kyc")
        assert (params["first_name"], params["last_name"], params["date_of_birth"]) == ("Jane", "Smith", "1990-02-03")
        assert params["webhook_url"] == f"http://testserver/kyc/webhooks/{ALIAS}/"
        assert base64.b64decode(params["id_photo"]) == make_png()  # the passport image, decrypted, in base64
        assert params["selfie"] == ""

    @pytest.mark.django_db
    def test_decision_is_fetched_not_taken_from_the_webhook(
        self, server: FakeProvide, submitted: Verification, django_capture_on_commit_callbacks: Any
    ) -> None:
        """The webhook says 'accepted' but the application says 'rejected': the application wins."""
        ref = submitted.provider_verification_id
        server.decide(ref, "rejected")
        body, headers = server.webhook_for(ref, outcome="accepted")
        assert self.post(django_capture_on_commit_callbacks, body, headers).status_code == 200
        submitted.refresh_from_db()
        assert submitted.status == V.DECLINED
        assert submitted.provider_data["provider_representation"]["status"] == "completed"

    @pytest.mark.django_db
    def test_reviewer_decision_is_pushed_when_configured(
        self,
        server: FakeProvide,
        options: dict[str, Any],
        applicant: Any,
        reviewer: Any,
        django_capture_on_commit_callbacks: Any,
    ) -> None:
        from django_kyc.services import submission

        with self.configured({**options, "PUSH_DECISIONS": True}):
            verification = self.start(applicant)
            submission.submit_verification(verification.pk)
            verification.refresh_from_db()
            ref = verification.provider_verification_id
            server.decide(ref, "review")
            assert self.post(django_capture_on_commit_callbacks, *server.webhook_for(ref)).status_code == 200
            with django_capture_on_commit_callbacks(execute=True):
                review.decide(verification.pk, "approve", user=reviewer, reason_code="VERIFIED_MANUALLY")
        assert server.applications[ref]["status"] == "accepted"
        assert AuditEvent.objects.filter(object_id=str(verification.pk), action="decision_pushed").count() == 1

    @pytest.mark.django_db
    def test_failed_push_is_visible_and_the_local_decision_stands(
        self,
        server: FakeProvide,
        options: dict[str, Any],
        applicant: Any,
        reviewer: Any,
        django_capture_on_commit_callbacks: Any,
    ) -> None:
        from django_kyc.services import submission

        with self.configured({**options, "PUSH_DECISIONS": True}):
            verification = self.start(applicant)
            submission.submit_verification(verification.pk)
            ref = Verification.objects.get(pk=verification.pk).provider_verification_id
            server.decide(ref, "review")
            assert self.post(django_capture_on_commit_callbacks, *server.webhook_for(ref)).status_code == 200
            server.fail_next(1, status=422, message="invalid state transition")
            with django_capture_on_commit_callbacks(execute=True):
                review.decide(verification.pk, "decline", user=reviewer, reason_code="SUSPECTED_FRAUD")
        verification.refresh_from_db()
        assert verification.status == V.DECLINED
        assert "invalid state transition" in verification.last_error
        assert AuditEvent.objects.filter(object_id=str(verification.pk), action="push_failed").exists()

    @pytest.mark.django_db
    def test_list_applications_reads_the_total_header(self, server: FakeProvide, submitted: Verification) -> None:
        backend = get_backend(ALIAS)
        assert isinstance(backend, ProvideBackend)
        items, total = backend.list_applications(status="pending")
        assert total == len(items) == 1
        assert items[0]["id"] == submitted.provider_verification_id
        assert backend.list_applications(status="accepted") == ([], 0)


def test_self_computed_signature_vector_from_providers_md() -> None:
    """providers.md §4.4: secret whsec_test, t=1700000000, body → the documented header value."""
    backend = ProvideBackend("provide", {"TOKEN": "x", "WEBHOOK_SECRET": "whsec_test"})
    body = b'{"kyc_application_id":"205d1f45-4b45-4d85-a692-8db40d94ab89","status":"accepted"}'
    assert backend.sign(body, 1700000000) == (
        "t=1700000000,s=69fa93b7ecd85f26e3f28d0e9f56dc920e7dc428c1c057ba0749365b8597b3bd"
    )


@pytest.mark.parametrize("tolerance", [5, 300])
def test_tolerance_is_configurable(tolerance: int) -> None:
    backend = ProvideBackend("provide", {"TOKEN": "x", "WEBHOOK_SECRET": "s", "TOLERANCE": tolerance})
    body = b'{"kyc_application_id":"a","status":"accepted"}'
    stamp = int(time.time()) - 60
    webhook = InboundWebhook(body=body, headers={"X-Request-Signature": backend.sign(body, stamp)})
    if tolerance < 60:
        with pytest.raises(WebhookAuthenticationError):
            backend.authenticate_webhook(webhook)
    else:
        backend.authenticate_webhook(webhook)


@override_settings()
def test_token_is_required() -> None:
    from django_kyc.exceptions import KycConfigurationError

    with pytest.raises(KycConfigurationError, match=r'\["OPTIONS"\]\["TOKEN"\]'):
        ProvideBackend("provide", {})
