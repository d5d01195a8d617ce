"""Allpass (elKYC) against its fake server: the shared contract in both webhook encryption modes, plus what
only Allpass has (the envelope, applicant operations, the ordering rule, crypto AML)."""

from __future__ import annotations

import json
from typing import Any

import pytest
import requests
from django.conf import settings
from django.test import override_settings

from django_kyc.backends import get_backend
from django_kyc.backends.allpass import (
    AllpassBackend,
    allpass_error_message,
    decrypt_cbc,
    decrypt_gcm,
)
from django_kyc.backends.base import InboundWebhook
from django_kyc.exceptions import (
    KycConfigurationError,
    PermanentProviderError,
    TransientProviderError,
    UnsupportedFeature,
    WebhookAuthenticationError,
    WebhookSignatureMissing,
)
from django_kyc.models import AmlCheck, AmlHit, Applicant, Verification, WebhookEvent
from django_kyc.services import aml, polling, submission
from django_kyc.status import AmlStatus, VerificationStatus
from django_kyc.testing import FakeProviderServer
from django_kyc.testing.allpass import UNKNOWN_STATUS, FakeAllpass, encrypt_cbc, encrypt_gcm
from tests.backends.contract import ALIAS, BackendContract

V = VerificationStatus
APP_KEY = "allpass-private-7f3c"
CRYPTO_KEY = "9c" * 32
NEW_CRYPTO_KEY = "4e" * 32
HMAC_KEY = "allpass-hmac-2b81"
NEW_HMAC_KEY = "allpass-hmac-rotated"
FLOW = "basic-kyc"
CALLBACK = f"http://testserver/kyc/webhooks/{ALIAS}/"
BACKEND = "django_kyc.backends.allpass.AllpassBackend"

# --- computed vectors (expected values from the openssl CLI, not from our code) ---------------------------
# KEY = 00..1f, CBC IV = 00..0f, GCM IV = 00..0b, HMAC key "allpass-hmac-vector":
#   printf '%s' "$PT" | openssl enc -aes-256-cbc -K $KEY -iv $IV | xxd -p
#   printf '%s' "$DATA" | openssl dgst -sha256 -hmac allpass-hmac-vector
#   GCM ciphertext = AES-256-CTR with counter IV || 00000002:  openssl enc -aes-256-ctr -iv ${IV}00000002
VECTOR_KEY = bytes(range(32)).hex()
VECTOR_PLAINTEXT = b'{"type":"applicantApproved","id":"6f1c2a9e","externalUserId":"user-42","warnings":[]}'
VECTOR_HMAC_KEY = "allpass-hmac-vector"
VECTOR_CBC_DATA = (
    "000102030405060708090a0b0c0d0e0f"
    "35814d9de14397dc33aeb29de245ca719a9b17ae2f5265c8fb09e1b6a27bf391d3bfd06f4f7b0dd73155092ae82dfdb9"
    "ef1e39c6fd529f869772c2888fc966e248f5b0e708a1f27cb82acf12b8734a6bb1dee96fb7d8d67a4a75c43bc1faac46"
)
VECTOR_CBC_SIGNATURE = "1a3c80e8cb400e3de24cd3a9abe91a85a5e41811df29ddfdf8c4d48a8b1cca8c"
VECTOR_GCM_DATA = (
    "000102030405060708090a0b"
    "3c20a262b580e021af20e7fbdd801b0ceda2c6448009300a5d03c7a93f0064903b32989a9ea220f94dc15dc1aae2504c"
    "8b2b0eec3683d0bf4dde4e3b22c1809d954eeb4ee1f30a436b35d80086e1699b1ab0923f0b"
)
VECTOR_GCM_TAG = "ad73509b1fbf8656031bc18195251da3"


def allpass() -> AllpassBackend:
    instance = get_backend(ALIAS)
    assert isinstance(instance, AllpassBackend)
    return instance


def options_for(base_url: str, **extra: Any) -> dict[str, Any]:
    return {
        "PRIVATE_APP_KEY": APP_KEY,
        "BASE_URL": base_url,
        "FLOW_NAME": FLOW,
        "CRYPTO_KEY": CRYPTO_KEY,
        "HMAC_KEY": HMAC_KEY,
        **extra,
    }


class AllpassHooks(BackendContract):
    """The contract's hooks for Allpass; the two encryption modes differ only in their options."""

    backend_class = BACKEND
    server_class = FakeAllpass
    STATUS_TABLE = [
        ("INIT", V.AWAITING_USER),
        ("INCOMPLETE", V.AWAITING_USER),
        ("IN_PROGRESS", V.PROCESSING),
        ("COMPLETED", V.PROCESSING),
        ("IN_REVIEW", V.REVIEW),
        ("ON_HOLD", V.REVIEW),
        ("APPROVED", V.APPROVED),
        ("REJECTED", V.DECLINED),
    ]
    UNKNOWN_OUTCOME = UNKNOWN_STATUS
    PROGRESS_OUTCOME = "IN_PROGRESS"
    APPROVED_OUTCOME = "APPROVED"
    #: a hosted flow: the applicant exists and holds a link, the person has not started
    SUBMITTED_STATUS = V.AWAITING_USER
    #: the HMAC (CBC) or the tag (GCM) travels in x-allpass-signature; a delivery without it is 401
    SIGNED = True
    SIGNATURE_HEADER = "x-allpass-signature"
    #: the envelope time is not covered by the signature: ordering uses it, staleness cannot
    TIMESTAMPED = False
    PERMANENT_STATUS = 400
    CREATE_CALL = ("POST", r"/api/public/applicant")
    FINDS_LOST_CREATES = True  # by externalUserId
    MODE = "cbc-hmac"

    def server_kwargs(self) -> dict[str, Any]:
        return {
            "private_app_key": APP_KEY,
            "crypto_key": CRYPTO_KEY,
            "hmac_key": HMAC_KEY,
            "webhook_mode": self.MODE,
            "callback_url": CALLBACK,
        }

    def backend_options(self, server: FakeProviderServer) -> dict[str, Any]:
        return options_for(server.base_url, WEBHOOK_MODE=self.MODE, LANG="en", LOCALE="en-US", TOKEN_TTL=900)

    def wrong_credentials(self, options: dict[str, Any]) -> dict[str, Any]:
        return {**options, "PRIVATE_APP_KEY": "allpass-revoked"}

    def rotated(self, options: dict[str, Any], server: FakeProviderServer) -> dict[str, Any]:
        return {**options, "CRYPTO_KEY": [NEW_CRYPTO_KEY, CRYPTO_KEY], "HMAC_KEY": [NEW_HMAC_KEY, HMAC_KEY]}

    def forged_delivery(self, server: FakeProviderServer, ref: str) -> tuple[bytes, dict[str, str]]:
        """The real delivery with one ciphertext bit flipped and the genuine signature kept."""
        body, headers = server.webhook_for(ref)
        envelope = json.loads(body)
        data = envelope["data"]
        envelope["data"] = data[:-1] + ("0" if data[-1] != "0" else "1")
        return json.dumps(envelope).encode(), headers


class TestAllpassContract(AllpassHooks):
    """AES-256-CBC with an HMAC key (the Workplace's default encryption method)."""

    MODE = "cbc-hmac"

    # --- vectors -------------------------------------------------------------------------------------
    def test_cbc_vector(self) -> None:
        assert encrypt_cbc(VECTOR_KEY, VECTOR_HMAC_KEY, VECTOR_PLAINTEXT, bytes(range(16))) == (
            VECTOR_CBC_DATA,
            VECTOR_CBC_SIGNATURE,
        )
        assert decrypt_cbc(bytes(range(32)), VECTOR_CBC_DATA) == VECTOR_PLAINTEXT
        backend = AllpassBackend(
            "v", options_for("https://allpass.invalid", CRYPTO_KEY=VECTOR_KEY, HMAC_KEY=VECTOR_HMAC_KEY)
        )
        body = json.dumps(
            {"status": True, "statusCode": 200, "data": VECTOR_CBC_DATA, "time": "2024-05-01T10:00:00.000Z"}
        )
        webhook = InboundWebhook(body=body.encode(), headers={"X-Allpass-Signature": VECTOR_CBC_SIGNATURE})
        backend.authenticate_webhook(webhook)
        (event,) = backend.parse_webhook(webhook)
        assert (event.event_id, event.provider_ref) == (
            "6f1c2a9e:applicantApproved:2024-05-01T10:00:00.000Z",
            "6f1c2a9e",
        )
        assert event.state is not None
        assert (event.state.status, event.state.provider_status) == (V.APPROVED, "APPROVED")
        assert event.occurred_at is not None
        assert event.occurred_at.isoformat() == "2024-05-01T10:00:00+00:00"

    def test_hmac_options_cover_the_unspecified_parts(self) -> None:
        """HMAC over the whole body, base64-encoded: the alternatives a vendor answer may call for."""
        import base64
        import hashlib
        import hmac

        envelope = json.dumps({"status": True, "statusCode": 200, "data": VECTOR_CBC_DATA, "time": "t"}).encode()
        signature = base64.b64encode(hmac.new(VECTOR_HMAC_KEY.encode(), envelope, hashlib.sha256).digest()).decode()
        backend = AllpassBackend(
            "v",
            options_for(
                "https://allpass.invalid",
                CRYPTO_KEY=VECTOR_KEY,
                HMAC_KEY=VECTOR_HMAC_KEY,
                HMAC_INPUT="body",
                SIGNATURE_ENCODING="base64",
            ),
        )
        backend.authenticate_webhook(InboundWebhook(body=envelope, headers={"x-allpass-signature": signature}))
        with pytest.raises(WebhookAuthenticationError):
            backend.authenticate_webhook(
                InboundWebhook(body=envelope, headers={"x-allpass-signature": VECTOR_CBC_SIGNATURE})
            )

    @pytest.mark.django_db
    def test_wrong_hmac_key_is_refused_even_though_the_data_decrypts(
        self, server: FakeAllpass, submitted: Verification, django_capture_on_commit_callbacks: Any
    ) -> None:
        server.hmac_key = "someone-else"
        body, headers = server.webhook_for(self.ref(submitted), "APPROVED")
        assert self.post(django_capture_on_commit_callbacks, body, headers).status_code == 403
        assert not WebhookEvent.objects.exists()

    # --- submission and applicant operations ----------------------------------------------------------
    @pytest.mark.django_db
    def test_create_sends_the_documented_fields_and_the_token_is_the_client_link(
        self, server: FakeAllpass, submitted: Verification
    ) -> None:
        applicant = submitted.applicant
        (sent,) = server.created_with
        assert sent["externalUserId"] == applicant.reference
        assert (sent["flowName"], sent["email"], sent["lang"]) == (FLOW, "jane@example.com", "en")
        assert sent["suppliedInfo"]["lastName"] == "Smith"
        assert sent["suppliedInfo"]["dateOfBirth"] == "1990-02-03"
        ref = self.ref(submitted)
        assert submitted.provider_applicant_id == ref == server.applicant(ref)["id"]
        token = server.token_for(ref)
        assert (submitted.client_token, submitted.client_link) == (token["accessToken"], token["link"])
        assert (token["ttl"], token["_locale"]) == (900, "en-US")
        assert submitted.client_token_expires_at is not None
        assert submitted.provider_data["allpass_token"]["transactionId"] == token["transactionId"]
        assert submitted.provider_status == "INIT"

    @pytest.mark.django_db
    def test_retry_finds_the_applicant_by_external_id_instead_of_creating_another(
        self, server: FakeAllpass, backend: None, applicant: Applicant
    ) -> None:
        first = self.start(applicant)
        submission.submit_verification(first.pk)
        first.refresh_from_db()
        # as if the Allpass id had never been committed on our side
        Verification.objects.filter(pk=first.pk).update(
            provider_applicant_id="", provider_verification_id="", status=V.PENDING, next_attempt_at=None
        )
        server.calls.clear()
        submission.submit_verification(first.pk)
        first.refresh_from_db()
        assert first.status == V.AWAITING_USER
        assert server.applicant_count() == 1
        assert first.provider_applicant_id == next(iter(server.applicants))
        assert ("POST", "/api/public/applicant") not in server.calls
        assert server.calls[0] == ("GET", f"/api/public/applicant/{applicant.reference}")

    @pytest.mark.django_db
    @pytest.mark.parametrize(
        ("status", "message"),
        [
            (404, "Applicant not found"),
            (400, "Applicant does not exist"),
            (422, "Applicant with this externalUserId was not found"),
            (400, ["applicant doesn't exist"]),
        ],
    )
    def test_applicant_not_found_answered_with_400_or_422_means_none_yet(
        self, applicant: Applicant, make_applicant: Any, status: int, message: str | list[str]
    ) -> None:
        """Allpass publishes no error catalogue: a lookup of an applicant that does not exist may be answered
        400 / 422 instead of 404. Either way it is "none yet", and the applicant is created."""
        fake = FakeAllpass(**self.server_kwargs(), missing_status=status)
        fake.missing_message = message  # type: ignore[assignment]  # NestJS sends validation messages as lists
        with fake, self.configured(self.backend_options(fake)):
            verification = self.start(applicant)
            submission.submit_verification(verification.pk)
            verification.refresh_from_db()
            assert verification.status == V.AWAITING_USER, verification.last_error
            assert fake.applicant_count() == 1
            allpass().delete_applicant(make_applicant(last_name="Never-Sent"))  # the same reading for erasure

    @pytest.mark.django_db
    def test_other_client_errors_of_the_lookup_still_end_in_error(
        self, server: FakeAllpass, backend: None, applicant: Applicant
    ) -> None:
        server.fail_next(1, status=400, message="externalUserId must be a UUID", method="GET")
        verification = self.start(applicant)
        submission.submit_verification(verification.pk)
        verification.refresh_from_db()
        assert verification.status == V.ERROR
        assert "externalUserId must be a UUID" in verification.last_error
        assert server.applicant_count() == 0

    @pytest.mark.django_db
    def test_every_applicant_operation(self, server: FakeAllpass, submitted: Verification) -> None:
        """The backend's calls, and the client's endpoints that no backend method needs (for integrators)."""
        backend = allpass()
        client = backend.client
        ref = self.ref(submitted)
        reference = submitted.applicant.reference
        assert client.get_applicant(ref)["externalUserId"] == reference
        assert client.get_applicant(reference)["id"] == ref
        assert client.applicant_status(reference) == {"id": ref, "status": "INIT"}
        server.decide(ref, "IN_PROGRESS")
        assert client.move_to_flow(ref, server.flows["enhanced-kyc"]) == {"id": ref, "status": "INIT"}
        assert server.applicant(ref)["flow"]["name"] == "enhanced-kyc"
        with pytest.raises(PermanentProviderError, match="not found") as missing:
            client.move_to_flow(ref, "999")
        assert missing.value.status_code == 404

        backend.delete_applicant(submitted.applicant)
        scheduled = server.applicant(ref)["scheduledDeletionDate"]
        assert scheduled
        assert client.schedule_deletion(ref) is not None
        client.restore(reference)  # erasure is undone by our reference, as it was scheduled
        assert server.applicant(ref)["scheduledDeletionDate"] is None
        with pytest.raises(PermanentProviderError, match="not scheduled"):
            client.restore(ref)

        fresh = backend.issue_client_token(submitted)
        assert fresh.token == server.token_for(ref)["accessToken"]
        assert fresh.link.endswith(server.token_for(ref)["transactionId"])

        schema = client.questionnaire("q-onboarding")
        assert (schema["name"], schema["version"]) == ("Onboarding questionnaire", {"number": 1})
        with pytest.raises(PermanentProviderError, match="Questionnaire not found"):
            client.questionnaire("nope")
        assert set(AllpassBackend.capabilities) >= {"hosted_flow", "polling", "webhooks", "crypto_aml", "delete"}
        assert not backend.supports("document_upload")
        assert not backend.supports("aml")

    @pytest.mark.django_db
    def test_erasing_someone_never_sent_to_allpass_is_a_no_op(
        self, server: FakeAllpass, backend: None, applicant: Applicant
    ) -> None:
        allpass().delete_applicant(applicant)
        assert server.calls == [("POST", f"/api/public/applicant/{applicant.reference}/schedule-deletion")]
        server.fail_next(1, status=403, message="Forbidden resource")
        with pytest.raises(PermanentProviderError, match="Forbidden resource"):
            allpass().delete_applicant(applicant)

    @pytest.mark.django_db
    def test_no_token_before_the_submission_task_created_the_applicant(
        self, server: FakeAllpass, backend: None, applicant: Applicant
    ) -> None:
        assert allpass().issue_client_token(self.start(applicant)).token == ""
        assert server.applicant_count() == 0

    @pytest.mark.django_db
    def test_polling_keeps_review_services_and_flow_and_surfaces_reasons(
        self, server: FakeAllpass, submitted: Verification
    ) -> None:
        server.decide(self.ref(submitted), "REJECTED", comment="Document is expired", warnings=["FACE_MISMATCH"])
        polling.poll_verification(submitted.pk)
        submitted.refresh_from_db()
        assert (submitted.status, submitted.provider_status) == (V.DECLINED, "REJECTED")
        assert submitted.reasons == [
            "Document is expired",
            "FACE_MISMATCH",
            "DOCUMENT_CAPTURE: EXPIRED_DOCUMENT",
            "DOCUMENT_CAPTURE: Document expired",
        ]
        kept = submitted.provider_data["allpass"]
        assert kept["review"]["comment"] == "Document is expired"
        assert kept["flow"]["name"] == FLOW
        assert kept["servicesData"][0]["service"] == "DOCUMENT_CAPTURE"
        image = kept["servicesData"][0]["data"]["graphics"][0]["data"][0]["image"]
        assert image.startswith("(image omitted")

    @pytest.mark.django_db
    def test_api_data_sent_encrypted_is_decrypted(self, options: dict[str, Any], applicant: Applicant) -> None:
        fake = FakeAllpass(private_app_key=APP_KEY, crypto_key=CRYPTO_KEY, hmac_key=HMAC_KEY, encrypt_responses=True)
        with fake:
            with self.configured({**options, "BASE_URL": fake.base_url}):
                verification = self.start(applicant)
                submission.submit_verification(verification.pk)
                verification.refresh_from_db()
                assert verification.status == V.AWAITING_USER, verification.last_error
                assert verification.client_link == fake.token_for(verification.provider_applicant_id)["link"]
            with (
                self.configured({**options, "BASE_URL": fake.base_url, "CRYPTO_KEY": NEW_CRYPTO_KEY}),
                pytest.raises(PermanentProviderError, match="cannot decrypt"),
            ):
                allpass().client.get_applicant(verification.provider_applicant_id)

    # --- the envelope ---------------------------------------------------------------------------------
    @staticmethod
    def response(status: int, body: Any) -> requests.Response:
        made = requests.Response()
        made.status_code, made.reason = status, "Reason"
        made._content = body if isinstance(body, bytes) else json.dumps(body).encode()
        return made

    def test_the_envelope_is_unwrapped_in_one_place(self) -> None:
        client = AllpassBackend("e", options_for("https://allpass.invalid")).client
        ok = {"status": True, "statusCode": 200, "data": {"id": "a1"}, "time": "2021-08-20T14:52:33.648Z"}
        assert client.decode(self.response(201, ok)) == {"id": "a1"}
        refused = {"status": False, "statusCode": 403, "message": "Forbidden resource", "data": None}
        with pytest.raises(PermanentProviderError, match="Forbidden resource") as caught:
            client.decode(self.response(200, refused))
        assert caught.value.status_code == 403
        busy = {"status": False, "statusCode": 503, "message": "Service Unavailable", "data": None}
        with pytest.raises(TransientProviderError):
            client.decode(self.response(200, busy))
        with pytest.raises(PermanentProviderError, match="statusCode 200"):
            client.decode(self.response(200, {"status": False, "statusCode": 200, "data": None}))
        for garbage in (b"<html>", b"[]", json.dumps({"id": "a1"}).encode()):
            with pytest.raises(TransientProviderError):
                client.decode(self.response(200, garbage))
        with pytest.raises(PermanentProviderError, match="no CRYPTO_KEY"):
            AllpassBackend("e", {**options_for("https://x.invalid"), "CRYPTO_KEY": None}).client.decode(
                self.response(200, {**ok, "data": "00ff"})
            )

    def test_error_messages_are_read_from_the_envelope(self) -> None:
        validation = {"status": False, "statusCode": 400, "message": ["flowName should not be empty", "x"]}
        assert allpass_error_message(self.response(400, validation)) == "flowName should not be empty; x"
        nested = {"status": False, "statusCode": 404, "data": {"message": "Applicant not found"}}
        assert allpass_error_message(self.response(404, nested)) == "Applicant not found"
        assert allpass_error_message(self.response(401, {"statusCode": 401, "error": "Unauthorized"})) == "Unauthorized"
        assert allpass_error_message(self.response(502, b"<html>")) == "Reason"

    @pytest.mark.django_db
    def test_validation_errors_end_the_submission_with_allpass_message(
        self, server: FakeAllpass, options: dict[str, Any], applicant: Applicant
    ) -> None:
        with self.configured({**options, "FLOW_NAME": "no-such-flow"}):
            verification = self.start(applicant)
            submission.submit_verification(verification.pk)
        verification.refresh_from_db()
        assert verification.status == V.ERROR
        assert "Flow 'no-such-flow' not found" in verification.last_error

    # --- webhooks: the vendor's ordering rule and event handling ----------------------------------------
    @pytest.mark.django_db
    def test_an_older_event_is_ignored_after_a_newer_one(
        self, server: FakeAllpass, submitted: Verification, django_capture_on_commit_callbacks: Any
    ) -> None:
        ref = self.ref(submitted)
        server.decide(ref, "IN_PROGRESS")
        older = server.webhook_for(ref)
        server.decide(ref, "IN_REVIEW")
        newer = server.webhook_for(ref)
        assert self.post(django_capture_on_commit_callbacks, *newer).status_code == 200
        assert self.post(django_capture_on_commit_callbacks, *older).status_code == 200
        submitted.refresh_from_db()
        assert (submitted.status, submitted.provider_status) == (V.REVIEW, "IN_REVIEW")
        stale = WebhookEvent.objects.get(event_type="applicantInProgress")
        assert (stale.state, stale.note) == ("ignored", "stale")
        assert submitted.last_event_at == WebhookEvent.objects.get(event_type="applicantInReview").occurred_at

    @pytest.mark.django_db
    def test_a_newer_event_moves_on_and_carries_warnings(
        self, server: FakeAllpass, submitted: Verification, django_capture_on_commit_callbacks: Any
    ) -> None:
        ref = self.ref(submitted)
        server.decide(ref, "ON_HOLD", warnings=["DUPLICATE_FACE"])
        assert self.post(django_capture_on_commit_callbacks, *server.webhook_for(ref)).status_code == 200
        submitted.refresh_from_db()
        assert (submitted.status, submitted.reasons) == (V.REVIEW, ["DUPLICATE_FACE"])
        assert submitted.provider_data["allpass_event"]["event"] == "applicantOnHold"

    @pytest.mark.django_db
    def test_step_passed_reads_the_applicant(
        self, server: FakeAllpass, submitted: Verification, django_capture_on_commit_callbacks: Any
    ) -> None:
        ref = self.ref(submitted)
        server.applicant(ref)["status"] = "IN_PROGRESS"  # changed without its own webhook
        body, headers = server.webhook_for(ref, event="applicantStepPassed", step_name="DOCUMENT_CAPTURE")
        server.calls.clear()
        assert self.post(django_capture_on_commit_callbacks, body, headers).status_code == 200
        submitted.refresh_from_db()
        assert submitted.status == V.PROCESSING
        assert server.calls == [("GET", f"/api/public/applicant/{ref}")]

    @pytest.mark.django_db
    def test_deliveries_for_another_application_are_refused(
        self, server: FakeAllpass, options: dict[str, Any], submitted: Verification
    ) -> None:
        body, headers = server.webhook_for(self.ref(submitted), "APPROVED")
        webhook = InboundWebhook(body=body, headers=headers)
        with self.configured({**options, "APP_KEY": server.app_key}):
            allpass().authenticate_webhook(webhook)
        with self.configured({**options, "APP_KEY": "another-app"}), pytest.raises(WebhookAuthenticationError):
            allpass().authenticate_webhook(webhook)

    @pytest.mark.django_db
    def test_missing_keys_never_accept_a_delivery(self, server: FakeAllpass, options: dict[str, Any]) -> None:
        envelope = {"status": True, "statusCode": 200, "data": VECTOR_CBC_DATA, "time": "t"}
        webhook = InboundWebhook(body=json.dumps(envelope).encode(), headers={"x-allpass-signature": "ab"})
        with (
            self.configured({**options, "HMAC_KEY": None}),
            pytest.raises(WebhookAuthenticationError, match="HMAC_KEY"),
        ):
            allpass().authenticate_webhook(webhook)
        with self.configured(options), pytest.raises(WebhookSignatureMissing):
            allpass().authenticate_webhook(InboundWebhook(body=webhook.body, headers={}))
        for body in (b"not json", b'{"data": 5}', b'{"data": "zz"}'):
            with self.configured(options), pytest.raises(WebhookAuthenticationError):
                allpass().authenticate_webhook(InboundWebhook(body=body, headers={"x-allpass-signature": "ab"}))

    # --- configuration --------------------------------------------------------------------------------
    @pytest.mark.parametrize(
        ("change", "key"),
        [
            pytest.param({"PRIVATE_APP_KEY": ""}, "PRIVATE_APP_KEY", id="no-key"),
            pytest.param({"BASE_URL": ""}, "BASE_URL", id="no-base-url"),
            pytest.param({"BASE_URL": "allpass.example"}, "BASE_URL", id="relative-base-url"),
            pytest.param({"FLOW_NAME": ""}, "FLOW_NAME", id="no-flow"),
            pytest.param({"WEBHOOK_MODE": "aes"}, "WEBHOOK_MODE", id="mode"),
            pytest.param({"CRYPTO_KEY": "short"}, "CRYPTO_KEY", id="crypto-key"),
            pytest.param({"TOKEN_TTL": 3_153_600_001}, "TOKEN_TTL", id="ttl"),
            pytest.param({"GCM_IV_LENGTH": 8}, "GCM_IV_LENGTH", id="iv"),
            pytest.param({"HMAC_INPUT": "plaintext"}, "HMAC_INPUT", id="hmac-input"),
        ],
    )
    def test_misconfiguration_names_the_key(self, change: dict[str, Any], key: str) -> None:
        with pytest.raises(KycConfigurationError, match=rf'\["OPTIONS"\]\["{key}"\]'):
            AllpassBackend("a", {**options_for("https://allpass.invalid"), **change})
        assert set(AllpassBackend.secret_options) == {"PRIVATE_APP_KEY", "CRYPTO_KEY", "HMAC_KEY"}

    def test_status_tables(self) -> None:
        backend = AllpassBackend("a", options_for("https://allpass.invalid"))
        for raw, expected in self.STATUS_TABLE:
            assert backend.map_status(raw) == expected
        assert backend.map_status("PAUSED") == V.REVIEW
        for event, raw in AllpassBackend.EVENT_TABLE.items():
            assert raw in AllpassBackend.STATUS_MAP, event

    # --- crypto AML -----------------------------------------------------------------------------------
    def check(self, applicant: Applicant, **fields: Any) -> AmlCheck:
        return AmlCheck.objects.create(applicant=applicant, backend=ALIAS, **fields)

    @pytest.mark.django_db
    @pytest.mark.parametrize(
        ("fields", "message"),
        [
            pytest.param(
                {"subject": "wallet", "blockchain": "DOGECOIN", "address": "bc1qgoodwallet0001"}, "blockchain"
            ),
            pytest.param({"subject": "wallet", "blockchain": "", "address": "bc1qgoodwallet0001"}, "blockchain"),
            pytest.param(
                {"subject": "wallet", "blockchain": "BTC", "address": "bc1qgoodwallet0001", "tx_hash": "a" * 64},
                "mutually exclusive",
            ),
            pytest.param({"subject": "transaction", "blockchain": "ETH", "tx_hash": "0x" + "a" * 63}, "64 hexadecimal"),
            pytest.param({"subject": "transaction", "blockchain": "ETH", "tx_hash": "g" * 64}, "64 hexadecimal"),
            pytest.param({"subject": "transaction", "blockchain": "ETH"}, "needs a txHash"),
            pytest.param({"subject": "wallet", "blockchain": "BTC"}, "needs an address"),
            pytest.param({"subject": "wallet", "blockchain": "BTC", "address": "not an address"}, "not a blockchain"),
        ],
    )
    def test_crypto_aml_is_validated_before_any_call(
        self, server: FakeAllpass, backend: None, applicant: Applicant, fields: dict[str, Any], message: str
    ) -> None:
        check = self.check(applicant, **fields)
        server.calls.clear()
        with pytest.raises(PermanentProviderError, match=message):
            allpass().screen(check)
        aml.run_check(check.pk)
        check.refresh_from_db()
        assert check.status == AmlStatus.ERROR
        assert message.split()[0] in check.last_error
        assert server.calls == []

    @pytest.mark.django_db
    def test_person_aml_is_part_of_the_flow(self, server: FakeAllpass, backend: None, applicant: Applicant) -> None:
        with pytest.raises(UnsupportedFeature, match="person AML"):
            allpass().screen(self.check(applicant, subject="applicant"))
        assert server.calls == []

    @pytest.mark.django_db
    def test_risky_wallet_becomes_a_potential_match_with_hits(
        self, server: FakeAllpass, backend: None, applicant: Applicant
    ) -> None:
        check = self.check(applicant, subject="wallet", blockchain="btc", address="bc1qbadwallet7x9z")
        aml.run_check(check.pk)
        check.refresh_from_db()
        assert check.status == AmlStatus.POTENTIAL_MATCH, check.last_error
        assert check.provider_status == "UNKNOWN"
        search = server.aml[check.provider_check_id]
        assert (search["type"], search["blockchain"], search["subject"]) == ("WALLET", "BTC", "bc1qbadwallet7x9z")
        hits = {hit.entity_id: hit for hit in AmlHit.objects.filter(aml_check=check)}
        assert set(hits) == {"ent-darknet", "ent-mixer"}  # the exchange (score 4) is not a hit
        assert (hits["ent-darknet"].caption, hits["ent-darknet"].score) == ("Darknet marketplace", 92)
        assert hits["ent-darknet"].topics == ["dark_market"]
        kept = check.provider_data["allpass_aml"]
        assert kept["score"] == 87
        assert kept["sof"][0]["owner"] == "Darknet marketplace"
        assert kept["uof"][0]["forward"] is True
        assert kept["addressInfo"]["address"] == "bc1qbadwallet7x9z"
        result = allpass().fetch_aml(check)
        assert (result.score, result.risk_level, result.monitored) == (87, "high", True)

    @pytest.mark.django_db
    def test_clean_transaction_is_clear(self, server: FakeAllpass, backend: None, applicant: Applicant) -> None:
        check = self.check(applicant, subject="transaction", blockchain="ETH", tx_hash="0x" + "ab" * 32)
        aml.run_check(check.pk)
        check.refresh_from_db()
        assert check.status == AmlStatus.CLEAR, check.last_error
        assert not AmlHit.objects.filter(aml_check=check).exists()
        assert server.aml[check.provider_check_id]["type"] == "TRANSACTION"
        result = allpass().fetch_aml(check)
        assert (result.score, result.risk_level) == (3, "low")

    @pytest.mark.django_db
    def test_pending_analysis_is_running_then_fetched(
        self, server: FakeAllpass, backend: None, applicant: Applicant
    ) -> None:
        check = self.check(applicant, subject="wallet", blockchain="ETH", address="0xpendingbad00000000")
        aml.run_check(check.pk)
        check.refresh_from_db()
        assert check.status == AmlStatus.RUNNING
        assert check.provider_check_id in server.aml
        server.settle_aml(check.provider_check_id)
        server.calls.clear()
        result = allpass().fetch_aml(check)
        assert result.status == AmlStatus.POTENTIAL_MATCH
        assert server.calls == [("GET", f"/api/public/crypto-aml/{check.provider_check_id}/details")]

    @pytest.mark.django_db
    def test_a_retried_screening_reuses_its_search(
        self, server: FakeAllpass, backend: None, applicant: Applicant, time_machine: Any
    ) -> None:
        from django.utils import timezone

        time_machine.move_to(timezone.now(), tick=False)
        check = self.check(applicant, subject="wallet", blockchain="BTC", address="bc1qgoodwallet0001")
        server.fail_next(0)
        original = server.aml_details

        def fail_once(request: Any) -> Any:
            server.aml_details = original  # type: ignore[method-assign]
            return server.error(503, "busy")

        server.aml_details = fail_once  # type: ignore[method-assign]
        aml.run_check(check.pk)
        check.refresh_from_db()
        assert (check.status, check.attempts) == (AmlStatus.PENDING, 1)
        assert check.provider_check_id  # committed before the details call failed
        time_machine.move_to(check.next_attempt_at, tick=False)
        aml.run_check(check.pk)
        check.refresh_from_db()
        assert check.status == AmlStatus.CLEAR, check.last_error
        assert len(server.aml) == 1


class TestAllpassGcmContract(AllpassHooks):
    """AES-256-GCM: one key, the tag in x-allpass-signature (kept with the stored delivery)."""

    MODE = "gcm"

    def test_gcm_vector(self) -> None:
        assert encrypt_gcm(VECTOR_KEY, VECTOR_PLAINTEXT, bytes(range(12))) == (VECTOR_GCM_DATA, VECTOR_GCM_TAG)
        tag = bytes.fromhex(VECTOR_GCM_TAG)
        assert decrypt_gcm(bytes(range(32)), VECTOR_GCM_DATA, tag, 12) == VECTOR_PLAINTEXT
        with pytest.raises(ValueError, match="tag"):
            decrypt_gcm(bytes(range(32)), VECTOR_GCM_DATA, bytes(16), 12)
        with override_settings(
            DJANGO_KYC={**settings.DJANGO_KYC, "WEBHOOK_HEADER_ALLOWLIST": ["content-type", "x-allpass-signature"]}
        ):
            backend = AllpassBackend(
                "v", options_for("https://allpass.invalid", CRYPTO_KEY=VECTOR_KEY, WEBHOOK_MODE="gcm")
            )
        body = json.dumps(
            {"status": True, "statusCode": 200, "data": VECTOR_GCM_DATA, "time": "2024-05-01T10:00:00.000Z"}
        )
        webhook = InboundWebhook(body=body.encode(), headers={"x-allpass-signature": VECTOR_GCM_TAG})
        backend.authenticate_webhook(webhook)
        (event,) = backend.parse_webhook(webhook)
        assert event.event_id == "6f1c2a9e:applicantApproved:2024-05-01T10:00:00.000Z"

    def test_a_16_byte_iv_is_found_by_the_auto_layout(self) -> None:
        data, tag = encrypt_gcm(VECTOR_KEY, VECTOR_PLAINTEXT, bytes(range(16)))
        with override_settings(
            DJANGO_KYC={**settings.DJANGO_KYC, "WEBHOOK_HEADER_ALLOWLIST": ["content-type", "x-allpass-signature"]}
        ):
            auto = AllpassBackend("v", options_for("https://x.invalid", CRYPTO_KEY=VECTOR_KEY, WEBHOOK_MODE="gcm"))
            fixed = AllpassBackend(
                "v", options_for("https://x.invalid", CRYPTO_KEY=VECTOR_KEY, WEBHOOK_MODE="gcm", GCM_IV_LENGTH=12)
            )
        assert auto.keys.decrypt(data, tag)["id"] == "6f1c2a9e"
        with pytest.raises(ValueError, match="GCM tag"):
            fixed.keys.decrypt(data, tag)

    @pytest.mark.django_db
    def test_the_tag_is_stored_with_the_delivery_so_it_can_be_reprocessed(
        self, server: FakeAllpass, submitted: Verification, django_capture_on_commit_callbacks: Any
    ) -> None:
        """The backend declares the header in ``parse_headers``; the site's allow-list need not name it."""
        from django_kyc.conf import kyc_settings
        from django_kyc.services import webhooks

        assert "x-allpass-signature" not in kyc_settings.WEBHOOK_HEADER_ALLOWLIST
        server.decide(self.ref(submitted), self.APPROVED_OUTCOME)
        body, headers = server.webhook_for(self.ref(submitted))
        from django_q.conf import Conf

        with pytest.MonkeyPatch.context() as patch:
            patch.setattr(Conf, "SYNC", False)  # store only; process by hand below
            assert self.post(django_capture_on_commit_callbacks, body, headers).status_code == 200
        event = WebhookEvent.objects.get()
        assert "x-allpass-signature" in event.headers
        webhooks.process(event.pk)
        submitted.refresh_from_db()
        assert submitted.status == V.APPROVED

    @pytest.mark.django_db
    def test_a_tag_from_another_key_is_refused(
        self, server: FakeAllpass, submitted: Verification, django_capture_on_commit_callbacks: Any
    ) -> None:
        server.crypto_key = NEW_CRYPTO_KEY
        body, headers = server.webhook_for(self.ref(submitted), "APPROVED")
        assert self.post(django_capture_on_commit_callbacks, body, headers).status_code == 403
        assert not WebhookEvent.objects.exists()


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("body", "message"),
    [
        ({"subject": "wallet", "blockchain": "NOPE", "address": "bc1qexample0000000000"}, "not one Allpass accepts"),
        ({"subject": "wallet", "blockchain": "BTC", "address": "not an address!"}, "not a blockchain address"),
    ],
)
def test_api_refuses_a_subject_allpass_cannot_screen_with_a_400(
    make_applicant: Any, user: Any, body: dict[str, str], message: str
) -> None:
    from rest_framework.test import APIClient

    from django_kyc.models import AmlCheck

    backends = {
        **settings.DJANGO_KYC["BACKENDS"],
        "allpass": {
            "CLASS": "django_kyc.backends.allpass.AllpassBackend",
            "OPTIONS": options_for("https://allpass.invalid"),
        },
    }
    client = APIClient()
    client.force_login(user)
    applicant = make_applicant(user=user)
    selectable = [*settings.DJANGO_KYC["USER_SELECTABLE_BACKENDS"], "allpass"]  # the site lets applicants pick it
    with override_settings(
        DJANGO_KYC={**settings.DJANGO_KYC, "BACKENDS": backends, "USER_SELECTABLE_BACKENDS": selectable}
    ):
        response = client.post(
            f"/kyc/api/applicants/{applicant.pk}/aml-checks/", {"backend": "allpass", **body}, format="json"
        )
    assert response.status_code == 400, response.content
    assert message in str(response.json())
    assert not AmlCheck.objects.exists()
