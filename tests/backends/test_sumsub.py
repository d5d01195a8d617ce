"""Sumsub against its fake server, in both flows: the shared contract, plus what only Sumsub has.

The tables are in ``test_sumsub_statuses.py``; the fake's own behaviour in ``tests/testing/test_sumsub_server.py``.
"""

from __future__ import annotations

import hashlib
import io
import json
from datetime import timedelta
from typing import Any

import pytest
from django.core.exceptions import ValidationError
from django.test import Client

from django_kyc.backends import get_backend
from django_kyc.backends.base import InboundWebhook
from django_kyc.backends.sumsub import SumsubBackend, sign, sign_request
from django_kyc.exceptions import (
    KycConfigurationError,
    TransientProviderError,
    UnsupportedFeature,
    WebhookAuthenticationError,
    WebhookSignatureMissing,
)
from django_kyc.models import Applicant, AuditEvent, Document, DocumentFile, Verification, WebhookEvent
from django_kyc.services import polling, submission
from django_kyc.status import VerificationStatus
from django_kyc.testing import FakeProviderServer
from django_kyc.testing.sumsub import FakeSumsub
from tests.backends.contract import ALIAS, BackendContract
from tests.support.files import make_png

V = VerificationStatus
APP_TOKEN = "sbx:contract-app-token"
SECRET_KEY = "contract-secret-key"
WEBHOOK_SECRET = "contract-webhook-secret"
LEVEL = "basic-kyc-level"
BACKEND = "django_kyc.backends.sumsub.SumsubBackend"

#: The worked examples of docs/providers/sumsub.md: request signatures with the secret of Sumsub's own example.
EXAMPLE_SECRET = "Hej2ch71kG2kTd1iIUDZFNsO5C1lh5Gq"
REQUEST_VECTORS = [
    (
        1607551635,
        "POST",
        "/resources/accessTokens?userId=cfd20712-24a2-4c7d-9ab0-146f3c142335&levelName=basic-kyc-level&ttlInSecs=600",
        b"",
        "1e1856be1c1e1ff113e5664acac6b423ffefe04ad42ff36567622ef56f62c4b1",
    ),
    (
        1700000000,
        "POST",
        "/resources/applicants?levelName=basic-kyc-level",
        b'{"externalUserId":"user-123"}',
        "e0f9b8bb9ffc12eecc03eed02a8a0432db93c07a03b60970fc37ddda15f5d33b",
    ),
    (
        1700000000,
        "GET",
        "/resources/applicants/5b594ade0a975a36c9349e66/one",
        b"",
        "bec062e10b6c10028f3b14dc4667a8ffb3a5ee3b993e74f943263343d616cbe2",
    ),
]
#: The webhook worked example: one body, its digest under each algorithm.
WEBHOOK_BODY = (
    b'{"applicantId":"5cb56e8e0a975a35f333cb83","inspectionId":"5cb56e8e0a975a35f333cb84","correlationId":'
    b'"req-a260b669-4f14-4bb5-a4c5-ac0218acb9a4","externalUserId":"user-123","levelName":"basic-kyc-level",'
    b'"type":"applicantReviewed","reviewResult":{"reviewAnswer":"GREEN"},"reviewStatus":"completed",'
    b'"createdAtMs":"2020-02-21 13:23:19.321"}'
)
WEBHOOK_VECTORS = [
    ("HMAC_SHA256_HEX", "0fa43863f20a8ee82d89e34018c76ad017da3809bde4868dbe4a4c7bb0956c5e"),
    (
        "HMAC_SHA512_HEX",
        "58e52e920c5bde5004b5166323699ea9f9269bffc8b9d04014cd3ad1a136044bfb7c3ce5aa029cc35df7d3404c4a0b314798721f4f354d"
        "3d9cab1b9ce4bf392b",
    ),
    ("HMAC_SHA1_HEX", "00ccc0238ccae0201ce7a5362e18f2de1fe55b91"),
]


def backend_for(**options: Any) -> SumsubBackend:
    base = {"APP_TOKEN": "t", "SECRET_KEY": "s", "WEBHOOK_SECRETS": "test_webhook_secret", "LEVEL_NAME": LEVEL}
    return SumsubBackend("sumsub", {**base, **options})


class SumsubHooks(BackendContract):
    """The contract's hooks for Sumsub; the two flows differ only in ``MODE``."""

    backend_class = BACKEND
    server_class = FakeSumsub
    STATUS_TABLE = [
        ("init", V.AWAITING_USER),
        ("pending", V.PROCESSING),
        ("prechecked", V.PROCESSING),
        ("queued", V.PROCESSING),
        ("awaiting_service", V.PROCESSING),
        ("on_hold", V.REVIEW),
        ("approved", V.APPROVED),
        ("resubmission", V.RESUBMISSION_REQUESTED),
        ("declined", V.DECLINED),
        ("red_without_type", V.REVIEW),
    ]
    UNKNOWN_OUTCOME = "unmapped"
    PROGRESS_OUTCOME = "pending"
    APPROVED_OUTCOME = "approved"
    SIGNED = True
    SIGNATURE_HEADER = "X-Payload-Digest"
    TIMESTAMPED = False  # Sumsub signs no timestamp; createdAtMs orders and the event id de-duplicates
    PERMANENT_STATUS = 400
    CREATE_CALL = ("POST", "/resources/applicants")
    #: a lost applicant is found again by our reference (externalUserId)
    FINDS_LOST_CREATES = True
    MODE = "sdk"

    def server_kwargs(self) -> dict[str, Any]:
        return {"app_token": APP_TOKEN, "secret_key": SECRET_KEY, "webhook_secret": WEBHOOK_SECRET, "level_name": LEVEL}

    def backend_options(self, server: FakeProviderServer) -> dict[str, Any]:
        return {
            "APP_TOKEN": APP_TOKEN,
            "SECRET_KEY": SECRET_KEY,
            "WEBHOOK_SECRETS": WEBHOOK_SECRET,
            "LEVEL_NAME": LEVEL,
            "BASE_URL": server.base_url,
            "MODE": self.MODE,
        }

    def wrong_credentials(self, options: dict[str, Any]) -> dict[str, Any]:
        return {**options, "SECRET_KEY": "not-the-secret-key"}

    def rotated(self, options: dict[str, Any], server: FakeProviderServer) -> dict[str, Any]:
        assert isinstance(server, FakeSumsub)
        return {**options, "WEBHOOK_SECRETS": ["the-new-webhook-secret", server.webhook_secret]}


class TestSumsubSdkContract(SumsubHooks):
    """The WebSDK flow: an applicant for the level and an access token; the person is then in Sumsub's hands."""

    SUBMITTED_STATUS = V.AWAITING_USER

    @pytest.mark.django_db
    def test_submission_creates_the_applicant_for_the_level_and_issues_a_token(
        self, server: FakeSumsub, submitted: Verification
    ) -> None:
        (record,) = server.applicants.values()
        assert submitted.provider_applicant_id == submitted.provider_verification_id == record["id"]
        assert record["externalUserId"] == submitted.applicant.reference
        assert record["levelName"] == LEVEL
        assert record["email"] == "jane@example.com"
        assert record["fixedInfo"] == {}  # only for levels with the Applicant data step (SEND_FIXED_INFO)
        (token,) = server.access_tokens
        assert submitted.client_token == token
        assert server.access_tokens[token]["userId"] == submitted.applicant.reference
        assert submitted.client_token_expires_at is not None
        lifetime = submitted.client_token_expires_at - submitted.submitted_at
        assert timedelta(seconds=590) < lifetime <= timedelta(seconds=600)

    @pytest.mark.django_db
    def test_reissued_token_is_a_new_one_with_the_configured_lifetime(
        self, server: FakeSumsub, options: dict[str, Any], applicant: Applicant
    ) -> None:
        with self.configured({**options, "TOKEN_TTL": 1200}):
            verification = self.start(applicant)
            submission.submit_verification(verification.pk)
            verification.refresh_from_db()
            backend = get_backend(ALIAS)
            fresh = backend.issue_client_token(verification)
        assert fresh.token
        assert fresh.token != verification.client_token
        assert server.access_tokens[fresh.token]["userId"] == applicant.reference
        assert fresh.expires_at is not None
        assert verification.client_token_expires_at is not None
        assert fresh.expires_at > verification.client_token_expires_at
        assert len(server.access_tokens) == 2

    @pytest.mark.django_db
    def test_fixed_info_carries_what_the_person_told_us_when_asked_for(
        self, server: FakeSumsub, options: dict[str, Any], applicant: Applicant
    ) -> None:
        Applicant.objects.filter(pk=applicant.pk).update(country="ie")
        applicant.refresh_from_db()
        with self.configured({**options, "SEND_FIXED_INFO": True}):
            verification = self.start(applicant)
            submission.submit_verification(verification.pk)
        (record,) = server.applicants.values()
        assert record["fixedInfo"] == {
            "firstName": "Jane",
            "lastName": "Smith",
            "dob": "1990-02-03",
            "country": "IRL",
            "nationality": "GBR",
        }

    @pytest.mark.django_db
    def test_the_client_token_endpoint_reissues_an_expired_token(
        self, server: FakeSumsub, submitted: Verification, user: Any, time_machine: Any
    ) -> None:
        client = Client()
        client.force_login(user)
        url = f"/kyc/api/verifications/{submitted.pk}/client-token/"
        assert client.post(url).json()["token"] == submitted.client_token  # still valid: kept
        assert submitted.client_token_expires_at is not None
        time_machine.move_to(submitted.client_token_expires_at + timedelta(seconds=1))
        answer = client.post(url).json()
        assert answer["token"] != submitted.client_token
        assert answer["token"] in server.access_tokens
        assert answer["expires_at"]
        assert len(server.access_tokens) == 2

    @pytest.mark.django_db
    def test_an_applicant_sumsub_already_has_is_reused(
        self, server: FakeSumsub, backend: None, applicant: Applicant
    ) -> None:
        """A second verification of the same person (or a first one after our database lost its ids) finds the
        applicant by externalUserId instead of meeting Sumsub's duplicate refusal."""
        first = self.start(applicant)
        submission.submit_verification(first.pk)
        first.refresh_from_db()
        Verification.objects.filter(pk=first.pk).update(status=V.CANCELLED)
        second = self.start(applicant)
        submission.submit_verification(second.pk)
        second.refresh_from_db()
        assert second.status == V.AWAITING_USER, second.last_error
        assert second.provider_applicant_id == first.provider_applicant_id
        assert server.applicant_count() == 1

    @pytest.mark.django_db
    def test_every_request_is_signed_and_a_wrong_level_is_sumsubs_404(
        self, server: FakeSumsub, options: dict[str, Any], applicant: Applicant
    ) -> None:
        with self.configured({**options, "LEVEL_NAME": "no-such-level"}):
            verification = self.start(applicant)
            submission.submit_verification(verification.pk)
        verification.refresh_from_db()
        assert verification.status == V.ERROR
        assert "Level 'no-such-level' not found" in verification.last_error

    @pytest.mark.django_db
    def test_wrong_secret_is_refused_with_sumsubs_description(
        self, server: FakeSumsub, options: dict[str, Any], applicant: Applicant
    ) -> None:
        with self.configured(self.wrong_credentials(options)):
            verification = self.start(applicant)
            submission.submit_verification(verification.pk)
        verification.refresh_from_db()
        assert "Invalid signature" in verification.last_error

    @pytest.mark.django_db
    def test_polling_fetches_the_review(self, server: FakeSumsub, submitted: Verification) -> None:
        server.decide(submitted.provider_applicant_id, "resubmission")
        polling.poll_verification(submitted.pk)
        submitted.refresh_from_db()
        assert submitted.status == V.RESUBMISSION_REQUESTED
        assert submitted.provider_status == "completed/RED/RETRY"
        assert submitted.provider_data["sumsub"]["reason_codes"] == ["DOCUMENT_UNREADABLE"]
        assert list(submitted.reasons) == ["UNSATISFACTORY_PHOTOS", "SCREENSHOTS"]

    @pytest.mark.django_db
    def test_a_red_review_after_an_approval_is_kept_for_a_person(
        self, server: FakeSumsub, submitted: Verification, django_capture_on_commit_callbacks: Any
    ) -> None:
        """Sumsub may approve and later block the same applicant with a second, RED, review. An approval is
        final here until a person revokes it, so the later review is stored in the inbox, marked ignored, for
        that person to find; it never flips the decision by itself."""
        ref = submitted.provider_applicant_id
        assert self.post(django_capture_on_commit_callbacks, *server.webhook_for(ref, "approved")).status_code == 200
        assert self.post(django_capture_on_commit_callbacks, *server.webhook_for(ref, "declined")).status_code == 200
        submitted.refresh_from_db()
        assert (submitted.status, submitted.provider_status) == (V.APPROVED, "completed/GREEN")
        assert list(WebhookEvent.objects.order_by("received_at").values_list("state", flat=True)) == [
            "processed",
            "ignored",
        ]

    @pytest.mark.django_db
    @pytest.mark.parametrize("algorithm", ["HMAC_SHA1_HEX", "HMAC_SHA256_HEX", "HMAC_SHA512_HEX"])
    def test_each_digest_algorithm_is_accepted(
        self, server: FakeSumsub, submitted: Verification, algorithm: str, django_capture_on_commit_callbacks: Any
    ) -> None:
        server.digest_algorithm = algorithm
        body, headers = server.webhook_for(submitted.provider_applicant_id, "approved")
        assert headers["X-Payload-Digest-Alg"] == algorithm
        assert self.post(django_capture_on_commit_callbacks, body, headers).status_code == 200
        submitted.refresh_from_db()
        assert submitted.status == V.APPROVED

    @pytest.mark.django_db
    def test_a_digest_under_another_algorithm_than_named_is_refused(
        self, server: FakeSumsub, submitted: Verification, django_capture_on_commit_callbacks: Any
    ) -> None:
        body, headers = server.webhook_for(submitted.provider_applicant_id, "approved")
        headers = {**headers, "X-Payload-Digest-Alg": "HMAC_SHA512_HEX"}
        assert self.post(django_capture_on_commit_callbacks, body, headers).status_code == 403
        assert not WebhookEvent.objects.exists()

    @pytest.mark.django_db
    def test_test_deliveries_and_deletion_notices_are_acknowledged_and_ignored(
        self, server: FakeSumsub, submitted: Verification, django_capture_on_commit_callbacks: Any
    ) -> None:
        for extra in ({"testMode": True, "type": "applicantReviewed"}, {"type": "applicantDeleted"}):
            body = json.dumps({"applicantId": submitted.provider_applicant_id, **extra}).encode()
            response = self.post(django_capture_on_commit_callbacks, body, server.webhook_headers(body))
            assert response.status_code == 200
        assert not WebhookEvent.objects.exists()

    @pytest.mark.django_db
    def test_reviewer_decisions_are_pushed_as_approve_and_reject(
        self, server: FakeSumsub, options: dict[str, Any], applicant: Applicant
    ) -> None:
        with self.configured({**options, "PUSH_DECISIONS": True}):
            verification = self.start(applicant)
            submission.submit_verification(verification.pk)
            verification.refresh_from_db()
            backend = get_backend(ALIAS)
            backend.push_decision(verification, V.DECLINED, "document looks edited", "DOCUMENT_EDITED")
            review = server.applicants[verification.provider_applicant_id]["review"]
            assert review["reviewResult"]["rejectLabels"] == ["EXTERNAL_DECISION_REJECTION"]
            assert review["reviewResult"]["clientComment"] == "DOCUMENT_EDITED document looks edited"
            backend.push_decision(verification, V.APPROVED)
            assert review["reviewResult"]["reviewAnswer"] == "GREEN"
            calls = len(server.calls)
            backend.push_decision(verification, V.REVIEW)  # no Sumsub counterpart: nothing sent
            assert len(server.calls) == calls

    @pytest.mark.django_db
    def test_documents_captured_in_the_websdk_are_reported_once_reviewed(
        self, server: FakeSumsub, submitted: Verification, django_capture_on_commit_callbacks: Any
    ) -> None:
        ref = submitted.provider_applicant_id
        image_id = server.capture(ref, "DRIVERS", "FRA")
        server.decide(ref, "approved")
        assert self.post(django_capture_on_commit_callbacks, *server.webhook_for(ref)).status_code == 200
        captured = Document.objects.get(applicant=submitted.applicant, provider_document_id=image_id)
        assert (captured.type, captured.issuing_country, captured.status) == ("driving_licence", "FR", "accepted")
        ours = Document.objects.get(applicant=submitted.applicant, type="passport")
        assert ours.status == "uploaded"  # never sent: the WebSDK captured its own

    @pytest.mark.django_db
    def test_api_mode_features_are_unsupported(self, server: FakeSumsub, submitted: Verification) -> None:
        backend = get_backend(ALIAS)
        assert backend.supports("hosted_flow")
        assert not backend.supports("document_upload")


class TestSumsubApiContract(SumsubHooks):
    """The direct flow: our documents as ID documents, then the check is requested."""

    MODE = "api"
    SUBMITTED_STATUS = V.PROCESSING
    #: ``init`` is where a submitted applicant came from: after the check was requested it is no news
    STATUS_TABLE = [row for row in SumsubHooks.STATUS_TABLE if row[0] != "init"]

    @staticmethod
    def add_file(document: Document, side: str, content: bytes) -> None:
        row = DocumentFile(
            document=document, side=side, sha256=hashlib.sha256(content).hexdigest(), content_type="image/png", size=1
        )
        row.file.save(f"{side}.png", io.BytesIO(content), save=False)
        row.save()

    @pytest.mark.django_db
    def test_documents_are_sent_with_their_metadata_and_the_check_requested(
        self, server: FakeSumsub, backend: None, applicant: Applicant
    ) -> None:
        card = Document.objects.create(
            applicant=applicant, type="id_card", number="ID-7", issuing_country="DE", expiry_date="2031-01-02"
        )
        for side in ("back", "front"):
            self.add_file(card, side, make_png())
        verification = self.start(applicant)
        submission.submit_verification(verification.pk)
        verification.refresh_from_db()
        assert verification.status == V.PROCESSING, verification.last_error
        record = server.applicants[verification.provider_applicant_id]
        assert record["review"]["reviewStatus"] == "pending"
        metadata = sorted((image["metadata"] for image in server.images.values()), key=json.dumps)
        assert metadata == [
            {
                "idDocType": "ID_CARD",
                "country": "DEU",
                "number": "ID-7",
                "validUntil": "2031-01-02",
                "idDocSubType": "BACK_SIDE",
            },
            {
                "idDocType": "ID_CARD",
                "country": "DEU",
                "number": "ID-7",
                "validUntil": "2031-01-02",
                "idDocSubType": "FRONT_SIDE",
            },
            {"idDocType": "PASSPORT", "country": "GBR", "number": "X1234567"},
        ]
        assert {image["filename"] for image in server.images.values()} == {"single.png", "front.png", "back.png"}
        # stored encrypted, sent as the image itself
        assert {image["sha256"] for image in server.images.values()} == {hashlib.sha256(make_png()).hexdigest()}
        assert set(verification.provider_data["sumsub_images"].values()) == set(server.images)
        for document in Document.objects.filter(applicant=applicant):
            assert document.provider_document_id in server.images
            assert document.status == "submitted"

    @pytest.mark.django_db
    @pytest.mark.parametrize(
        ("outcome", "document_status", "reasons"),
        [
            ("approved", "accepted", []),
            ("resubmission", "resubmission_requested", ["UNSATISFACTORY_PHOTOS", "SCREENSHOTS"]),
            ("declined", "rejected", ["FORGERY"]),
            ("pending", "submitted", []),
        ],
    )
    def test_each_steps_verdict_reaches_our_documents(
        self,
        server: FakeSumsub,
        submitted: Verification,
        outcome: str,
        document_status: str,
        reasons: list[str],
        django_capture_on_commit_callbacks: Any,
    ) -> None:
        ref = submitted.provider_applicant_id
        assert self.post(django_capture_on_commit_callbacks, *server.webhook_for(ref, outcome)).status_code == 200
        (document,) = Document.objects.filter(applicant=submitted.applicant)
        assert (document.status, list(document.reasons)) == (document_status, reasons)
        fetched = [path for method, path in server.calls if path.endswith("/requiredIdDocsStatus")]
        assert len(fetched) == (0 if outcome == "pending" else 1)  # read only once the review is completed

    @pytest.mark.django_db
    def test_a_resubmission_sends_the_new_document_to_the_same_applicant(
        self, server: FakeSumsub, submitted: Verification, django_capture_on_commit_callbacks: Any
    ) -> None:
        ref = submitted.provider_applicant_id
        assert (
            self.post(django_capture_on_commit_callbacks, *server.webhook_for(ref, "resubmission")).status_code == 200
        )
        submitted.refresh_from_db()
        assert submitted.status == V.RESUBMISSION_REQUESTED
        retake = Document.objects.create(applicant=submitted.applicant, type="passport", issuing_country="GB")
        self.add_file(retake, "single", make_png())
        again = self.start(submitted.applicant)
        submission.submit_verification(again.pk)
        again.refresh_from_db()
        assert again.status == V.PROCESSING, again.last_error
        assert again.provider_applicant_id == ref
        assert server.applicant_count() == 1
        assert len(server.images) == 2  # the first upload and the retake; the unusable one is not sent again
        retake.refresh_from_db()
        assert retake.provider_document_id in server.images
        assert server.applicants[ref]["review"]["attemptCnt"] == 2

    @pytest.mark.django_db
    def test_a_lost_check_request_is_recognised_by_the_review_status(
        self, server: FakeSumsub, backend: None, applicant: Applicant, time_machine: Any
    ) -> None:
        from django.utils import timezone

        time_machine.move_to(timezone.now(), tick=False)
        server.fail_next(1, kind="lost", method="POST", path=r"/resources/applicants/[^/]+/status/pending")
        verification = self.start(applicant)
        submission.submit_verification(verification.pk)
        verification.refresh_from_db()
        assert verification.status == V.PENDING
        time_machine.move_to(verification.next_attempt_at, tick=False)
        submission.submit_verification(verification.pk)
        verification.refresh_from_db()
        assert verification.status == V.PROCESSING, verification.last_error
        assert verification.provider_data["sumsub_check_requested"] is True
        assert (server.applicant_count(), len(server.images)) == (1, 1)

    @pytest.mark.django_db
    def test_a_lost_image_upload_is_reported_as_a_possible_duplicate(
        self, server: FakeSumsub, backend: None, applicant: Applicant, time_machine: Any
    ) -> None:
        from django.utils import timezone

        time_machine.move_to(timezone.now(), tick=False)
        server.fail_next(1, kind="lost", method="POST", path=r".*/info/idDoc")
        verification = self.start(applicant)
        submission.submit_verification(verification.pk)
        verification.refresh_from_db()
        time_machine.move_to(verification.next_attempt_at, tick=False)
        submission.submit_verification(verification.pk)
        verification.refresh_from_db()
        assert verification.status == V.PROCESSING, verification.last_error
        assert len(server.images) == 2  # Sumsub keeps every image it was sent
        (row,) = AuditEvent.objects.filter(object_id=str(verification.pk), action="possible_duplicate")
        assert row.data["call"].endswith("/info/idDoc")

    @pytest.mark.django_db
    @pytest.mark.parametrize(
        ("document", "rule"),
        [
            ({"type": "other", "issuing_country": "GB"}, "Sumsub has no document type for 'other' documents"),
            ({"type": "passport", "issuing_country": ""}, "Sumsub needs the issuing country of every document"),
            ({"type": "id_card", "issuing_country": "GB"}, "only with both sides (FRONT_SIDE and BACK_SIDE)"),
        ],
    )
    def test_a_document_sumsub_will_not_take_is_refused_with_a_400_before_anything_is_sent(
        self,
        server: FakeSumsub,
        backend: None,
        make_applicant: Any,
        user: Any,
        document: dict[str, str],
        rule: str,
    ) -> None:
        applicant = make_applicant(user=user, with_document=False)
        self.add_file(Document.objects.create(applicant=applicant, **document), "front", make_png())
        with pytest.raises(ValidationError) as refused:
            self.start(applicant)
        assert rule in refused.value.messages[0]
        assert not Verification.objects.filter(applicant=applicant).exists()
        client = Client()
        client.force_login(user)
        response = client.post(f"/kyc/api/applicants/{applicant.pk}/verifications/", {})  # ALIAS is the default
        assert response.status_code == 400, response.content
        assert rule in response.content.decode()
        assert server.calls == []

    @pytest.mark.django_db
    def test_a_selfie_without_issuing_country_is_sent_with_the_applicants_country(
        self, server: FakeSumsub, backend: None, make_applicant: Any, user: Any
    ) -> None:
        applicant = make_applicant(user=user, with_document=False, country="PT")
        self.add_file(Document.objects.create(applicant=applicant, type="selfie"), "single", make_png())
        verification = self.start(applicant)
        submission.submit_verification(verification.pk)
        verification.refresh_from_db()
        assert verification.status == V.PROCESSING, verification.last_error
        ((_image_id, image),) = server.images.items()
        assert image["metadata"] == {"idDocType": "SELFIE", "country": "PRT"}

    @pytest.mark.django_db
    def test_one_sided_cards_are_sent_when_the_level_accepts_them(
        self, server: FakeSumsub, options: dict[str, Any], make_applicant: Any, user: Any
    ) -> None:
        applicant = make_applicant(user=user, with_document=False)
        self.add_file(
            Document.objects.create(applicant=applicant, type="id_card", issuing_country="FR"), "single", make_png()
        )
        with self.configured({**options, "REQUIRE_BOTH_SIDES": False}):
            verification = self.start(applicant)
            submission.submit_verification(verification.pk)
        verification.refresh_from_db()
        assert verification.status == V.PROCESSING, verification.last_error
        ((_image_id, image),) = server.images.items()
        assert image["metadata"] == {"idDocType": "ID_CARD", "country": "FRA"}

    @pytest.mark.django_db
    def test_sumsubs_refusal_of_a_check_without_documents_ends_in_error(
        self, server: FakeSumsub, backend: None, make_applicant: Any, user: Any
    ) -> None:
        applicant = make_applicant(user=user, with_document=False)
        verification = self.start(applicant)
        submission.submit_verification(verification.pk)
        verification.refresh_from_db()
        assert verification.status == V.ERROR
        assert "Not all required documents or data are submitted" in verification.last_error

    @pytest.mark.django_db
    def test_no_client_tokens_in_api_mode(self, server: FakeSumsub, submitted: Verification) -> None:
        with pytest.raises(UnsupportedFeature):
            get_backend(ALIAS).issue_client_token(submitted)


# --- the recipes against their worked examples -----------------------------------------------------------
@pytest.mark.parametrize(("timestamp", "method", "target", "body", "expected"), REQUEST_VECTORS)
def test_request_signature_matches_the_worked_examples(
    timestamp: int, method: str, target: str, body: bytes, expected: str
) -> None:
    assert sign_request(EXAMPLE_SECRET, timestamp, method, target, body) == expected


def test_the_client_signs_the_target_and_body_it_sends(monkeypatch: pytest.MonkeyPatch) -> None:
    """The docs' second example, sent through the client and checked by the fake: signed as it leaves, over the
    bytes on the wire (the fake's clock window is opened wide for the example's 2023 timestamp)."""
    monkeypatch.setattr("django_kyc.testing.sumsub.state.CLOCK_TOLERANCE", 10**10)
    with FakeSumsub(app_token="t", secret_key=EXAMPLE_SECRET) as fake:
        options = {"APP_TOKEN": "t", "SECRET_KEY": EXAMPLE_SECRET, "WEBHOOK_SECRETS": "w", "LEVEL_NAME": LEVEL}
        backend = SumsubBackend("sumsub", {**options, "BASE_URL": fake.base_url})
        backend.client.auth.clock = lambda: 1700000000.0
        response = backend.client.call(
            "POST", "/resources/applicants", query={"levelName": LEVEL}, json_body={"externalUserId": "user-123"}
        )
    assert response.json()["externalUserId"] == "user-123"
    sent = response.request
    assert (sent.path_url, sent.body) == (
        "/resources/applicants?levelName=basic-kyc-level",
        b'{"externalUserId":"user-123"}',
    )
    assert sent.headers["X-App-Access-Ts"] == "1700000000"
    assert sent.headers["X-App-Access-Sig"] == REQUEST_VECTORS[1][4]


def test_sumsubs_rate_limits_are_declared_and_enforced_by_the_client() -> None:
    assert [(limit.calls, limit.per_seconds, limit.methods) for limit in SumsubBackend.rate_limits] == [
        (300, 5, ("GET",)),
        (50, 5, ("POST",)),
    ]
    limiter = backend_for().client.rate_limiter
    assert limiter is not None
    assert tuple(limiter.limits) == SumsubBackend.rate_limits
    raised = backend_for(RATE_LIMIT_GET=600, RATE_LIMIT_POST=100).client.rate_limiter
    assert raised is not None
    assert [(limit.calls, limit.methods) for limit in raised.limits] == [(600, ("GET",)), (100, ("POST",))]


def test_a_post_over_budget_is_held_back() -> None:
    """Two POSTs allowed per 5 s: the third of a burst is not sent into Sumsub's 429 but retried later (no wait
    allowed here); GETs count against their own budget."""
    with FakeSumsub(app_token="t", secret_key="s", level_name="") as fake:
        options = {"APP_TOKEN": "t", "SECRET_KEY": "s", "WEBHOOK_SECRETS": "w", "LEVEL_NAME": LEVEL}
        backend = SumsubBackend("sumsub", {**options, "BASE_URL": fake.base_url, "RATE_LIMIT_POST": 2})
        limiter = backend.client.rate_limiter
        assert limiter is not None
        limiter.clock = lambda: 1000.0  # one window for the whole burst
        limiter.max_wait = 0.0
        backend.client.create_applicant(LEVEL, {"externalUserId": "a"})
        backend.client.create_applicant(LEVEL, {"externalUserId": "b"})
        with pytest.raises(TransientProviderError) as over:
            backend.client.create_applicant(LEVEL, {"externalUserId": "c"})
        assert over.value.retry_after
        assert fake.applicant_count() == 2
        backend.client.review_status(next(iter(fake.applicants)))  # GETs have their own budget


@pytest.mark.parametrize(("algorithm", "digest"), WEBHOOK_VECTORS)
def test_webhook_digest_matches_the_worked_example(algorithm: str, digest: str) -> None:
    assert sign(WEBHOOK_BODY, "test_webhook_secret", algorithm) == digest
    webhook = InboundWebhook(WEBHOOK_BODY, {"X-Payload-Digest": digest.upper(), "X-Payload-Digest-Alg": algorithm})
    backend_for().authenticate_webhook(webhook)


def test_webhook_without_algorithm_header_uses_the_configured_default() -> None:
    sha1 = dict(WEBHOOK_VECTORS)["HMAC_SHA1_HEX"]
    webhook = InboundWebhook(WEBHOOK_BODY, {"X-Payload-Digest": sha1})
    with pytest.raises(WebhookAuthenticationError):
        backend_for().authenticate_webhook(webhook)  # SHA-256 assumed
    backend_for(WEBHOOK_DEFAULT_ALGORITHM="HMAC_SHA1_HEX").authenticate_webhook(webhook)


def test_webhook_refusals() -> None:
    digest = dict(WEBHOOK_VECTORS)["HMAC_SHA256_HEX"]
    backend = backend_for()
    with pytest.raises(WebhookSignatureMissing):
        backend.authenticate_webhook(InboundWebhook(WEBHOOK_BODY, {"X-Payload-Digest-Alg": "HMAC_SHA256_HEX"}))
    with pytest.raises(WebhookAuthenticationError, match="is not one Sumsub documents"):
        backend.authenticate_webhook(
            InboundWebhook(WEBHOOK_BODY, {"X-Payload-Digest": digest, "X-Payload-Digest-Alg": "MD5"})
        )
    with pytest.raises(WebhookAuthenticationError):
        backend.authenticate_webhook(InboundWebhook(WEBHOOK_BODY + b" ", {"X-Payload-Digest": digest}))
    with pytest.raises(WebhookAuthenticationError):
        backend_for(WEBHOOK_SECRETS="another").authenticate_webhook(
            InboundWebhook(WEBHOOK_BODY, {"X-Payload-Digest": digest})
        )


def test_webhook_event_is_keyed_on_signed_fields_and_fetched_before_it_is_applied() -> None:
    (event,) = backend_for().parse_webhook(InboundWebhook(WEBHOOK_BODY, {}))
    assert event.event_id == "applicantReviewed:5cb56e8e0a975a35f333cb83:2020-02-21 13:23:19.321"
    assert event.provider_ref == "5cb56e8e0a975a35f333cb83"
    assert event.state is None
    assert event.claim == ""
    assert event.occurred_at is not None
    assert event.occurred_at.isoformat() == "2020-02-21T13:23:19.321000+00:00"


def test_options_are_checked() -> None:
    with pytest.raises(KycConfigurationError, match="LEVEL_NAME"):
        SumsubBackend("sumsub", {"APP_TOKEN": "t", "SECRET_KEY": "s", "WEBHOOK_SECRETS": "w"})
    with pytest.raises(KycConfigurationError, match="MODE"):
        backend_for(MODE="form")
    with pytest.raises(KycConfigurationError, match="WEBHOOK_DEFAULT_ALGORITHM"):
        backend_for(WEBHOOK_DEFAULT_ALGORITHM="MD5")
