"""Veriff against its fake server, in both flows: the shared contract, plus what only Veriff has.

The tables are in ``test_veriff_statuses.py``; the fake's own behaviour in ``tests/testing/test_veriff_server.py``.
"""

from __future__ import annotations

import hashlib
import io
import json
from collections.abc import Iterator
from datetime import UTC, datetime
from typing import Any, cast

import pytest
from django.core.cache import caches
from django.core.exceptions import ValidationError
from django.test import Client

from django_kyc.backends import get_backend
from django_kyc.backends.base import InboundWebhook
from django_kyc.backends.ratelimit import RateLimit
from django_kyc.backends.veriff import VERIFF_IPS, VeriffBackend, sign
from django_kyc.conf import kyc_settings
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
from django_kyc.testing.veriff import FakeVeriff
from tests.backends.contract import ALIAS, BackendContract
from tests.support.files import make_pdf, make_png

V = VerificationStatus
API_KEY = "contract-api-key"
SHARED_SECRET = "contract-shared-secret"
BACKEND = "django_kyc.backends.veriff.VeriffBackend"

#: The worked examples of docs/providers/veriff.md (shared secret, signed material, X-HMAC-SIGNATURE).
EXAMPLE_SECRET = "abcdef12-abcd-abcd-abcd-abcdef012345"
VECTORS = [
    (
        b'{"verification":{"callback":"https://example.com/return","vendorData":"user-123","endUserId":'
        b'"c1de400b-1877-4eba-9a49-8e5e4d6d2b2f"}}',
        "1c0b464e7ba134e83a0e79f2241514b4410934830d3da386b228e7a252a50463",
    ),
    (b'{"verification":{"status":"submitted"}}', "431804d39503a5600eb3a57c1bb6403cba06b3b243593e2619868e17eb22b277"),
    (b"fd5c1563-1d23-4b1a-ae46-7ba429927ed8", "45d91008bb78bf2cf33de34ac81a3350b69f746ad788136a142a9510d204cfb4"),
    (
        b'{"status":"success","verification":{"id":"fd5c1563-1d23-4b1a-ae46-7ba429927ed8","code":9001,'
        b'"status":"approved","vendorData":"user-123"}}',
        "88c264c030c60818288a5a5a08d8020f07779a26bb2cc3e5c741d027089fae87",
    ),
]


@pytest.fixture(autouse=True)
def fresh_rate_budgets() -> Iterator[None]:
    """The deletion budget is counted in the shared cache per alias: every test starts with a full one."""
    cache = caches[kyc_settings.PROVIDER_RATE_LIMIT_CACHE]
    cache.clear()
    yield
    cache.clear()


def backend_for(**options: Any) -> VeriffBackend:
    return VeriffBackend("veriff", {"API_KEY": API_KEY, "SHARED_SECRETS": SHARED_SECRET, **options})


class VeriffHooks(BackendContract):
    """The contract's hooks for Veriff; the two flows differ only in ``MODE``."""

    backend_class = BACKEND
    server_class = FakeVeriff
    STATUS_TABLE = [
        ("started", V.AWAITING_USER),
        ("submitted", V.PROCESSING),
        ("approved", V.APPROVED),
        ("declined", V.DECLINED),
        ("resubmission_requested", V.RESUBMISSION_REQUESTED),
        ("expired", V.EXPIRED),
        ("abandoned", V.EXPIRED),
        ("review", V.REVIEW),
    ]
    UNKNOWN_OUTCOME = "inflow_completed"
    PROGRESS_OUTCOME = "submitted"
    APPROVED_OUTCOME = "approved"
    SIGNED = True
    SIGNATURE_HEADER = "X-HMAC-SIGNATURE"
    TIMESTAMPED = False  # Veriff signs no timestamp; signed session, attempt and decision time de-duplicate
    PERMANENT_STATUS = 400
    CREATE_CALL = ("POST", "/v1/sessions")
    #: Veriff has no lookup of sessions by vendorData: a lost session is reported as a possible duplicate
    FINDS_LOST_CREATES = False
    MODE = "hosted"

    def server_kwargs(self) -> dict[str, Any]:
        return {"api_key": API_KEY, "shared_secret": SHARED_SECRET}

    def backend_options(self, server: FakeProviderServer) -> dict[str, Any]:
        return {"API_KEY": API_KEY, "SHARED_SECRETS": SHARED_SECRET, "BASE_URL": server.base_url, "MODE": self.MODE}

    def wrong_credentials(self, options: dict[str, Any]) -> dict[str, Any]:
        return {**options, "API_KEY": "not-the-api-key"}

    def rotated(self, options: dict[str, Any], server: FakeProviderServer) -> dict[str, Any]:
        """Mid-rotation the old secret still signs our requests (Veriff holds it until the switch); deliveries
        signed with either are accepted."""
        assert isinstance(server, FakeVeriff)
        return {**options, "SHARED_SECRETS": [server.shared_secret, "the-new-shared-secret"]}


class TestVeriffHostedContract(VeriffHooks):
    """The hosted flow: a session and its link; the person is then in Veriff's hands."""

    SUBMITTED_STATUS = V.AWAITING_USER

    @pytest.mark.django_db
    def test_submission_creates_a_session_with_our_ids_and_hands_out_its_link(
        self, server: FakeVeriff, submitted: Verification
    ) -> None:
        session = server.sessions[submitted.provider_verification_id]
        assert session["vendorData"] == str(submitted.pk)
        assert session["endUserId"] == str(submitted.applicant.pk)
        assert session["person"] == {"firstName": "Jane", "lastName": "Smith", "dateOfBirth": "1990-02-03"}
        assert submitted.client_link == f"{server.base_url}/v/{session['id']}"
        assert submitted.client_token_expires_at is not None
        lifetime = submitted.client_token_expires_at - submitted.created_at
        assert 7 * 24 * 3600 - 60 < lifetime.total_seconds() <= 7 * 24 * 3600 + 60
        assert server.calls == [("POST", "/v1/sessions")]

    @pytest.mark.django_db
    def test_the_link_is_reissued_for_the_same_session(self, server: FakeVeriff, submitted: Verification) -> None:
        token = get_backend(ALIAS).issue_client_token(submitted)
        assert token.link == submitted.client_link
        assert token.expires_at == submitted.client_token_expires_at
        assert server.applicant_count() == 1

    @pytest.mark.django_db
    def test_polling_reads_the_decision_and_waits_while_there_is_none(
        self, server: FakeVeriff, submitted: Verification
    ) -> None:
        polling.poll_verification(submitted.pk)
        submitted.refresh_from_db()
        assert submitted.status == V.AWAITING_USER
        server.decide(submitted.provider_verification_id, "declined")
        polling.poll_verification(submitted.pk)
        submitted.refresh_from_db()
        assert (submitted.status, submitted.provider_status) == (V.DECLINED, "declined")
        assert submitted.reasons == ["102: Suspected document tampering"]
        assert submitted.provider_data["veriff"]["reason_codes"] == ["DOCUMENT_EDITED"]
        assert ("GET", f"/v1/sessions/{submitted.provider_verification_id}/decision") in server.calls

    @pytest.mark.django_db
    def test_a_decision_webhook_is_applied_from_the_fetched_decision(
        self, server: FakeVeriff, submitted: Verification, django_capture_on_commit_callbacks: Any
    ) -> None:
        ref = submitted.provider_verification_id
        server.decide(ref, "resubmission_requested")
        stale = server.webhook_for(ref)
        server.decide(ref, "approved")  # the person resubmitted in the same session and passed
        assert self.post(django_capture_on_commit_callbacks, *stale).status_code == 200
        submitted.refresh_from_db()
        assert submitted.status == V.APPROVED  # the late delivery named an older decision: the current one won
        assert WebhookEvent.objects.get().event_type == "decision:resubmission_requested"

    @pytest.mark.django_db
    def test_an_event_webhook_moves_the_verification_without_a_call(
        self, server: FakeVeriff, submitted: Verification, django_capture_on_commit_callbacks: Any
    ) -> None:
        server.decide(submitted.provider_verification_id, "submitted")
        calls = len(server.calls)
        body, headers = server.webhook_for(submitted.provider_verification_id)
        assert json.loads(body)["action"] == "submitted"
        assert self.post(django_capture_on_commit_callbacks, body, headers).status_code == 200
        submitted.refresh_from_db()
        assert (submitted.status, submitted.provider_status) == (V.PROCESSING, "submitted")
        assert len(server.calls) == calls

    @pytest.mark.django_db
    def test_other_webhook_kinds_are_acknowledged_and_ignored(
        self, server: FakeVeriff, submitted: Verification, django_capture_on_commit_callbacks: Any
    ) -> None:
        body = json.dumps({"checkType": "updated_result", "attemptId": "a", "vendorData": "x"}).encode()
        response = self.post(django_capture_on_commit_callbacks, body, server.webhook_headers(body))
        assert response.status_code == 200
        assert not WebhookEvent.objects.exists()

    @pytest.mark.django_db
    def test_a_delivery_naming_another_integration_is_refused(
        self, server: FakeVeriff, submitted: Verification, django_capture_on_commit_callbacks: Any
    ) -> None:
        server.decide(submitted.provider_verification_id, "approved")
        body, headers = server.webhook_for(submitted.provider_verification_id)
        response = self.post(django_capture_on_commit_callbacks, body, {**headers, "X-AUTH-CLIENT": "someone-else"})
        assert response.status_code == 403
        assert not WebhookEvent.objects.exists()

    @pytest.mark.django_db
    def test_wrong_shared_secret_is_refused_with_veriffs_message(
        self, server: FakeVeriff, options: dict[str, Any], applicant: Applicant
    ) -> None:
        from django_kyc.exceptions import PermanentProviderError

        with self.configured(options):
            verification = self.start(applicant)
            submission.submit_verification(verification.pk)
        verification.refresh_from_db()
        # the session call needs no signature; the decision call does
        with (
            self.configured({**options, "SHARED_SECRETS": "not-the-secret"}),
            pytest.raises(PermanentProviderError, match="Signature does not match the payload"),
        ):
            get_backend(ALIAS).fetch_verification(verification)

    @pytest.mark.django_db
    def test_api_mode_features_are_unsupported(self, server: FakeVeriff, submitted: Verification) -> None:
        backend = get_backend(ALIAS)
        assert backend.supports("hosted_flow")
        assert not backend.supports("document_upload")


class TestVeriffApiContract(VeriffHooks):
    """The direct flow: our documents as base64 media, then the session is submitted."""

    MODE = "api"
    SUBMITTED_STATUS = V.PROCESSING
    #: ``started`` is where the person would be before a submission we made ourselves: no news after it
    STATUS_TABLE = [row for row in VeriffHooks.STATUS_TABLE if row[0] != "started"]

    @staticmethod
    def add_file(document: Document, side: str, content: bytes, content_type: str = "image/png") -> None:
        row = DocumentFile(
            document=document,
            side=side,
            sha256=hashlib.sha256(content).hexdigest(),
            content_type=content_type,
            size=len(content),
        )
        row.file.save(f"{side}.bin", io.BytesIO(content), save=False)
        row.save()

    @pytest.mark.django_db
    def test_the_documents_go_up_as_media_and_the_session_is_submitted(
        self, server: FakeVeriff, backend: None, make_applicant: Any, user: Any
    ) -> None:
        applicant = make_applicant(user=user, with_document=False)
        card = Document.objects.create(applicant=applicant, type="id_card", issuing_country="EE")
        self.add_file(card, "front", make_png())
        self.add_file(card, "back", make_png(3, 3))
        self.add_file(Document.objects.create(applicant=applicant, type="selfie"), "single", make_png(4, 4))
        self.add_file(Document.objects.create(applicant=applicant, type="utility_bill"), "single", make_pdf())
        verification = self.start(applicant)
        submission.submit_verification(verification.pk)
        verification.refresh_from_db()
        assert verification.status == V.PROCESSING, verification.last_error
        session = server.sessions[verification.provider_verification_id]
        assert [media["context"] for media in session["media"]] == ["document-front", "document-back", "face"]
        assert session["status"] == "submitted"
        card.refresh_from_db()
        assert card.provider_document_id == session["media"][0]["id"]
        path = f"/v1/sessions/{session['id']}"
        assert server.calls[-1] == ("PATCH", path)
        assert verification.client_link == ""

    @pytest.mark.django_db
    def test_a_lost_submit_is_recognised_by_veriffs_refusal_of_a_second_one(
        self, server: FakeVeriff, backend: None, applicant: Applicant, time_machine: Any
    ) -> None:
        from django.utils import timezone

        time_machine.move_to(timezone.now(), tick=False)
        server.fail_next(1, kind="lost", method="PATCH")
        verification = self.start(applicant)
        submission.submit_verification(verification.pk)
        verification.refresh_from_db()
        assert verification.status == V.PENDING
        time_machine.move_to(verification.next_attempt_at, tick=False)
        submission.submit_verification(verification.pk)
        verification.refresh_from_db()
        assert verification.status == V.PROCESSING, verification.last_error
        assert [call for call in server.calls if call[0] == "PATCH"] == [("PATCH", server.calls[-1][1])] * 2
        assert len(server.sessions[verification.provider_verification_id]["media"]) == 1
        assert not AuditEvent.objects.filter(object_id=str(verification.pk), action="possible_duplicate").exists()

    @pytest.mark.django_db
    def test_polling_before_the_decision_keeps_processing(self, server: FakeVeriff, submitted: Verification) -> None:
        polling.poll_verification(submitted.pk)
        submitted.refresh_from_db()
        assert submitted.status == V.PROCESSING

    @pytest.mark.django_db
    @pytest.mark.parametrize(
        ("kind", "content", "content_type", "rule"),
        [
            ("passport", b"GIF89a....", "image/gif", "not image/gif"),
            ("passport", b"%PDF" + b"0" * 10, "application/pdf", None),
            ("utility_bill", make_png(), "image/png", "Veriff needs an identity document"),
        ],
        ids=["gif", "pdf-ok", "no-identity-document"],
    )
    def test_a_document_veriff_will_not_take_is_refused_with_a_400_before_anything_is_sent(
        self,
        server: FakeVeriff,
        backend: None,
        make_applicant: Any,
        user: Any,
        kind: str,
        content: bytes,
        content_type: str,
        rule: str | None,
    ) -> None:
        applicant = make_applicant(user=user, with_document=False)
        self.add_file(Document.objects.create(applicant=applicant, type=kind), "single", content, content_type)
        if rule is None:
            self.start(applicant)
            return
        with pytest.raises(ValidationError) as refused:
            self.start(applicant)
        assert rule in refused.value.messages[0]
        client = Client()
        client.force_login(user)
        response = client.post(f"/kyc/api/applicants/{applicant.pk}/verifications/", {})
        assert response.status_code == 400, response.content
        assert rule in response.content.decode()
        assert server.calls == []

    def test_the_size_rules_are_veriffs(self) -> None:
        from django_kyc.backends.veriff.statuses import file_problem

        assert file_problem("image/jpeg", 17_000_000) == ""
        assert "24 MB" in file_problem("image/jpeg", 18_500_000)
        assert "20 MB" in file_problem("application/pdf", 20_000_001)

    @pytest.mark.django_db
    def test_no_session_links_in_api_mode(self, server: FakeVeriff, submitted: Verification) -> None:
        with pytest.raises(UnsupportedFeature):
            get_backend(ALIAS).issue_client_token(submitted)


# --- deletion -----------------------------------------------------------------------------------------------


#: Half-way through an hour: the limiter estimates the hour before from its count (a sliding window over two
#: fixed ones), so an hour after calls made half-way through one, half of them still count and there is room.
HALF_PAST = datetime(2026, 6, 1, 10, 30, tzinfo=UTC)


@pytest.fixture
def deleting(make_applicant: Any) -> Iterator[tuple[FakeVeriff, Any]]:
    from django.conf import settings
    from django.test import override_settings

    with FakeVeriff(api_key=API_KEY, shared_secret=SHARED_SECRET) as started:
        server = cast(FakeVeriff, started)
        options = {"API_KEY": API_KEY, "SHARED_SECRETS": SHARED_SECRET, "BASE_URL": server.base_url}
        current: dict[str, Any] = settings.DJANGO_KYC
        backends = {**current["BACKENDS"], ALIAS: {"CLASS": BACKEND, "OPTIONS": options}}
        kyc = {**current, "BACKENDS": backends, "DEFAULT_BACKEND": ALIAS}
        with override_settings(DJANGO_KYC={**kyc, "PROVIDER_RATE_LIMIT_MAX_WAIT": 0}):
            yield server, make_applicant


def submitted_applicant(make_applicant: Any) -> tuple[Applicant, Verification]:
    from django_kyc.services.audit import Change
    from django_kyc.status import Source

    applicant = make_applicant()
    verification = submission.start_verification(applicant, Change.system(Source.API), backend=ALIAS)
    submission.submit_verification(verification.pk)
    verification.refresh_from_db()
    return applicant, verification


@pytest.mark.django_db
def test_deletion_deletes_each_session_once_and_an_unknown_one_counts_as_deleted(
    deleting: tuple[FakeVeriff, Any],
) -> None:
    server, make_applicant = deleting
    applicant, verification = submitted_applicant(make_applicant)
    backend = get_backend(ALIAS)
    backend.delete_applicant(applicant)
    assert verification.provider_verification_id in server.deleted
    backend.delete_applicant(applicant)  # remembered: not asked for twice
    assert [call for call in server.calls if call[0] == "DELETE"] == [
        ("DELETE", f"/v1/sessions/{verification.provider_verification_id}")
    ]
    verification.refresh_from_db()
    verification.provider_data.pop("veriff_deleted")
    Verification.objects.filter(pk=verification.pk).update(provider_data=verification.provider_data)
    backend.delete_applicant(Applicant.objects.get(pk=applicant.pk))  # Veriff's 404: already gone


@pytest.mark.django_db
def test_a_session_still_in_progress_is_an_error_for_a_later_run(deleting: tuple[FakeVeriff, Any]) -> None:
    server, make_applicant = deleting
    applicant, verification = submitted_applicant(make_applicant)
    server.decide(verification.provider_verification_id, "submitted")
    with pytest.raises(Exception, match="not in a completed status"):
        get_backend(ALIAS).delete_applicant(applicant)


@pytest.mark.django_db
def test_deletions_over_veriffs_hourly_budget_wait_for_the_next_hour(
    deleting: tuple[FakeVeriff, Any], time_machine: Any
) -> None:
    time_machine.move_to(HALF_PAST, tick=False)
    server, make_applicant = deleting
    people = [submitted_applicant(make_applicant)[0] for _ in range(6)]
    backend = get_backend(ALIAS)
    for person in people[:5]:
        backend.delete_applicant(person)
    with pytest.raises(TransientProviderError) as paced:
        backend.delete_applicant(people[5])
    assert paced.value.retry_after is not None
    assert 0 < paced.value.retry_after <= 3600
    assert len(server.deleted) == 5  # the sixth never reached Veriff: no 429 there
    time_machine.shift(3601)
    backend.delete_applicant(people[5])
    assert len(server.deleted) == 6


@pytest.mark.django_db
def test_the_purge_paces_erasures_within_veriffs_budget_and_loses_none(
    deleting: tuple[FakeVeriff, Any], time_machine: Any
) -> None:
    """Six erasures due at once: five go to Veriff this hour, the sixth stays due (``provider_paced``, never a
    429 at Veriff) and the next run an hour later erases it."""
    from django_kyc.services import retention

    time_machine.move_to(HALF_PAST, tick=False)
    server, make_applicant = deleting
    people = [submitted_applicant(make_applicant)[0] for _ in range(6)]
    for person in people:
        retention.request_erasure(person, execute=False)

    report = retention.purge_due()

    assert dict(report.outcomes) == {retention.PURGED: 5, retention.PROVIDER_PACED: 1}
    assert len(server.deleted) == 5
    assert len([call for call in server.calls if call[0] == "DELETE"]) == 5  # the sixth was held back here
    (waiting,) = retention.due_applicants()
    (row,) = AuditEvent.objects.filter(applicant=waiting, action="provider_erasure")
    assert row.data[ALIAS].startswith("paced: retry after ")

    time_machine.shift(3601)
    report = retention.purge_due()

    assert dict(report.outcomes) == {retention.PURGED: 1}
    assert len(server.deleted) == 6
    assert not retention.due_applicants().exists()
    assert all(Applicant.objects.get(pk=person.pk).pii_redacted_at for person in people)


@pytest.mark.django_db
def test_the_webhook_veriff_sends_for_a_deleted_session_changes_nothing(
    deleting: tuple[FakeVeriff, Any], django_capture_on_commit_callbacks: Any
) -> None:
    """Deleting a session the person never finished makes Veriff send ``abandoned`` for it; by then the purge has
    cancelled the verification, and the session's decision answers 404."""
    from django_kyc.services import retention

    server, make_applicant = deleting
    applicant, verification = submitted_applicant(make_applicant)
    server.decide(verification.provider_verification_id, "abandoned")
    body, headers = server.webhook_for(verification.provider_verification_id)
    retention.request_erasure(applicant)
    verification.refresh_from_db()
    assert verification.status == V.CANCELLED
    with django_capture_on_commit_callbacks(execute=True):
        response = Client().post(f"/kyc/webhooks/{ALIAS}/", data=body, content_type="application/json", headers=headers)
    assert response.status_code == 200
    (event,) = WebhookEvent.objects.all()
    assert (event.state, event.last_error) == ("ignored", "")
    verification.refresh_from_db()
    assert verification.status == V.CANCELLED


def test_veriffs_deletion_budget_is_declared() -> None:
    assert VeriffBackend.rate_limits == (RateLimit(5, 3600, ("DELETE",)), RateLimit(10, 86400, ("DELETE",)))
    limiter = backend_for(DELETE_PER_HOUR=2).client.rate_limiter
    assert limiter is not None
    assert [limit.label for limit in limiter.limits] == ["2 DELETE per 3600 s", "10 DELETE per 86400 s"]


# --- signatures and deliveries ----------------------------------------------------------------------------


@pytest.mark.parametrize(("material", "expected"), VECTORS)
def test_signatures_match_the_worked_examples(material: bytes, expected: str) -> None:
    assert sign(EXAMPLE_SECRET, material) == expected


def test_requests_are_signed_over_the_body_or_the_session_id(monkeypatch: pytest.MonkeyPatch) -> None:
    client = backend_for(SHARED_SECRETS=[EXAMPLE_SECRET, "old"], BASE_URL="https://veriff.test").client
    sent: list[Any] = []

    def record(method: str, url: str, **kwargs: Any) -> Any:
        sent.append((method, url, kwargs))
        return _ok()

    monkeypatch.setattr(client.session, "request", record)
    client.submit("s-1")
    client.decision("fd5c1563-1d23-4b1a-ae46-7ba429927ed8")
    client.create_session({"vendorData": "v"})
    (patch, get, create) = sent
    assert patch[2]["data"] == VECTORS[1][0]
    assert patch[2]["headers"]["X-HMAC-SIGNATURE"] == VECTORS[1][1]
    assert get[2]["headers"]["X-HMAC-SIGNATURE"] == VECTORS[2][1]
    assert "X-HMAC-SIGNATURE" not in create[2]["headers"]
    assert client.session.headers["X-AUTH-CLIENT"] == API_KEY


def _ok() -> Any:
    import requests

    response = requests.Response()
    response.status_code = 200
    response._content = b'{"status":"success","verification":null}'
    return response


def test_webhook_refusals() -> None:
    backend = backend_for(SHARED_SECRETS=[EXAMPLE_SECRET])
    body, good = VECTORS[3]
    backend.authenticate_webhook(InboundWebhook(body=body, headers={"X-HMAC-SIGNATURE": good.upper()}))
    with pytest.raises(WebhookSignatureMissing):
        backend.authenticate_webhook(InboundWebhook(body=body, headers={}))
    with pytest.raises(WebhookAuthenticationError):
        backend.authenticate_webhook(InboundWebhook(body=body + b" ", headers={"X-HMAC-SIGNATURE": good}))


def test_veriffs_source_addresses_are_an_optional_allow_list() -> None:
    backend = backend_for(SHARED_SECRETS=[EXAMPLE_SECRET], ALLOWED_IPS=VERIFF_IPS)
    body, good = VECTORS[3]
    headers = {"X-HMAC-SIGNATURE": good}
    backend.authenticate_webhook(InboundWebhook(body=body, headers=headers, remote_addr="34.254.42.181"))
    backend.authenticate_webhook(InboundWebhook(body=body, headers=headers, remote_addr="3.42.136.127"))
    with pytest.raises(WebhookAuthenticationError, match="not from an allowed address"):
        backend.authenticate_webhook(InboundWebhook(body=body, headers=headers, remote_addr="3.42.136.128"))
    proxied = backend_for(SHARED_SECRETS=[EXAMPLE_SECRET], ALLOWED_IPS=VERIFF_IPS, TRUST_FORWARDED_FOR=1)
    forwarded = {**headers, "X-Forwarded-For": "1.2.3.4, 52.19.226.239"}
    proxied.authenticate_webhook(InboundWebhook(body=body, headers=forwarded, remote_addr="10.0.0.1"))


def test_decision_events_are_keyed_on_signed_fields_and_fetched_before_they_are_applied() -> None:
    backend = backend_for()
    decision = {"id": "s-1", "attemptId": "a-1", "status": "approved", "decisionTime": "2026-01-01T00:00:00.000Z"}
    body = json.dumps({"status": "success", "verification": decision}).encode()
    (event,) = backend.parse_webhook(InboundWebhook(body=body, headers={}))
    assert (event.event_id, event.provider_ref, event.state) == (
        "decision:s-1:a-1:approved:2026-01-01T00:00:00.000Z",
        "s-1",
        None,
    )
    body = json.dumps({"id": "s-1", "attemptId": "a-1", "action": "started", "code": 7001}).encode()
    (event,) = backend.parse_webhook(InboundWebhook(body=body, headers={}))
    assert event.event_id == "event:s-1:a-1:started"
    assert event.state is not None
    assert event.state.status == V.AWAITING_USER


def test_options_are_checked() -> None:
    with pytest.raises(KycConfigurationError, match="SHARED_SECRETS"):
        VeriffBackend("veriff", {"API_KEY": "k"})
    with pytest.raises(KycConfigurationError, match="MODE"):
        backend_for(MODE="sdk")
