"""Stripe Identity against its fake server: the shared contract with both webhook modes, plus what only Stripe
has (the signature's worked example, idempotency keys and the lookup, Stripe-Should-Retry, client secrets,
redaction, reconciliation)."""

from __future__ import annotations

import datetime
import time
from typing import Any

import pytest
from django.conf import settings
from django.test import override_settings
from django.utils import timezone

from django_kyc.backends import get_backend
from django_kyc.backends.base import InboundWebhook, RateLimit
from django_kyc.backends.stripe_identity import DEFAULT_API_VERSION, StripeIdentityBackend, sign
from django_kyc.exceptions import (
    KycConfigurationError,
    PermanentProviderError,
    TransientProviderError,
    WebhookAuthenticationError,
    WebhookSignatureMissing,
    WebhookSignatureStale,
)
from django_kyc.models import Applicant, AuditEvent, Document, Verification, WebhookEvent, WebhookState
from django_kyc.services import polling, submission
from django_kyc.services import reconcile as reconcile_service
from django_kyc.services import webhooks as webhooks_service
from django_kyc.status import DocumentStatus, VerificationStatus
from django_kyc.testing import FakeProviderServer
from django_kyc.testing.stripe_identity import UNKNOWN_STATUS, FakeStripeIdentity
from tests.backends.contract import ALIAS, BackendContract
from tests.backends.idempotency_contract import IdempotencyKeyContract

V = VerificationStatus
SECRET_KEY = "sk_test_51DjangoKycStripeIdentity"
WEBHOOK_SECRET = "whsec_django_kyc_current"
NEW_WEBHOOK_SECRET = "whsec_django_kyc_rolled"
BACKEND = "django_kyc.backends.stripe_identity.StripeIdentityBackend"
SESSIONS = "/v1/identity/verification_sessions"

# The worked example (HMAC-SHA256 as Stripe computes it; checked with
# printf '%s' "1700000000.$BODY" | openssl dgst -sha256 -hmac whsec_test_secret)
EXAMPLE_SECRET = "whsec_test_secret"
EXAMPLE_TIMESTAMP = 1700000000
EXAMPLE_BODY = b'{"id":"evt_test_webhook","object":"event","type":"identity.verification_session.verified"}'
EXAMPLE_SIGNATURE = "e468dda22ff3dbb5783520867491469b698a02b6ee4d7f30c3389b68e8b89361"


def stripe() -> StripeIdentityBackend:
    instance = get_backend(ALIAS)
    assert isinstance(instance, StripeIdentityBackend)
    return instance


def options_for(base_url: str, **extra: Any) -> dict[str, Any]:
    return {"SECRET_KEY": SECRET_KEY, "WEBHOOK_SECRETS": WEBHOOK_SECRET, "BASE_URL": base_url, **extra}


class StripeHooks(IdempotencyKeyContract, BackendContract):
    IDEMPOTENCY_STATE = "stripe_identity_idempotency"
    IDEMPOTENCY_KEY_PREFIX = "django-kyc-vs-"
    backend_class = BACKEND
    server_class = FakeStripeIdentity
    STATUS_TABLE = [
        ("requires_input", V.AWAITING_USER),
        ("processing", V.PROCESSING),
        ("verified", V.APPROVED),
        ("canceled", V.CANCELLED),
        ("requires_input:abandoned", V.EXPIRED),
        ("requires_input:consent_declined", V.DECLINED),
        ("requires_input:under_supported_age", V.DECLINED),
        ("requires_input:country_not_supported", V.DECLINED),
        ("requires_input:document_expired", V.RESUBMISSION_REQUESTED),
        ("requires_input:selfie_face_mismatch", V.RESUBMISSION_REQUESTED),
        ("requires_input:document_unverified_other", V.RESUBMISSION_REQUESTED),
    ]
    UNKNOWN_OUTCOME = UNKNOWN_STATUS
    PROGRESS_OUTCOME = "processing"
    APPROVED_OUTCOME = "verified"
    #: a hosted flow: the session exists and holds a client secret and link; the person has not started
    SUBMITTED_STATUS = V.AWAITING_USER
    SIGNATURE_HEADER = "Stripe-Signature"
    TIMESTAMPED = True
    PERMANENT_STATUS = 400
    CREATE_CALL = ("POST", SESSIONS)
    FINDS_LOST_CREATES = True  # the Idempotency-Key replays the first answer; after it, client_reference_id
    WEBHOOK_STATE = "fetch"

    def server_kwargs(self) -> dict[str, Any]:
        return {"secret_key": SECRET_KEY, "webhook_secrets": WEBHOOK_SECRET}

    def backend_options(self, server: FakeProviderServer) -> dict[str, Any]:
        return options_for(server.base_url, WEBHOOK_STATE=self.WEBHOOK_STATE)

    def wrong_credentials(self, options: dict[str, Any]) -> dict[str, Any]:
        return {**options, "SECRET_KEY": "sk_test_revoked"}

    def rotated(self, options: dict[str, Any], server: FakeProviderServer) -> dict[str, Any]:
        return {**options, "WEBHOOK_SECRETS": [NEW_WEBHOOK_SECRET, WEBHOOK_SECRET]}

    def stale_delivery(self, server: FakeProviderServer, ref: str) -> tuple[bytes, dict[str, str]]:
        assert isinstance(server, FakeStripeIdentity)
        return server.webhook_for(ref, timestamp=int(time.time()) - 301)


class TestStripeIdentityContract(StripeHooks):
    """Every event makes the backend retrieve the session (the default)."""

    # --- the signature ---------------------------------------------------------------------------------
    def test_worked_example(self, time_machine: Any) -> None:
        assert sign(EXAMPLE_BODY, EXAMPLE_SECRET, EXAMPLE_TIMESTAMP) == f"t={EXAMPLE_TIMESTAMP},v1={EXAMPLE_SIGNATURE}"
        backend = StripeIdentityBackend("s", {"SECRET_KEY": SECRET_KEY, "WEBHOOK_SECRETS": [EXAMPLE_SECRET]})
        header = f"t={EXAMPLE_TIMESTAMP},v1={'0' * 64},v0=ignored,v1={EXAMPLE_SIGNATURE}"
        webhook = InboundWebhook(body=EXAMPLE_BODY, headers={"Stripe-Signature": header})
        time_machine.move_to(datetime.datetime.fromtimestamp(EXAMPLE_TIMESTAMP + 299, tz=datetime.UTC), tick=False)
        backend.authenticate_webhook(webhook)  # any matching v1 will do; v0 is ignored
        assert backend.parse_webhook(webhook) == []  # no session in it: acknowledged, nothing to apply
        time_machine.move_to(datetime.datetime.fromtimestamp(EXAMPLE_TIMESTAMP + 301, tz=datetime.UTC), tick=False)
        with pytest.raises(WebhookSignatureStale):
            backend.authenticate_webhook(webhook)

    def test_signature_refusals(self, time_machine: Any) -> None:
        time_machine.move_to(datetime.datetime.fromtimestamp(EXAMPLE_TIMESTAMP, tz=datetime.UTC), tick=False)
        backend = StripeIdentityBackend("s", {"SECRET_KEY": SECRET_KEY, "WEBHOOK_SECRETS": EXAMPLE_SECRET})
        good = f"t={EXAMPLE_TIMESTAMP},v1={EXAMPLE_SIGNATURE}"
        for body, header, error in [
            (EXAMPLE_BODY, "", WebhookSignatureMissing),
            (EXAMPLE_BODY + b" ", good, WebhookAuthenticationError),  # tampered body
            (EXAMPLE_BODY, f"t={EXAMPLE_TIMESTAMP + 1},v1={EXAMPLE_SIGNATURE}", WebhookAuthenticationError),
            (EXAMPLE_BODY, f"t={EXAMPLE_TIMESTAMP},v0={EXAMPLE_SIGNATURE}", WebhookAuthenticationError),  # only v1
            (EXAMPLE_BODY, f"v1={EXAMPLE_SIGNATURE}", WebhookAuthenticationError),  # no timestamp
        ]:
            headers = {"Stripe-Signature": header} if header else {}
            with pytest.raises(error):
                backend.authenticate_webhook(InboundWebhook(body=body, headers=headers))
        unconfigured = StripeIdentityBackend("s", {"SECRET_KEY": SECRET_KEY})
        with pytest.raises(WebhookAuthenticationError):
            unconfigured.authenticate_webhook(InboundWebhook(body=EXAMPLE_BODY, headers={"Stripe-Signature": good}))

    def test_the_tolerance_is_an_option(self, time_machine: Any) -> None:
        time_machine.move_to(datetime.datetime.fromtimestamp(EXAMPLE_TIMESTAMP + 600, tz=datetime.UTC), tick=False)
        backend = StripeIdentityBackend(
            "s", {"SECRET_KEY": SECRET_KEY, "WEBHOOK_SECRETS": EXAMPLE_SECRET, "WEBHOOK_TOLERANCE": 900}
        )
        header = f"t={EXAMPLE_TIMESTAMP},v1={EXAMPLE_SIGNATURE}"
        backend.authenticate_webhook(InboundWebhook(body=EXAMPLE_BODY, headers={"Stripe-Signature": header}))

    # --- the create call -------------------------------------------------------------------------------
    @pytest.mark.django_db
    def test_session_carries_our_references_and_the_pinned_version(
        self, server: FakeStripeIdentity, submitted: Verification
    ) -> None:
        session = server.session(submitted.provider_verification_id)
        assert session["client_reference_id"] == str(submitted.pk)
        assert session["metadata"] == {
            "django_kyc_verification": str(submitted.pk),
            "django_kyc_applicant": submitted.applicant.reference,
        }
        assert session["type"] == "document"
        assert session["provided_details"] is None  # nothing personal unless asked for
        assert set(server.versions) == {DEFAULT_API_VERSION}
        # hosted link and SDK secret, valid for Stripe's documented 24 hours
        assert submitted.client_link.startswith(server.base_url + "/verify/")
        assert submitted.client_token.startswith(submitted.provider_verification_id + "_secret_")
        assert submitted.client_token_expires_at is not None
        remaining = submitted.client_token_expires_at - submitted.submitted_at
        assert datetime.timedelta(hours=23, minutes=59) < remaining <= datetime.timedelta(hours=24)
        assert "client_secret" not in str(submitted.provider_data)

    @pytest.mark.django_db
    def test_document_options_and_basic_auth(
        self, server: FakeStripeIdentity, options: dict[str, Any], applicant: Applicant
    ) -> None:
        configured = {
            **options,
            "AUTH_SCHEME": "basic",
            "API_VERSION": "2025-08-27.basil",
            "ALLOWED_DOCUMENT_TYPES": ["passport", "id_card"],
            "REQUIRE_MATCHING_SELFIE": True,
            "REQUIRE_LIVE_CAPTURE": False,
            "RETURN_URL": "https://example.com/kyc/done",
            "SEND_PROVIDED_DETAILS": True,
        }
        with self.configured(configured):
            verification = self.start(applicant)
            submission.submit_verification(verification.pk)
        verification.refresh_from_db()
        assert verification.status == V.AWAITING_USER, verification.last_error
        session = server.session(verification.provider_verification_id)
        assert session["options"] == {
            "document": {
                "allowed_types": ["passport", "id_card"],
                "require_matching_selfie": True,
                "require_live_capture": False,
            }
        }
        assert session["return_url"] == "https://example.com/kyc/done"
        assert session["provided_details"] == {"email": "jane@example.com"}
        assert server.versions[-1] == "2025-08-27.basil"

    @pytest.mark.django_db
    def test_a_verification_flow_replaces_type_and_options(
        self, server: FakeStripeIdentity, options: dict[str, Any], applicant: Applicant
    ) -> None:
        with self.configured({**options, "VERIFICATION_FLOW": "vf_1Demo"}):
            verification = self.start(applicant)
            submission.submit_verification(verification.pk)
        verification.refresh_from_db()
        session = server.session(verification.provider_verification_id)
        assert (session["type"], session["verification_flow"], session["options"]) == (
            "verification_flow",
            "vf_1Demo",
            {},
        )
        with pytest.raises(KycConfigurationError, match="VERIFICATION_FLOW"):
            StripeIdentityBackend("s", {**options, "VERIFICATION_FLOW": "vf_1", "REQUIRE_MATCHING_SELFIE": True})

    def test_configuration_errors_name_the_key(self) -> None:
        with pytest.raises(KycConfigurationError, match=r"\[\"SECRET_KEY\"\].*publishable"):
            StripeIdentityBackend("s", {"SECRET_KEY": "pk_test_123"})
        with pytest.raises(KycConfigurationError, match="ALLOWED_DOCUMENT_TYPES"):
            StripeIdentityBackend("s", {"SECRET_KEY": SECRET_KEY, "ALLOWED_DOCUMENT_TYPES": ["visa"]})
        with pytest.raises(KycConfigurationError, match="ERROR_CODE_STATUSES"):
            StripeIdentityBackend("s", {"SECRET_KEY": SECRET_KEY, "ERROR_CODE_STATUSES": {"abandoned": "gone"}})

    # --- idempotency -----------------------------------------------------------------------------------
    @pytest.mark.django_db
    def test_after_the_key_lifetime_the_session_is_looked_up_not_created_again(
        self, server: FakeStripeIdentity, backend: None, applicant: Applicant, time_machine: Any
    ) -> None:

        time_machine.move_to(timezone.now(), tick=False)
        server.fail_next(1, kind="lost", method="POST", path=SESSIONS)
        verification = self.start(applicant)
        submission.submit_verification(verification.pk)
        server.idempotency.clear()  # Stripe pruned the key
        time_machine.move_to(timezone.now() + datetime.timedelta(hours=25), tick=False)
        verification.refresh_from_db()
        submission.submit_verification(verification.pk)
        verification.refresh_from_db()
        assert verification.status == V.AWAITING_USER, verification.last_error
        assert server.applicant_count() == 1
        assert ("GET", SESSIONS) in server.calls
        assert "unanswered_creates" not in verification.provider_data
        assert not AuditEvent.objects.filter(object_id=str(verification.pk), action="possible_duplicate").exists()

    @pytest.mark.django_db
    def test_the_fake_replays_and_refuses_keys_as_stripe_does(
        self, server: FakeStripeIdentity, submitted: Verification
    ) -> None:
        client = stripe().client
        key = submitted.provider_data["stripe_identity_idempotency"]["key"]
        params = stripe().session_params(submitted)
        again = client.create_session(params, key)
        assert again["id"] == submitted.provider_verification_id
        with pytest.raises(TransientProviderError) as refused:
            client.create_session({**params, "type": "id_number"}, key)
        assert refused.value.status_code == 400
        assert "same parameters" in refused.value.message
        assert server.applicant_count() == 1

    # --- Stripe-Should-Retry ---------------------------------------------------------------------------
    @pytest.mark.django_db
    def test_should_retry_false_makes_a_5xx_permanent(
        self, server: FakeStripeIdentity, backend: None, applicant: Applicant
    ) -> None:
        server.should_retry[503] = "false"
        server.fail_next(1, status=503, message="Stripe says: do not retry")
        verification = self.start(applicant)
        submission.submit_verification(verification.pk)
        verification.refresh_from_db()
        assert verification.status == V.ERROR
        assert "do not retry" in verification.last_error

    @pytest.mark.django_db
    def test_should_retry_true_makes_a_4xx_transient(self, server: FakeStripeIdentity, backend: None) -> None:
        server.should_retry[409] = "true"
        server.fail_next(1, status=409, message="lock_timeout")
        with pytest.raises(TransientProviderError):
            stripe().client.get_session("vs_anything")

    # --- rate limits ---------------------------------------------------------------------------------
    def test_budgets_follow_the_keys_mode_unless_configured(self) -> None:
        test_mode = StripeIdentityBackend("s", {"SECRET_KEY": SECRET_KEY})
        assert test_mode.request_budgets() == (RateLimit(25, 1.0),)
        live = StripeIdentityBackend("s", {"SECRET_KEY": "rk_live_123"})
        assert live.request_budgets() == (RateLimit(25, 1.0, ("GET",)), RateLimit(25, 1.0, ("POST", "DELETE")))
        configured = StripeIdentityBackend("s", {"SECRET_KEY": SECRET_KEY, "RATE_LIMITS": [[100, 1, ["GET"]]]})
        assert configured.request_budgets() == (RateLimit(100, 1.0, ("GET",)),)
        assert StripeIdentityBackend("s", {"SECRET_KEY": SECRET_KEY, "RATE_LIMITS": []}).client.rate_limiter is None
        with pytest.raises(KycConfigurationError, match="RATE_LIMITS"):
            StripeIdentityBackend("s", {"SECRET_KEY": SECRET_KEY, "RATE_LIMITS": [[0, 1]]})

    @pytest.mark.django_db
    def test_a_request_over_budget_is_retried_later_not_sent(
        self, server: FakeStripeIdentity, options: dict[str, Any], submitted: Verification
    ) -> None:
        with self.configured({**options, "RATE_LIMITS": [[2, 3600, ["GET"]]]}):
            kyc = {**settings.DJANGO_KYC, "PROVIDER_RATE_LIMIT_MAX_WAIT": 0}
            with override_settings(DJANGO_KYC=kyc):
                backend = stripe()
                backend.fetch_verification(submitted)
                backend.fetch_verification(submitted)
                sent = len(server.calls)
                with pytest.raises(TransientProviderError, match="rate limit") as over:
                    backend.fetch_verification(submitted)
        assert over.value.retry_after is not None
        assert over.value.retry_after > 0
        assert len(server.calls) == sent

    # --- client tokens and polling ---------------------------------------------------------------------
    @pytest.mark.django_db
    def test_reissued_token_is_fresh_while_input_is_required_and_empty_after(
        self, server: FakeStripeIdentity, submitted: Verification
    ) -> None:
        first = submitted.client_token
        token = stripe().issue_client_token(submitted)
        assert token.token
        assert token.token != first
        assert token.link.startswith(server.base_url + "/verify/")
        assert token.expires_at is not None
        server.decide(submitted.provider_verification_id, "requires_input:document_expired")
        retry = stripe().issue_client_token(submitted)
        assert retry.token
        assert retry.token != token.token
        server.decide(submitted.provider_verification_id, "processing")
        assert stripe().issue_client_token(submitted).token == ""

    @pytest.mark.django_db
    def test_hosted_link_only_keeps_no_secret(
        self, server: FakeStripeIdentity, options: dict[str, Any], applicant: Applicant
    ) -> None:
        with self.configured({**options, "CLIENT_SECRET": False}):
            verification = self.start(applicant)
            submission.submit_verification(verification.pk)
            verification.refresh_from_db()
            assert (verification.client_token, verification.status) == ("", V.AWAITING_USER)
            assert verification.client_link.startswith(server.base_url + "/verify/")
            assert stripe().issue_client_token(verification).token == ""

    @pytest.mark.django_db
    def test_polling_reads_the_session(self, server: FakeStripeIdentity, submitted: Verification) -> None:
        server.decide(submitted.provider_verification_id, "requires_input:selfie_face_mismatch")
        polling.poll_verification(submitted.pk)
        submitted.refresh_from_db()
        assert submitted.status == V.RESUBMISSION_REQUESTED
        assert submitted.provider_status == "requires_input:selfie_face_mismatch"
        assert submitted.reasons == ["selfie_face_mismatch"]
        kept = submitted.provider_data["stripe_identity"]
        assert kept["reason_codes"] == ["SELFIE_MISMATCH"]
        assert kept["last_error"]["reason"]
        assert kept["last_verification_report"].startswith("vr_")

    @pytest.mark.django_db
    def test_the_report_gives_reviewers_each_check_and_the_document_read(
        self, server: FakeStripeIdentity, submitted: Verification
    ) -> None:
        ref = submitted.provider_verification_id
        server.decide(ref, "requires_input:document_expired")
        polling.poll_verification(submitted.pk)
        read_by_stripe = Document.objects.filter(
            applicant=submitted.applicant, provider_document_id__startswith="stripe-"
        )
        (rejected,) = read_by_stripe.all()
        assert (rejected.status, rejected.reasons, rejected.type) == (
            DocumentStatus.REJECTED,
            ["document_expired"],
            "passport",
        )
        server.decide(ref, "verified")
        polling.poll_verification(submitted.pk)
        submitted.refresh_from_db()
        assert submitted.status == V.APPROVED
        accepted = read_by_stripe.exclude(pk=rejected.pk).get()
        assert (accepted.status, accepted.issuing_country, accepted.expiry_date, accepted.issue_date) == (
            DocumentStatus.ACCEPTED,
            "US",
            datetime.date(2031, 12, 31),
            datetime.date(2022, 1, 1),
        )
        assert accepted.provider_document_id == f"stripe-{server.session(ref)['last_verification_report']}"
        kept = submitted.provider_data["stripe_identity"]
        assert kept["checks"] == {"document": {"status": "verified", "error": ""}}
        assert "Jenny" not in str(submitted.provider_data)  # names stay at Stripe
        polling.poll_verification(submitted.pk)  # read again: the same document, not another one
        assert read_by_stripe.count() == 2

    @pytest.mark.django_db
    def test_reports_are_not_read_when_turned_off_or_redacted(
        self, server: FakeStripeIdentity, options: dict[str, Any], applicant: Applicant
    ) -> None:
        with self.configured({**options, "READ_REPORTS": False}):
            verification = self.start(applicant)
            submission.submit_verification(verification.pk)
            verification.refresh_from_db()
            server.decide(verification.provider_verification_id, "verified")
            polling.poll_verification(verification.pk)
        assert not any(path.startswith("/v1/identity/verification_reports") for _, path in server.calls)
        assert not Document.objects.filter(provider_document_id__startswith="stripe-").exists()
        with self.configured(options):
            stripe().delete_applicant(applicant)
            verification.refresh_from_db()
            state = stripe().fetch_verification(verification)
        assert state.documents == ()
        assert not any(path.startswith("/v1/identity/verification_reports") for _, path in server.calls)

    @pytest.mark.django_db
    def test_the_hosted_page_moves_the_session_to_processing(
        self, server: FakeStripeIdentity, submitted: Verification
    ) -> None:
        import requests

        page = requests.get(submitted.client_link, timeout=5)
        assert page.status_code == 200
        assert "Verify your identity" in page.text
        assert requests.post(submitted.client_link, timeout=5).status_code == 200
        assert server.session(submitted.provider_verification_id)["status"] == "processing"
        assert requests.get(submitted.client_link, timeout=5).status_code in (404, 410)  # used up

    @pytest.mark.django_db
    def test_error_code_statuses_override_the_table(
        self, server: FakeStripeIdentity, options: dict[str, Any], applicant: Applicant
    ) -> None:
        with self.configured({**options, "ERROR_CODE_STATUSES": {"abandoned": "resubmission_requested"}}):
            verification = self.start(applicant)
            submission.submit_verification(verification.pk)
            verification.refresh_from_db()
            server.decide(verification.provider_verification_id, "requires_input:abandoned")
            polling.poll_verification(verification.pk)
        verification.refresh_from_db()
        assert verification.status == V.RESUBMISSION_REQUESTED

    # --- webhooks beyond the contract ----------------------------------------------------------------
    @pytest.mark.django_db
    def test_other_event_types_are_acknowledged_and_not_stored(
        self, server: FakeStripeIdentity, submitted: Verification, django_capture_on_commit_callbacks: Any
    ) -> None:
        body = b'{"id":"evt_1","object":"event","type":"payment_intent.succeeded","created":1,"data":{"object":{}}}'
        headers = {"Stripe-Signature": server.signature(body, int(time.time()))}
        assert self.post(django_capture_on_commit_callbacks, body, headers).status_code == 200
        assert not WebhookEvent.objects.exists()

    @pytest.mark.django_db
    def test_an_event_that_overtakes_the_create_answer_waits_for_it(
        self,
        server: FakeStripeIdentity,
        backend: None,
        applicant: Applicant,
        django_capture_on_commit_callbacks: Any,
        time_machine: Any,
    ) -> None:
        """Stripe created the session and sent its event, but the create answer was lost: the event names our
        verification (client_reference_id), which does not know its session yet. It waits; once the retried
        submission has the session, the event applies."""
        time_machine.move_to(timezone.now(), tick=False)
        server.fail_next(1, kind="lost", method="POST", path=SESSIONS)
        verification = self.start(applicant)
        submission.submit_verification(verification.pk)
        (ref,) = server.sessions
        server.decide(ref, "processing")
        assert self.post(django_capture_on_commit_callbacks, *server.webhook_for(ref)).status_code == 200
        row = WebhookEvent.objects.get()
        assert (row.state, row.verification_id) == (WebhookState.RETRY_WAIT, None)
        assert "not recorded yet" in row.last_error
        verification.refresh_from_db()
        time_machine.move_to(max(verification.next_attempt_at, row.next_attempt_at), tick=False)
        submission.submit_verification(verification.pk)
        webhooks_service.process(row.pk)
        row.refresh_from_db()
        verification.refresh_from_db()
        assert (row.state, verification.provider_verification_id) == (WebhookState.PROCESSED, ref)
        assert verification.status == V.PROCESSING
        assert server.applicant_count() == 1

    @pytest.mark.django_db
    def test_sessions_of_another_integration_are_acknowledged_and_not_stored(
        self, server: FakeStripeIdentity, submitted: Verification, django_capture_on_commit_callbacks: Any
    ) -> None:
        """One Stripe account, two integrations: a session someone else created names no verification of ours."""
        foreign = stripe().client.create_session({"type": "document", "client_reference_id": "cus_42"}, "other-app-1")
        server.decide(foreign["id"], "verified")
        assert self.post(django_capture_on_commit_callbacks, *server.webhook_for(foreign["id"])).status_code == 200
        assert not WebhookEvent.objects.exists()

    # --- erasure -------------------------------------------------------------------------------------
    @pytest.mark.django_db
    def test_erasure_redacts_every_session(self, server: FakeStripeIdentity, submitted: Verification) -> None:
        ref = submitted.provider_verification_id
        stripe().delete_applicant(submitted.applicant)
        session = server.session(ref)
        assert (session["status"], session["redaction"], session["metadata"]) == (
            "canceled",
            {"status": "redacted"},
            {},
        )
        stripe().delete_applicant(submitted.applicant)  # already redacted: nothing asked again
        assert [c for c in server.calls if c[1].endswith("/redact")] == [("POST", f"{SESSIONS}/{ref}/redact")]

    @pytest.mark.django_db
    def test_erasure_of_a_verified_session_and_the_sessions_stripe_will_not_redact(
        self, server: FakeStripeIdentity, submitted: Verification
    ) -> None:
        ref = submitted.provider_verification_id
        server.decide(ref, "processing")
        with pytest.raises(TransientProviderError, match="still processing"):
            stripe().delete_applicant(submitted.applicant)
        server.decide(ref, "verified")
        stripe().delete_applicant(submitted.applicant)
        assert server.session(ref)["verified_outputs"]["first_name"] == "[redacted]"
        server.decide(ref, "canceled")
        server.session(ref)["redaction"] = None
        with pytest.raises(PermanentProviderError, match=f"{ref} \\(canceled\\)"):
            stripe().delete_applicant(submitted.applicant)

    @pytest.mark.django_db
    def test_cancel_session(self, server: FakeStripeIdentity, submitted: Verification) -> None:
        state = stripe().cancel_session(submitted)
        assert (state.status, state.provider_status) == (V.CANCELLED, "canceled")
        with pytest.raises(PermanentProviderError, match="cannot be canceled"):
            stripe().cancel_session(submitted)

    # --- reconciliation ------------------------------------------------------------------------------
    @pytest.mark.django_db
    def test_reconcile_walks_every_page_and_keeps_our_sessions(
        self, server: FakeStripeIdentity, options: dict[str, Any], applicant: Applicant, make_applicant: Any
    ) -> None:
        with self.configured({**options, "PAGE_SIZE": 2}):
            refs = []
            for index in range(3):
                person = applicant if index == 0 else make_applicant(last_name=f"P{index}")
                verification = self.start(person)
                submission.submit_verification(verification.pk)
                verification.refresh_from_db()
                refs.append(verification.provider_verification_id)
            with override_settings():
                server.decide(refs[0], "verified")
                events = list(stripe().reconcile())
        assert sorted(event.provider_ref for event in events) == sorted(refs)
        by_ref = {event.provider_ref: event for event in events}
        assert by_ref[refs[0]].state is not None
        assert by_ref[refs[0]].state.status == V.APPROVED
        assert len([c for c in server.calls if c == ("GET", SESSIONS)]) == 2
        with self.configured(options):
            assert list(stripe().reconcile(since=timezone.now() + datetime.timedelta(days=1))) == []

    @pytest.mark.django_db
    def test_kyc_reconcile_applies_what_a_lost_webhook_would_have(
        self, server: FakeStripeIdentity, submitted: Verification, django_capture_on_commit_callbacks: Any
    ) -> None:
        ref = submitted.provider_verification_id
        server.decide(ref, "processing")
        assert self.post(django_capture_on_commit_callbacks, *server.webhook_for(ref)).status_code == 200
        server.decide(ref, "verified")  # its event never arrives
        outcomes = [outcome for _, outcome in reconcile_service.reconcile(ALIAS)]
        submitted.refresh_from_db()
        assert (outcomes, submitted.status) == (["applied"], V.APPROVED)


class TestStripeIdentityPayloadMode(StripeHooks):
    """``WEBHOOK_STATE = "payload"``: the session in the event is applied, ordered by the event's ``created``."""

    WEBHOOK_STATE = "payload"

    @pytest.mark.django_db
    def test_no_retrieve_per_event(
        self, server: FakeStripeIdentity, submitted: Verification, django_capture_on_commit_callbacks: Any
    ) -> None:
        ref = submitted.provider_verification_id
        server.decide(ref, "verified")
        before = len(server.calls)
        assert self.post(django_capture_on_commit_callbacks, *server.webhook_for(ref)).status_code == 200
        submitted.refresh_from_db()
        assert submitted.status == V.APPROVED
        assert len(server.calls) == before
