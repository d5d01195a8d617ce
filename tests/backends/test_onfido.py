"""Onfido against its fake server: the shared contract in workflow mode (Studio runs), then what only Onfido has:
the published webhook vectors, the direct flow (documents and a check), the classic SDK token, refusing early,
lost answers found again, deletion and restore, watchlist AML and the region hosts.

The tables alone are in ``test_onfido_statuses.py``; what the fake does beyond the contract is in
``tests/testing/test_onfido_server.py``.
"""

from __future__ import annotations

import io
import random
from collections.abc import Callable
from datetime import datetime, timedelta
from typing import Any

import pytest
from django.utils import timezone

from django_kyc.backends import get_backend
from django_kyc.backends.base import InboundWebhook
from django_kyc.backends.onfido import OnfidoBackend, region_url, sign
from django_kyc.backends.onfido.tokens import jwt_expiry
from django_kyc.exceptions import KycConfigurationError, WebhookAuthenticationError, WebhookSignatureMissing
from django_kyc.models import AmlCheck, Applicant, AuditEvent, Document, DocumentFile, Verification
from django_kyc.services import aml as aml_service
from django_kyc.services import polling, submission
from django_kyc.services.audit import Change
from django_kyc.status import AmlStatus, DocumentStatus, Source, VerificationStatus
from django_kyc.testing import FakeProviderServer
from django_kyc.testing.onfido import FakeOnfido
from tests.backends.contract import ALIAS, BackendContract
from tests.support.files import make_png

V = VerificationStatus
TOKEN = "onfido-contract-token"
WEBHOOK_TOKEN = "onfido-contract-webhook-token"
NEW_WEBHOOK_TOKEN = "onfido-rotated-webhook-token"
WORKFLOW_ID = "1f3a3f9e-6d3b-4c8f-8d55-8a4ee1cd3f7b"
CALLBACK = f"http://testserver/kyc/webhooks/{ALIAS}/"
BACKEND = "django_kyc.backends.onfido.OnfidoBackend"

#: Onfido's published webhook vectors (onfido-python, tests/test_classic_webhook_event_verification.py and
#: tests/test_studio_webhook_event_verification.py).
CLASSIC_TOKEN = "wU99mE6jJ7nXOLFwZ0tJymM1lpI15pZh"
CLASSIC_BODY = (
    b'{"payload":{"resource_type":"check","action":"check.completed","object":{"id":"f2302f45-227d-413d-ad61-'
    b'09ec077a086a","status":"complete","completed_at_iso8601":"2024-04-04T09:21:21Z","href":"https://api.onfido'
    b'.com/v3.6/checks/f2302f45-227d-413d-ad61-09ec077a086a"}}}'
)
CLASSIC_SIGNATURE = "77ebc3e418f26be6eebb47f7ebe551321de26734fc273961e075fc9ab163d9c7"
STUDIO_TOKEN = "YKOC6mkBxi6yK2zlUIrLMvsJMFEZObP5"
STUDIO_BODY = (
    b'{"payload":{"resource_type":"workflow_task","action":"workflow_task.started","object":{"id":"profile_1eb92",'
    b'"task_spec_id":"profile_1eb92","task_def_id":"profile_data","workflow_run_id":"bc77c6e5-753a-4580-96a6-aaed3e'
    b'5a8d19","status":"started","started_at_iso8601":"2024-07-10T12:49:09Z","href":"https://api.eu.onfido.com/v3.6'
    b'/workflow_runs/bc77c6e5-753a-4580-96a6-aaed3e5a8d19/tasks/profile_1eb92"},"resource":{"created_at":"2024-07-1'
    b'0T12:49:09Z","id":"profile_1eb92","workflow_run_id":"bc77c6e5-753a-4580-96a6-aaed3e5a8d19","updated_at":"2024'
    b'-07-10T12:49:09Z","input":{},"task_def_version":null,"task_def_id":"profile_data","output":null}}}'
)
STUDIO_SIGNATURE = "c95a5b785484f6fa1bc25f381b5595d66bf85cb442eefb06aa007802ee6a4dfa"


def photo(size: int = 4096) -> bytes:
    """A real PNG of about ``size`` bytes (noise does not compress): Onfido takes 2 KB to 3 MB."""
    side = max(2, int((size / 3) ** 0.5))
    noise = random.Random(size).randbytes
    return make_png(side, side, raw=b"".join(b"\x00" + noise(side * 3) for _ in range(side)))


def add_document(
    applicant: Applicant, content: bytes, content_type: str = "image/png", kind: str = "passport"
) -> Document:
    document = Document.objects.create(applicant=applicant, type=kind, number="X1234567", issuing_country="GB")
    row = DocumentFile(document=document, side="single", sha256="0" * 64, content_type=content_type, size=len(content))
    row.file.save("p.png", io.BytesIO(content), save=False)
    row.save()
    return document


class OnfidoHooks(BackendContract):
    """The contract's hooks for Onfido; the modes differ only in their options."""

    backend_class = BACKEND
    server_class = FakeOnfido
    UNKNOWN_OUTCOME = "on_hold"
    PROGRESS_OUTCOME = "processing"
    APPROVED_OUTCOME = "approved"
    SIGNED = True
    SIGNATURE_HEADER = "X-SHA2-Signature"
    TIMESTAMPED = False  # Onfido signs the body alone; signed fields make the de-duplication key
    PERMANENT_STATUS = 422
    CREATE_CALL = ("POST", "/v3.6/applicants")
    #: a lost applicant is found in the applicant list
    FINDS_LOST_CREATES = True
    EXTRA_OPTIONS: dict[str, Any] = {}

    def server_kwargs(self) -> dict[str, Any]:
        return {
            "api_token": TOKEN,
            "webhook_token": WEBHOOK_TOKEN,
            "callback_url": CALLBACK,
            "workflow_id": WORKFLOW_ID,
        }

    def backend_options(self, server: FakeProviderServer) -> dict[str, Any]:
        assert isinstance(server, FakeOnfido)
        return {
            "API_TOKEN": TOKEN,
            "BASE_URL": server.api_url,
            "WEBHOOK_TOKENS": [WEBHOOK_TOKEN],
            "WORKFLOW_ID": WORKFLOW_ID,
            **self.EXTRA_OPTIONS,
        }

    def wrong_credentials(self, options: dict[str, Any]) -> dict[str, Any]:
        return {**options, "API_TOKEN": "not-the-onfido-token"}

    def rotated(self, options: dict[str, Any], server: FakeProviderServer) -> dict[str, Any]:
        """A new webhook is registered first; deliveries are still signed with the previous one's token."""
        return {**options, "WEBHOOK_TOKENS": [NEW_WEBHOOK_TOKEN, WEBHOOK_TOKEN]}


class TestOnfidoContract(OnfidoHooks):
    """Workflow mode: a Studio run per verification, its SDK token and link as the hosted flow."""

    SUBMITTED_STATUS = V.AWAITING_USER
    STATUS_TABLE = [
        ("awaiting_input", V.AWAITING_USER),
        ("awaiting_client_input", V.PROCESSING),
        ("processing", V.PROCESSING),
        ("review", V.REVIEW),
        ("approved", V.APPROVED),
        ("declined", V.DECLINED),
        ("abandoned", V.EXPIRED),
        ("error", V.ERROR),
    ]

    @pytest.mark.django_db
    def test_the_run_carries_our_ids_and_its_token_its_own_expiry(
        self, server: FakeOnfido, submitted: Verification
    ) -> None:
        (run,) = server.runs.values()
        assert run["id"] == submitted.provider_verification_id
        assert run["applicant_id"] == submitted.provider_applicant_id
        assert run["tags"] == [str(submitted.pk)]
        assert run["customer_user_id"] == submitted.applicant.reference
        assert run["workflow_id"] == WORKFLOW_ID
        assert submitted.client_link == run["link"]["url"]
        assert submitted.client_token_expires_at == jwt_expiry(submitted.client_token)
        assert submitted.client_token_expires_at is not None
        assert submitted.client_token_expires_at > timezone.now() + timedelta(minutes=80)

    @pytest.mark.django_db
    def test_reissue_asks_for_a_classic_sdk_token_for_the_run(
        self, server: FakeOnfido, submitted: Verification
    ) -> None:
        token = get_backend(ALIAS).issue_client_token(submitted)
        assert token.token == server.sdk_tokens[-1] != submitted.client_token
        assert token.link == submitted.client_link
        assert token.expires_at == jwt_expiry(token.token)

    @pytest.mark.django_db
    def test_the_client_token_endpoint_reissues_an_expired_token_with_its_real_expiry(
        self, server: FakeOnfido, submitted: Verification, client_for: Callable[[Any], Any], time_machine: Any
    ) -> None:
        assert submitted.client_token_expires_at is not None
        time_machine.move_to(submitted.client_token_expires_at + timedelta(seconds=1), tick=False)
        url = f"/kyc/api/verifications/{submitted.pk}/client-token/"
        answer = client_for(submitted.applicant.user).post(url)
        assert answer.status_code == 200, answer.content
        body = answer.json()
        assert body["token"] == server.sdk_tokens[-1] != submitted.client_token
        assert body["link"] == submitted.client_link
        expiry = jwt_expiry(body["token"])
        assert expiry is not None
        assert datetime.fromisoformat(body["expires_at"]) == expiry > timezone.now()

    @pytest.mark.django_db
    def test_a_lost_run_is_found_by_its_tag(
        self, server: FakeOnfido, backend: None, applicant: Applicant, time_machine: Any
    ) -> None:
        verification = retried_after_a_lost_answer(self, server, applicant, time_machine, "/v3.6/workflow_runs")
        assert verification.status == V.AWAITING_USER, verification.last_error
        assert len(server.runs) == 1
        assert verification.provider_verification_id in server.runs
        assert not AuditEvent.objects.filter(object_id=str(verification.pk), action="possible_duplicate").exists()

    @pytest.mark.django_db
    def test_a_second_verification_reuses_the_onfido_applicant(
        self, server: FakeOnfido, submitted: Verification
    ) -> None:
        server.decide(submitted.provider_verification_id, "declined")
        polling.poll_verification(submitted.pk)
        second = self.start(submitted.applicant)
        submission.submit_verification(second.pk)
        second.refresh_from_db()
        assert second.status == V.AWAITING_USER, second.last_error
        assert second.provider_applicant_id == submitted.provider_applicant_id
        assert (server.applicant_count(), len(server.runs)) == (1, 2)

    @pytest.mark.django_db
    def test_webhooks_of_other_resources_are_acknowledged_and_dropped(
        self, server: FakeOnfido, submitted: Verification, django_capture_on_commit_callbacks: Any
    ) -> None:
        body = b'{"payload":{"resource_type":"audit_log","action":"audit_log.created","object":{"id":"x"}}}'
        response = self.post(django_capture_on_commit_callbacks, body, {"X-SHA2-Signature": sign(body, WEBHOOK_TOKEN)})
        assert response.status_code == 200
        submitted.refresh_from_db()
        assert submitted.status == V.AWAITING_USER

    @pytest.mark.django_db
    def test_the_hosted_page_completes_the_run(self, server: FakeOnfido, submitted: Verification) -> None:
        import urllib.request

        server.default_callback_url = ""  # no Django server listens here: the test polls instead
        request = urllib.request.Request(submitted.client_link, data=b"", method="POST")
        with urllib.request.urlopen(request, timeout=5) as answer:
            assert answer.status == 200
        assert server.runs[submitted.provider_verification_id]["status"] == "processing"
        polling.poll_verification(submitted.pk)
        submitted.refresh_from_db()
        assert submitted.status == V.PROCESSING


def retried_after_a_lost_answer(
    contract: BackendContract, server: FakeOnfido, applicant: Applicant, time_machine: Any, path: str
) -> Verification:
    time_machine.move_to(timezone.now(), tick=False)
    server.fail_next(1, kind="lost", method="POST", path=path)
    verification = contract.start(applicant)
    submission.submit_verification(verification.pk)
    verification.refresh_from_db()
    assert verification.status == V.PENDING
    assert verification.next_attempt_at is not None
    time_machine.move_to(verification.next_attempt_at, tick=False)
    submission.submit_verification(verification.pk)
    verification.refresh_from_db()
    return verification


# --- the webhook recipe, against Onfido's published vectors --------------------------------------------------


@pytest.mark.parametrize(
    ("token", "body", "signature"),
    [(CLASSIC_TOKEN, CLASSIC_BODY, CLASSIC_SIGNATURE), (STUDIO_TOKEN, STUDIO_BODY, STUDIO_SIGNATURE)],
    ids=["classic", "studio"],
)
def test_the_published_vectors_verify(token: str, body: bytes, signature: str) -> None:
    assert sign(body, token) == signature
    backend = OnfidoBackend("o", {"API_TOKEN": "t", "WORKFLOW_ID": "w", "WEBHOOK_TOKENS": ["newer", token]})
    backend.authenticate_webhook(InboundWebhook(body=body, headers={"X-SHA2-Signature": signature}))
    backend.authenticate_webhook(InboundWebhook(body=body, headers={"x-sha2-signature": signature.upper()}))
    last = "0" if signature[-1] != "0" else "1"
    with pytest.raises(WebhookAuthenticationError):
        backend.authenticate_webhook(InboundWebhook(body=body, headers={"X-SHA2-Signature": signature[:-1] + last}))
    with pytest.raises(WebhookAuthenticationError):
        backend.authenticate_webhook(InboundWebhook(body=body + b" ", headers={"X-SHA2-Signature": signature}))
    with pytest.raises(WebhookSignatureMissing):
        backend.authenticate_webhook(InboundWebhook(body=body, headers={}))


def test_the_published_vectors_parse_into_fetch_on_notify_events() -> None:
    classic = OnfidoBackend("o", {"API_TOKEN": "t", "MODE": "api"})
    studio = OnfidoBackend("o", {"API_TOKEN": "t", "WORKFLOW_ID": "w"})
    (check,) = classic.parse_webhook(InboundWebhook(body=CLASSIC_BODY, headers={}))
    assert (check.provider_ref, check.event_type, check.state) == (
        "f2302f45-227d-413d-ad61-09ec077a086a",
        "check.completed",
        None,
    )
    assert check.occurred_at is not None
    assert check.occurred_at.isoformat() == "2024-04-04T09:21:21+00:00"
    (task,) = studio.parse_webhook(InboundWebhook(body=STUDIO_BODY, headers={}))
    assert (task.provider_ref, task.event_type) == ("bc77c6e5-753a-4580-96a6-aaed3e5a8d19", "workflow_task.started")
    assert task.event_id != check.event_id
    # a Studio workflow's own checks name no verification of ours, nor do runs in the classic modes
    assert studio.parse_webhook(InboundWebhook(body=CLASSIC_BODY, headers={})) == []
    assert classic.parse_webhook(InboundWebhook(body=STUDIO_BODY, headers={})) == []


def test_the_header_name_is_an_option() -> None:
    backend = OnfidoBackend(
        "o", {"API_TOKEN": "t", "WORKFLOW_ID": "w", "WEBHOOK_TOKENS": [CLASSIC_TOKEN], "WEBHOOK_HEADER": "X-Signed"}
    )
    backend.authenticate_webhook(InboundWebhook(body=CLASSIC_BODY, headers={"X-Signed": CLASSIC_SIGNATURE}))
    with pytest.raises(WebhookSignatureMissing):
        backend.authenticate_webhook(InboundWebhook(body=CLASSIC_BODY, headers={"X-SHA2-Signature": CLASSIC_SIGNATURE}))


# --- configuration ----------------------------------------------------------------------------------------


@pytest.mark.parametrize("region", ["eu", "us", "ca"])
def test_each_region_has_its_host(region: str) -> None:
    backend = OnfidoBackend("o", {"API_TOKEN": "t", "WORKFLOW_ID": "w", "REGION": region})
    assert backend.client.base_url == f"https://api.{region}.onfido.com/v3.6" == region_url(region)


def test_options_are_checked() -> None:
    with pytest.raises(KycConfigurationError, match="WORKFLOW_ID"):
        OnfidoBackend("o", {"API_TOKEN": "t"})
    with pytest.raises(KycConfigurationError, match="REGION"):
        OnfidoBackend("o", {"API_TOKEN": "t", "WORKFLOW_ID": "w", "REGION": "uk"})
    api_mode = OnfidoBackend("o", {"API_TOKEN": "t", "MODE": "api"})
    assert api_mode.supports("document_upload")
    assert not api_mode.supports("hosted_flow")
    assert OnfidoBackend("o", {"API_TOKEN": "t", "MODE": "sdk"}).supports("hosted_flow")


# --- the direct flow: our documents and a check ------------------------------------------------------------


class TestOnfidoApiMode(OnfidoHooks):
    """API mode runs the contract too: the submission uploads the applicant's documents and creates a check."""

    EXTRA_OPTIONS = {"MODE": "api"}
    SUBMITTED_STATUS = V.PROCESSING
    APPROVED_OUTCOME = "clear"
    PROGRESS_OUTCOME = "in_progress"
    STATUS_TABLE = [
        ("in_progress", V.PROCESSING),
        ("clear", V.APPROVED),
        ("consider", V.REVIEW),
        ("suspected", V.REVIEW),
        ("rejected", V.RESUBMISSION_REQUESTED),
        ("withdrawn", V.CANCELLED),
        ("paused", V.REVIEW),
        ("reopened", V.REVIEW),
    ]

    @pytest.fixture
    def applicant(self, make_applicant: Any, user: Any) -> Applicant:
        import datetime

        person = make_applicant(
            user=user,
            with_document=False,
            date_of_birth=datetime.date(1990, 2, 3),
            email="jane@example.com",
        )
        add_document(person, photo())
        return person

    @pytest.mark.django_db
    def test_the_documents_go_up_as_multipart_and_the_check_names_them(
        self, server: FakeOnfido, submitted: Verification
    ) -> None:
        (document,) = Document.objects.filter(applicant=submitted.applicant)
        (sent,) = server.documents.values()
        assert document.provider_document_id == sent["id"]
        assert document.status == DocumentStatus.SUBMITTED
        assert (sent["type"], sent["file_type"], sent["file_name"]) == (
            "passport",
            "png",
            f"{document.files.get().pk}.png",
        )
        check = server.checks[submitted.provider_verification_id]
        assert check["report_ids"]
        assert check["tags"] == [str(submitted.pk)]
        assert server.reports[check["report_ids"][0]]["documents"] == [{"id": sent["id"]}]

    @pytest.mark.django_db
    def test_a_rejected_document_asks_for_another_picture(self, server: FakeOnfido, submitted: Verification) -> None:
        server.decide(submitted.provider_verification_id, "rejected")
        polling.poll_verification(submitted.pk)
        submitted.refresh_from_db()
        assert submitted.status == V.RESUBMISSION_REQUESTED
        assert submitted.provider_status == "complete/consider"
        assert submitted.reasons == ["document: consider/rejected"]
        document = Document.objects.get(applicant=submitted.applicant)
        assert document.status == DocumentStatus.RESUBMISSION_REQUESTED

    @pytest.mark.django_db
    def test_consider_can_be_a_decline(self, server: FakeOnfido, options: dict[str, Any], applicant: Applicant) -> None:
        with self.configured({**options, "CONSIDER": "decline"}):
            verification = self.start(applicant)
            submission.submit_verification(verification.pk)
            verification.refresh_from_db()
            server.decide(verification.provider_verification_id, "consider")
            polling.poll_verification(verification.pk)
        verification.refresh_from_db()
        assert verification.status == V.DECLINED

    @pytest.mark.django_db
    @pytest.mark.parametrize(
        ("path", "kind"), [("/v3.6/documents", "document"), ("/v3.6/checks", "check")], ids=["document", "check"]
    )
    def test_lost_documents_and_checks_are_found_again(
        self, server: FakeOnfido, backend: None, applicant: Applicant, time_machine: Any, path: str, kind: str
    ) -> None:
        verification = retried_after_a_lost_answer(self, server, applicant, time_machine, path)
        assert verification.status == V.PROCESSING, verification.last_error
        assert (len(server.documents), len(server.checks)) == (1, 1)
        assert not AuditEvent.objects.filter(object_id=str(verification.pk), action="possible_duplicate").exists()


@pytest.fixture
def api_mode(server_api: FakeOnfido) -> Any:
    from django.conf import settings
    from django.test import override_settings

    backends = {
        **settings.DJANGO_KYC["BACKENDS"],
        ALIAS: {
            "CLASS": BACKEND,
            "OPTIONS": {"API_TOKEN": TOKEN, "BASE_URL": server_api.api_url, "MODE": "api", "READ_TIMEOUT": 1},
        },
    }
    with override_settings(DJANGO_KYC={**settings.DJANGO_KYC, "BACKENDS": backends, "DEFAULT_BACKEND": ALIAS}):
        yield


@pytest.fixture
def server_api() -> Any:
    with FakeOnfido(api_token=TOKEN, webhook_token=WEBHOOK_TOKEN) as fake:
        yield fake


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("content", "content_type", "rule"),
    [
        (photo(1000), "image/png", "fewer than Onfido's minimum"),
        (photo(4096), "image/webp", "image/webp is not accepted"),
        (photo(4096), "image/heic", "image/heic is not accepted"),
    ],
    ids=["too-small", "webp", "heic"],
)
def test_a_document_onfido_will_not_take_is_refused_with_its_rule_in_the_400(
    api_mode: None,
    server_api: FakeOnfido,
    user: Any,
    make_applicant: Callable[..., Applicant],
    client_for: Callable[[Any], Any],
    content: bytes,
    content_type: str,
    rule: str,
) -> None:
    applicant = make_applicant(user=user, with_document=False)
    add_document(applicant, content, content_type)
    response = client_for(user).post(f"/kyc/api/applicants/{applicant.pk}/verifications/", {}, format="json")
    assert response.status_code == 400, response.content
    text = response.content.decode()
    assert rule in text
    assert "JPG, PNG or PDF files between 2 KB and 3 MB" in text
    assert not Verification.objects.exists()
    assert server_api.calls == []


@pytest.mark.django_db
def test_names_onfido_refuses_are_refused_early(
    api_mode: None, user: Any, make_applicant: Callable[..., Applicant], client_for: Callable[[Any], Any]
) -> None:
    applicant = make_applicant(user=user, last_name="Smith <admin>")
    response = client_for(user).post(f"/kyc/api/applicants/{applicant.pk}/verifications/", {}, format="json")
    assert response.status_code == 400
    assert "Onfido refuses the characters < > in a last name" in response.content.decode()


# --- the classic SDK token ----------------------------------------------------------------------------------


@pytest.mark.django_db
def test_sdk_mode_hands_out_a_token_then_creates_the_check_once_the_documents_are_there(
    server_api: FakeOnfido, make_applicant: Callable[..., Applicant], user: Any
) -> None:
    from django.conf import settings
    from django.test import override_settings

    options = {"API_TOKEN": TOKEN, "BASE_URL": server_api.api_url, "MODE": "sdk", "SDK_REFERRER": "https://*.example/*"}
    backends = {**settings.DJANGO_KYC["BACKENDS"], ALIAS: {"CLASS": BACKEND, "OPTIONS": options}}
    with override_settings(DJANGO_KYC={**settings.DJANGO_KYC, "BACKENDS": backends}):
        applicant = make_applicant(user=user, with_document=False)
        verification = submission.start_verification(applicant, Change.system(Source.API), backend=ALIAS)
        submission.submit_verification(verification.pk)
        verification.refresh_from_db()
        assert verification.status == V.AWAITING_USER, verification.last_error
        assert verification.client_token == server_api.sdk_tokens[-1]
        assert verification.client_token_expires_at == jwt_expiry(verification.client_token)
        assert verification.provider_verification_id == ""

        polling.poll_verification(verification.pk)  # the person has not captured anything yet
        assert server_api.checks == {}
        # the SDK uploads the person's document straight to Onfido
        server_api.documents["d1"] = {"id": "d1", "applicant_id": verification.provider_applicant_id}
        polling.poll_verification(verification.pk)
        verification.refresh_from_db()
        (check,) = server_api.checks.values()
        assert verification.provider_verification_id == check["id"]
        assert verification.status == V.PROCESSING
        server_api.decide(check["id"], "clear")
        polling.poll_verification(verification.pk)
        polling.poll_verification(verification.pk)
    verification.refresh_from_db()
    assert verification.status == V.APPROVED
    assert len(server_api.checks) == 1


# --- deletion and restore -----------------------------------------------------------------------------------


@pytest.mark.django_db
def test_delete_schedules_the_deletion_and_restore_undoes_it(
    api_mode: None, server_api: FakeOnfido, make_applicant: Callable[..., Applicant], user: Any
) -> None:
    applicant = make_applicant(user=user, with_document=False)
    add_document(applicant, photo())
    verification = submission.start_verification(applicant, Change.system(Source.API), backend=ALIAS)
    submission.submit_verification(verification.pk)
    verification.refresh_from_db()
    backend = get_backend(ALIAS)
    assert isinstance(backend, OnfidoBackend)
    onfido_applicant = server_api.applicants[verification.provider_applicant_id]

    backend.delete_applicant(applicant)
    assert onfido_applicant["delete_at"]
    backend.restore_applicant(applicant)
    assert onfido_applicant["delete_at"] is None
    backend.delete_applicant(applicant)
    del server_api.applicants[verification.provider_applicant_id]  # purged: deleting again is no error
    backend.delete_applicant(applicant)


# --- watchlist AML ------------------------------------------------------------------------------------------


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("outcome", "expected", "hits"), [("clear", AmlStatus.CLEAR, 0), ("consider", AmlStatus.POTENTIAL_MATCH, 1)]
)
def test_watchlist_screening(
    api_mode: None,
    server_api: FakeOnfido,
    make_applicant: Callable[..., Applicant],
    user: Any,
    outcome: str,
    expected: str,
    hits: int,
) -> None:
    applicant = make_applicant(user=user, with_document=False)
    check = aml_service.start_check(applicant, Change.system(Source.API), backend=ALIAS)
    aml_service.run_check(check.pk)
    check.refresh_from_db()
    assert check.status == AmlStatus.RUNNING, check.last_error
    (onfido_check,) = server_api.checks.values()
    assert check.provider_check_id == onfido_check["id"]
    assert onfido_check["tags"] == [str(check.pk)]
    assert server_api.reports[onfido_check["report_ids"][0]]["name"] == "watchlist_standard"
    server_api.decide(onfido_check["id"], outcome)
    AmlCheck.objects.filter(pk=check.pk).update(next_attempt_at=None)
    aml_service.run_check(check.pk)
    check.refresh_from_db()
    assert check.status == expected
    assert check.hits.count() == hits
    if hits:
        hit = check.hits.get()
        assert hit.caption == "Jane Listed Example"
    assert server_api.applicant_count() == 1


# --- the client ----------------------------------------------------------------------------------------------


@pytest.mark.django_db
def test_onfidos_field_errors_make_the_message_without_the_values_sent(api_mode: None, server_api: FakeOnfido) -> None:
    from django_kyc.exceptions import PermanentProviderError

    backend = get_backend(ALIAS)
    assert isinstance(backend, OnfidoBackend)
    with pytest.raises(PermanentProviderError) as refused:
        backend.client.create_applicant({"first_name": "Secret{Name}", "last_name": "Smith"})
    assert refused.value.status_code == 422
    assert refused.value.message == (
        "validation_error: There was a validation error on this request "
        '(first_name: must not contain any of !#$%*=<>;{}")'
    )
    assert "Secret" not in refused.value.message


def test_the_client_keeps_under_the_configured_rate_limit() -> None:
    default = OnfidoBackend("o", {"API_TOKEN": "t", "WORKFLOW_ID": "w"})
    assert [(limit.calls, limit.per_seconds) for limit in OnfidoBackend.rate_limits] == [(400, 60)]
    assert default.client.rate_limiter is not None
    assert [(limit.calls, limit.per_seconds) for limit in default.client.rate_limiter.limits] == [(400, 60)]
    slower = OnfidoBackend("o", {"API_TOKEN": "t", "WORKFLOW_ID": "w", "RATE_LIMIT": 100})
    assert slower.client.rate_limiter is not None
    assert [limit.calls for limit in slower.client.rate_limiter.limits] == [100]


@pytest.mark.django_db
def test_a_lost_screening_applicant_is_found_again(
    api_mode: None, server_api: FakeOnfido, make_applicant: Callable[..., Applicant], user: Any
) -> None:
    applicant = make_applicant(user=user, with_document=False)
    server_api.fail_next(1, kind="lost", method="POST", path="/v3.6/applicants")
    check = aml_service.start_check(applicant, Change.system(Source.API), backend=ALIAS)
    aml_service.run_check(check.pk)
    check.refresh_from_db()
    assert (check.status, server_api.applicant_count()) == (AmlStatus.PENDING, 1)
    AmlCheck.objects.filter(pk=check.pk).update(next_attempt_at=None)
    aml_service.run_check(check.pk)
    check.refresh_from_db()
    assert check.status == AmlStatus.RUNNING, check.last_error
    assert server_api.applicant_count() == 1
    (onfido_check,) = server_api.checks.values()
    assert onfido_check["applicant_id"] == next(iter(server_api.applicants))
