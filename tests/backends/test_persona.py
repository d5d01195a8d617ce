"""Persona against its fake server: the shared contract, plus what only Persona has (the signature's worked
example and rotation groups, idempotency keys and the lookup by reference, session tokens and one-time links
with their expiry, resuming expired inquiries, the delivery-attempt headers, redaction)."""

from __future__ import annotations

import datetime
import time
from typing import Any

import pytest
import requests
from django.conf import settings
from django.core.cache import caches
from django.test import override_settings
from django.utils import timezone

from django_kyc.backends import get_backend
from django_kyc.backends.base import InboundWebhook, RateLimit
from django_kyc.backends.persona import DEFAULT_API_VERSION, PersonaBackend, sign
from django_kyc.backends.persona.state import token_expiry
from django_kyc.conf import kyc_settings
from django_kyc.exceptions import (
    KycConfigurationError,
    PermanentProviderError,
    TransientProviderError,
    WebhookAuthenticationError,
    WebhookSignatureMissing,
    WebhookSignatureStale,
)
from django_kyc.models import Applicant, AuditEvent, Verification, WebhookEvent, WebhookState
from django_kyc.services import polling, submission
from django_kyc.services import webhooks as webhooks_service
from django_kyc.status import VerificationStatus
from django_kyc.testing import FakeProviderServer
from django_kyc.testing.persona import UNKNOWN_STATUS, FakePersona
from tests.backends.contract import ALIAS, BackendContract
from tests.backends.idempotency_contract import IdempotencyKeyContract

V = VerificationStatus
API_KEY = "persona_sandbox_django_kyc"
TEMPLATE = "itmpl_DjangoKycTemplate1"
WEBHOOK_SECRET = "wbhsec_django_kyc_current"
NEW_WEBHOOK_SECRET = "wbhsec_django_kyc_rolled"
BACKEND = "django_kyc.backends.persona.PersonaBackend"
INQUIRIES = "/api/v1/inquiries"

# The worked example (HMAC-SHA256 of "<t>.<body>", checked with
# printf '%s' "1700000000.$BODY" | openssl dgst -sha256 -hmac wbhsec_test_secret)
EXAMPLE_TIMESTAMP = 1700000000
EXAMPLE_BODY = b'{"data":{"type":"event","id":"evt_test","attributes":{"name":"inquiry.approved"}}}'
EXAMPLE_SIGNATURES = {
    "wbhsec_test_secret": "21e86aa78dd683474f7dd99266f5f35fcbeaaaef9567c15df318aecd123cef0c",
    "wbhsec_old_secret": "c9ed1603d4135f3ebc6e5c4951d21af3337bdc623d1776b4906249a85c5d3e0f",
}


def persona() -> PersonaBackend:
    instance = get_backend(ALIAS)
    assert isinstance(instance, PersonaBackend)
    return instance


def options_for(api_url: str, **extra: Any) -> dict[str, Any]:
    return {
        "API_KEY": API_KEY,
        "TEMPLATE_ID": TEMPLATE,
        "WEBHOOK_SECRETS": WEBHOOK_SECRET,
        "BASE_URL": api_url,
        **extra,
    }


def at(moment: int) -> datetime.datetime:
    return datetime.datetime.fromtimestamp(moment, tz=datetime.UTC)


class TestPersonaContract(IdempotencyKeyContract, BackendContract):
    IDEMPOTENCY_STATE = "persona_idempotency"
    IDEMPOTENCY_KEY_PREFIX = "django-kyc-inquiry-"

    def sent_idempotency_keys(self, server: FakePersona) -> list[str]:
        return [key for _, path, key in server.posts if path == INQUIRIES]

    backend_class = BACKEND
    server_class = FakePersona
    STATUS_TABLE = [
        ("created", V.AWAITING_USER),
        ("pending", V.AWAITING_USER),
        ("completed", V.PROCESSING),
        ("failed", V.DECLINED),
        ("expired", V.EXPIRED),
        ("needs_review", V.REVIEW),
        ("approved", V.APPROVED),
        ("declined", V.DECLINED),
    ]
    UNKNOWN_OUTCOME = UNKNOWN_STATUS
    PROGRESS_OUTCOME = "completed"
    APPROVED_OUTCOME = "approved"
    #: a hosted flow: the inquiry exists with a session token and a one-time link; the person has not started
    SUBMITTED_STATUS = V.AWAITING_USER
    SIGNATURE_HEADER = "Persona-Signature"
    TIMESTAMPED = True
    PERMANENT_STATUS = 422
    CREATE_CALL = ("POST", INQUIRIES)
    FINDS_LOST_CREATES = True  # the Idempotency-Key replays the first answer; after it, reference-id

    def server_kwargs(self) -> dict[str, Any]:
        return {"api_key": API_KEY, "webhook_secrets": WEBHOOK_SECRET}

    @pytest.fixture
    def options(self, server: FakeProviderServer) -> dict[str, Any]:
        """A submission is three calls (create, resume, one-time link): a second each, still under the fake's
        1.5 s stall, so a loaded test machine does not turn a slow answer into a timeout."""
        return {**self.backend_options(server), "READ_TIMEOUT": 1.0, "CONNECT_TIMEOUT": 0.5}

    def backend_options(self, server: FakeProviderServer) -> dict[str, Any]:
        assert isinstance(server, FakePersona)
        return options_for(server.api_url)

    def wrong_credentials(self, options: dict[str, Any]) -> dict[str, Any]:
        return {**options, "API_KEY": "persona_sandbox_revoked"}

    def rotated(self, options: dict[str, Any], server: FakeProviderServer) -> dict[str, Any]:
        return {**options, "WEBHOOK_SECRETS": [NEW_WEBHOOK_SECRET, WEBHOOK_SECRET]}

    def stale_delivery(self, server: FakeProviderServer, ref: str) -> tuple[bytes, dict[str, str]]:
        assert isinstance(server, FakePersona)
        return server.webhook_for(ref, timestamp=int(time.time()) - 301)

    # --- the signature ---------------------------------------------------------------------------------
    def test_worked_example(self, time_machine: Any) -> None:
        for secret, signature in EXAMPLE_SIGNATURES.items():
            assert sign(EXAMPLE_BODY, secret, EXAMPLE_TIMESTAMP) == f"t={EXAMPLE_TIMESTAMP},v1={signature}"
        rotation = sign(EXAMPLE_BODY, list(EXAMPLE_SIGNATURES), EXAMPLE_TIMESTAMP)
        assert rotation == " ".join(f"t={EXAMPLE_TIMESTAMP},v1={s}" for s in EXAMPLE_SIGNATURES.values())
        time_machine.move_to(at(EXAMPLE_TIMESTAMP + 299), tick=False)
        for ours in (["wbhsec_test_secret"], ["wbhsec_old_secret"], ["wbhsec_new", "wbhsec_old_secret"]):
            backend = PersonaBackend("p", options_for("https://x.invalid", WEBHOOK_SECRETS=ours))
            webhook = InboundWebhook(body=EXAMPLE_BODY, headers={"Persona-Signature": rotation})
            backend.authenticate_webhook(webhook)  # any group's v1 under any of our secrets will do
            assert backend.parse_webhook(webhook) == []  # no inquiry in it: acknowledged, nothing to apply
        time_machine.move_to(at(EXAMPLE_TIMESTAMP + 301), tick=False)
        with pytest.raises(WebhookSignatureStale):
            backend.authenticate_webhook(InboundWebhook(body=EXAMPLE_BODY, headers={"Persona-Signature": rotation}))

    def test_signature_refusals(self, time_machine: Any) -> None:
        time_machine.move_to(at(EXAMPLE_TIMESTAMP), tick=False)
        backend = PersonaBackend("p", options_for("https://x.invalid", WEBHOOK_SECRETS="wbhsec_test_secret"))
        signature = EXAMPLE_SIGNATURES["wbhsec_test_secret"]
        good = f"t={EXAMPLE_TIMESTAMP},v1={signature}"
        for body, header, error in [
            (EXAMPLE_BODY, "", WebhookSignatureMissing),
            (EXAMPLE_BODY + b" ", good, WebhookAuthenticationError),  # tampered body
            (EXAMPLE_BODY, f"t={EXAMPLE_TIMESTAMP + 1},v1={signature}", WebhookAuthenticationError),
            (EXAMPLE_BODY, f"t={EXAMPLE_TIMESTAMP},v0={signature}", WebhookAuthenticationError),  # only v1
            (EXAMPLE_BODY, f"v1={signature}", WebhookAuthenticationError),  # no timestamp
            (
                EXAMPLE_BODY,
                f"t={EXAMPLE_TIMESTAMP},v1={EXAMPLE_SIGNATURES['wbhsec_old_secret']}",
                WebhookAuthenticationError,
            ),
        ]:
            headers = {"Persona-Signature": header} if header else {}
            with pytest.raises(error):
                backend.authenticate_webhook(InboundWebhook(body=body, headers=headers))
        unconfigured = PersonaBackend("p", options_for("https://x.invalid", WEBHOOK_SECRETS=[]))
        with pytest.raises(WebhookAuthenticationError):
            unconfigured.authenticate_webhook(InboundWebhook(body=EXAMPLE_BODY, headers={"Persona-Signature": good}))

    def test_the_tolerance_is_an_option(self, time_machine: Any) -> None:
        time_machine.move_to(at(EXAMPLE_TIMESTAMP - 600), tick=False)  # a signature from our future, too
        backend = PersonaBackend(
            "p", options_for("https://x.invalid", WEBHOOK_SECRETS="wbhsec_test_secret", WEBHOOK_TOLERANCE=900)
        )
        header = f"t={EXAMPLE_TIMESTAMP},v1={EXAMPLE_SIGNATURES['wbhsec_test_secret']}"
        backend.authenticate_webhook(InboundWebhook(body=EXAMPLE_BODY, headers={"Persona-Signature": header}))

    # --- the create call -------------------------------------------------------------------------------
    @pytest.mark.django_db
    def test_inquiry_carries_our_reference_the_template_and_the_pinned_version(
        self, server: FakePersona, submitted: Verification
    ) -> None:
        inquiry = server.inquiry(submitted.provider_verification_id)
        assert inquiry["attributes"]["reference-id"] == submitted.applicant.reference
        assert inquiry["relationships"]["inquiry-template"]["data"]["id"] == TEMPLATE
        assert set(server.versions) == {DEFAULT_API_VERSION}
        # every POST (create, resume, one-time link) carried an idempotency key derived from our ids
        assert [path for _, path, _ in server.posts] == [
            INQUIRIES,
            f"{INQUIRIES}/{submitted.provider_verification_id}/resume",
            f"{INQUIRIES}/{submitted.provider_verification_id}/generate-one-time-link",
        ]
        keys = [key for _, _, key in server.posts]
        assert keys[0] == f"django-kyc-inquiry-{submitted.pk}-1"
        assert all(keys[1:])
        assert submitted.provider_verification_id in keys[1]
        # a session token for the embedded flow, a one-time link for the hosted one
        assert submitted.client_link.startswith(server.base_url + "/verify?code=")
        assert token_expiry(submitted.client_token) is not None
        assert submitted.client_token_expires_at is not None
        assert submitted.submitted_at is not None
        remaining = submitted.client_token_expires_at - submitted.submitted_at
        assert datetime.timedelta(minutes=59) < remaining <= datetime.timedelta(hours=1)  # the link's, shorter
        assert submitted.client_token not in str(submitted.provider_data)
        assert "one-time-link" not in str(submitted.provider_data)

    @pytest.mark.django_db
    def test_expiry_overrides_and_template_versions_are_sent(
        self, server: FakePersona, options: dict[str, Any], applicant: Applicant
    ) -> None:
        configured = {
            **options,
            "TEMPLATE_ID": "itmplv_Pinned1",
            "EXPIRATION_AFTER_CREATE_SECONDS": 7200,
            "EXPIRATION_AFTER_RESUME_SECONDS": 3600,
            "API_VERSION": "2025-10-27",
            "ONE_TIME_LINK": False,
        }
        with self.configured(configured):
            verification = self.start(applicant)
            submission.submit_verification(verification.pk)
        verification.refresh_from_db()
        assert verification.status == V.AWAITING_USER, verification.last_error
        inquiry = server.inquiry(verification.provider_verification_id)
        assert inquiry["relationships"]["inquiry-template"]["data"]["id"] == "itmplv_Pinned1"
        assert inquiry["_resume_ttl"] == 3600
        assert server.versions[-1] == "2025-10-27"
        # the session token's own exp is the expiry reported (an hour, as the inquiry was told)
        assert verification.client_link == ""
        assert verification.client_token_expires_at is not None
        assert verification.client_token_expires_at == token_expiry(verification.client_token)
        remaining = verification.client_token_expires_at - timezone.now()
        assert datetime.timedelta(minutes=58) < remaining <= datetime.timedelta(hours=1)

    def test_configuration_errors_name_the_key(self) -> None:
        with pytest.raises(KycConfigurationError, match="TEMPLATE_ID"):
            PersonaBackend("p", {"API_KEY": API_KEY, "TEMPLATE_ID": "blu_123"})
        with pytest.raises(KycConfigurationError, match="STATUS_OVERRIDES"):
            PersonaBackend("p", {"API_KEY": API_KEY, "TEMPLATE_ID": TEMPLATE, "STATUS_OVERRIDES": {"done": "approved"}})
        with pytest.raises(KycConfigurationError, match="STATUS_OVERRIDES"):
            PersonaBackend("p", {"API_KEY": API_KEY, "TEMPLATE_ID": TEMPLATE, "STATUS_OVERRIDES": {"completed": "ok"}})
        with pytest.raises(KycConfigurationError, match="ONE_TIME_LINK"):
            PersonaBackend(
                "p", {"API_KEY": API_KEY, "TEMPLATE_ID": TEMPLATE, "SESSION_TOKEN": False, "ONE_TIME_LINK": False}
            )

    # --- idempotency -----------------------------------------------------------------------------------
    @pytest.mark.django_db
    def test_after_the_key_lifetime_the_inquiry_is_looked_up_by_reference(
        self, server: FakePersona, backend: None, applicant: Applicant, time_machine: Any
    ) -> None:
        time_machine.move_to(timezone.now(), tick=False)
        server.fail_next(1, kind="lost", method="POST", path=INQUIRIES)
        verification = self.start(applicant)
        submission.submit_verification(verification.pk)
        server.idempotency.clear()  # Persona pruned the key
        time_machine.move_to(timezone.now() + datetime.timedelta(hours=1, minutes=1), tick=False)
        verification.refresh_from_db()
        submission.submit_verification(verification.pk)
        verification.refresh_from_db()
        assert verification.status == V.AWAITING_USER, verification.last_error
        assert server.applicant_count() == 1
        assert ("GET", INQUIRIES) in server.calls
        assert "unanswered_creates" not in verification.provider_data
        assert not AuditEvent.objects.filter(object_id=str(verification.pk), action="possible_duplicate").exists()

    @pytest.mark.django_db
    def test_the_lookup_skips_another_verifications_inquiry(
        self, server: FakePersona, submitted: Verification, time_machine: Any
    ) -> None:
        """The applicant's earlier inquiry (another verification's) shares the reference-id: not ours."""
        from django_kyc.backends.persona.submission import InquirySubmission

        later = Verification.objects.create(applicant=submitted.applicant, backend=ALIAS)
        assert InquirySubmission(persona(), later).find({}) is None
        assert server.applicant_count() == 1

    @pytest.mark.django_db
    def test_the_fake_replays_and_refuses_keys_as_persona_does(
        self, server: FakePersona, submitted: Verification
    ) -> None:
        client = persona().client
        key = submitted.provider_data["persona_idempotency"]["key"]
        attributes = persona().inquiry_attributes(submitted)
        again = client.create_inquiry(attributes, key)
        assert again["data"]["id"] == submitted.provider_verification_id
        with pytest.raises(PermanentProviderError) as refused:
            client.create_inquiry({**attributes, "note": "other"}, key)
        assert refused.value.status_code == 409
        assert "different request parameters" in refused.value.message
        assert server.applicant_count() == 1

    @pytest.mark.django_db
    def test_a_refused_key_is_dropped_and_the_inquiry_looked_up(
        self, server: FakePersona, backend: None, applicant: Applicant, time_machine: Any
    ) -> None:
        time_machine.move_to(timezone.now(), tick=False)
        server.fail_next(1, status=409, message="key in use", method="POST", path=INQUIRIES)
        verification = self.start(applicant)
        submission.submit_verification(verification.pk)
        verification.refresh_from_db()
        assert (verification.status, verification.provider_data["persona_idempotency"]["key"]) == (V.PENDING, "")
        time_machine.move_to(verification.next_attempt_at, tick=False)
        submission.submit_verification(verification.pk)
        verification.refresh_from_db()
        assert verification.status == V.AWAITING_USER, verification.last_error
        assert ("GET", INQUIRIES) in server.calls
        assert server.applicant_count() == 1

    # --- rate limits -----------------------------------------------------------------------------------
    def test_the_lower_published_limit_is_the_default_and_configurable(self) -> None:
        assert PersonaBackend.rate_limits == (RateLimit(240, 60.0),)
        default = PersonaBackend("p", {"API_KEY": API_KEY, "TEMPLATE_ID": TEMPLATE})
        assert default.client.rate_limiter is not None
        assert default.client.rate_limiter.limits == (RateLimit(240, 60.0),)
        raised = PersonaBackend("p", {"API_KEY": API_KEY, "TEMPLATE_ID": TEMPLATE, "RATE_LIMIT": 300})
        assert raised.client.rate_limiter is not None
        assert raised.client.rate_limiter.limits == (RateLimit(300, 60.0),)
        assert (
            PersonaBackend("p", {"API_KEY": API_KEY, "TEMPLATE_ID": TEMPLATE, "RATE_LIMIT": 0}).client.rate_limiter
            is None
        )

    @pytest.mark.django_db
    def test_a_request_over_budget_is_retried_later_not_sent(
        self, server: FakePersona, options: dict[str, Any], submitted: Verification
    ) -> None:
        with (
            self.configured({**options, "RATE_LIMIT": 2}),
            # entered after the line above: these settings are the configured ones, plus no waiting
            override_settings(DJANGO_KYC={**settings.DJANGO_KYC, "PROVIDER_RATE_LIMIT_MAX_WAIT": 0}),
        ):
            backend = persona()
            caches[kyc_settings.PROVIDER_RATE_LIMIT_CACHE].clear()  # the submission's calls counted too
            backend.fetch_verification(submitted)
            backend.fetch_verification(submitted)
            sent = len(server.calls)
            with pytest.raises(TransientProviderError, match="rate limit") as over:
                backend.fetch_verification(submitted)
        assert over.value.retry_after is not None
        assert len(server.calls) == sent

    # --- client tokens and polling ---------------------------------------------------------------------
    @pytest.mark.django_db
    def test_reissued_token_is_fresh_while_the_inquiry_is_open_and_empty_after(
        self, server: FakePersona, submitted: Verification
    ) -> None:
        ref = submitted.provider_verification_id
        time.sleep(1.01)  # a new second: a new request, so new idempotency keys
        token = persona().issue_client_token(submitted)
        assert token.token
        assert token.token != submitted.client_token
        assert token.link.startswith(server.base_url + "/verify?code=")
        assert token.link != submitted.client_link
        assert token.expires_at is not None
        server.decide(ref, "pending")
        assert persona().issue_client_token(submitted).token
        server.decide(ref, "completed")
        assert persona().issue_client_token(submitted) == type(token)()

    @pytest.mark.django_db
    def test_an_expired_inquiry_is_resumed_when_the_site_lets_the_person_continue(
        self,
        server: FakePersona,
        options: dict[str, Any],
        applicant: Applicant,
        django_capture_on_commit_callbacks: Any,
    ) -> None:
        with self.configured({**options, "STATUS_OVERRIDES": {"expired": "resubmission_requested"}}):
            verification = self.start(applicant)
            submission.submit_verification(verification.pk)
            verification.refresh_from_db()
            ref = verification.provider_verification_id
            server.decide(ref, "expired")
            assert self.post(django_capture_on_commit_callbacks, *server.webhook_for(ref)).status_code == 200
            verification.refresh_from_db()
            assert verification.status == V.RESUBMISSION_REQUESTED
            refreshed = submission.refresh_client_token(verification)
            assert server.inquiry(ref)["attributes"]["status"] == "pending"  # resumed
            assert refreshed.client_token
            assert refreshed.client_link
            # the person finishes the resumed inquiry; its decision ends the verification
            server.decide(ref, "completed")
            server.decide(ref, "approved")
            assert self.post(django_capture_on_commit_callbacks, *server.webhook_for(ref)).status_code == 200
            verification.refresh_from_db()
            assert verification.status == V.APPROVED

    @pytest.mark.django_db
    def test_polling_reads_the_inquiry_and_its_failed_checks(
        self, server: FakePersona, submitted: Verification
    ) -> None:
        server.decide(submitted.provider_verification_id, "declined")
        polling.poll_verification(submitted.pk)
        submitted.refresh_from_db()
        assert (submitted.status, submitted.provider_status, submitted.reasons) == (
            V.DECLINED,
            "declined",
            ["id_expired"],
        )
        kept = submitted.provider_data["persona"]
        assert kept["template"] == TEMPLATE
        assert kept["decisioned_at"]
        (verification,) = kept["verifications"]
        assert (verification["type"], verification["failed_checks"]) == ("verification/government-id", ["id_expired"])
        assert "Alexander" not in str(submitted.provider_data)  # names stay at Persona

    @pytest.mark.django_db
    def test_completed_approves_when_the_template_has_no_decisioning(
        self, server: FakePersona, options: dict[str, Any], applicant: Applicant
    ) -> None:
        with self.configured({**options, "STATUS_OVERRIDES": {"completed": "approved"}}):
            verification = self.start(applicant)
            submission.submit_verification(verification.pk)
            verification.refresh_from_db()
            server.decide(verification.provider_verification_id, "completed")
            polling.poll_verification(verification.pk)
        verification.refresh_from_db()
        assert verification.status == V.APPROVED

    @pytest.mark.django_db
    def test_the_hosted_flow_completes_the_inquiry(self, server: FakePersona, submitted: Verification) -> None:
        page = requests.get(submitted.client_link, timeout=5)
        assert page.status_code == 200
        assert "Verify your identity" in page.text
        assert requests.post(submitted.client_link, timeout=5).status_code == 200
        assert server.inquiry(submitted.provider_verification_id)["attributes"]["status"] == "completed"
        assert requests.get(submitted.client_link, timeout=5).status_code in (404, 410)  # used up

    # --- webhooks beyond the contract ----------------------------------------------------------------
    @pytest.mark.django_db
    def test_the_delivery_attempt_headers_are_kept_for_reviewers(
        self, server: FakePersona, submitted: Verification, django_capture_on_commit_callbacks: Any
    ) -> None:
        ref = submitted.provider_verification_id
        server.decide(ref, "approved")
        body, headers = server.webhook_for(ref, attempt=3)
        assert self.post(django_capture_on_commit_callbacks, body, headers).status_code == 200
        kept = WebhookEvent.objects.get().headers
        assert kept["persona-webhook-attempts-made"] == "3"
        assert kept["persona-webhook-attempts-left"] == "5"
        assert kept["persona-webhook-first-attempted-at"].isdigit()
        assert "persona-signature" not in kept

    @pytest.mark.django_db
    def test_other_events_and_foreign_inquiries_are_acknowledged_and_not_stored(
        self, server: FakePersona, submitted: Verification, django_capture_on_commit_callbacks: Any
    ) -> None:
        body = b'{"data":{"type":"event","id":"evt_1","attributes":{"name":"verification.passed","payload":{}}}}'
        headers = {"Persona-Signature": server.signature(body, int(time.time()))}
        assert self.post(django_capture_on_commit_callbacks, body, headers).status_code == 200
        foreign = persona().client.create_inquiry({"inquiry-template-id": TEMPLATE, "reference-id": "user-42"}, "x1")
        server.decide(foreign["data"]["id"], "approved")
        assert (
            self.post(django_capture_on_commit_callbacks, *server.webhook_for(foreign["data"]["id"])).status_code == 200
        )
        assert not WebhookEvent.objects.exists()

    @pytest.mark.django_db
    def test_an_event_that_overtakes_the_create_answer_waits_for_it(
        self,
        server: FakePersona,
        backend: None,
        applicant: Applicant,
        django_capture_on_commit_callbacks: Any,
        time_machine: Any,
    ) -> None:
        time_machine.move_to(timezone.now(), tick=False)
        server.fail_next(1, kind="lost", method="POST", path=INQUIRIES)
        verification = self.start(applicant)
        submission.submit_verification(verification.pk)
        (ref,) = server.inquiries
        server.decide(ref, "pending")
        assert self.post(django_capture_on_commit_callbacks, *server.webhook_for(ref)).status_code == 200
        row = WebhookEvent.objects.get()
        assert (row.state, row.verification_id) == (WebhookState.RETRY_WAIT, None)
        verification.refresh_from_db()
        assert verification.next_attempt_at is not None
        assert row.next_attempt_at is not None
        time_machine.move_to(max(verification.next_attempt_at, row.next_attempt_at), tick=False)
        submission.submit_verification(verification.pk)
        webhooks_service.process(row.pk)
        row.refresh_from_db()
        verification.refresh_from_db()
        assert (row.state, verification.provider_verification_id) == (WebhookState.PROCESSED, ref)
        assert verification.status == V.AWAITING_USER
        assert server.applicant_count() == 1

    # --- erasure -------------------------------------------------------------------------------------
    @pytest.mark.django_db
    def test_erasure_redacts_every_inquiry_once(self, server: FakePersona, submitted: Verification) -> None:
        ref = submitted.provider_verification_id
        server.decide(ref, "approved")
        persona().delete_applicant(submitted.applicant)
        inquiry = server.inquiry(ref)
        assert inquiry["attributes"]["redacted-at"]
        assert inquiry["attributes"]["name-first"] is None
        assert inquiry["attributes"]["status"] == "approved"  # redaction keeps the status
        persona().delete_applicant(submitted.applicant)  # already redacted: not asked again
        assert [c for c in server.calls if c[0] == "DELETE"] == [("DELETE", f"{INQUIRIES}/{ref}")]
        state = persona().fetch_verification(submitted)
        assert (state.status, state.provider_status, state.data["persona"]["redacted"]) == (
            V.APPROVED,
            "approved:redacted",
            True,
        )

    @pytest.mark.django_db
    def test_erasure_skips_inquiries_persona_does_not_know(self, server: FakePersona, submitted: Verification) -> None:
        server.inquiries.clear()
        persona().delete_applicant(submitted.applicant)
        assert not [c for c in server.calls if c[0] == "DELETE"]
