"""ARGOS ID check against its fake server: the shared contract (plain and encrypted webhooks), plus what
only ARGOS has (Liveform links, the IP allow-list, AES-256-ECB, the most-recent-approved rule, paging,
client reviews, erasure, AML from the submission)."""

from __future__ import annotations

import base64
import copy
import hashlib
import json
import uuid
from collections.abc import Iterator
from datetime import datetime, timezone
from typing import Any
from urllib.parse import parse_qs, urlsplit

import pytest
import requests
from django.test import Client

from django_kyc.backends import get_backend
from django_kyc.backends.argos import (
    DEFAULT_ALLOWED_IPS,
    ERROR_CODES,
    ArgosBackend,
    ArgosClient,
    SpilledGroups,
    argos_error_message,
    ecb_decrypt,
    ecb_encrypt,
    encryption_key,
    pick_submission,
)
from django_kyc.backends.base import ProviderEvent
from django_kyc.backends.signing import check_source_ip, source_ip
from django_kyc.exceptions import (
    KycConfigurationError,
    PermanentProviderError,
    UnsupportedFeature,
    WebhookAuthenticationError,
)
from django_kyc.models import AmlCheck, AmlHit, Applicant, Verification, WebhookEvent
from django_kyc.services import aml, polling, review, submission
from django_kyc.services.audit import Change
from django_kyc.status import AmlStatus, Source, VerificationStatus
from django_kyc.testing import FakeProviderServer
from django_kyc.testing.argos import REPORT_PDF, UNKNOWN_RESULT, FakeArgos
from tests.backends.contract import ALIAS, BackendContract

V = VerificationStatus
API_KEY = "argos-key-5d1e9b"
PROJECT_ID = "proj-7c21"
ADMIN = "compliance@example.com"


def argos() -> ArgosBackend:
    instance = get_backend(ALIAS)
    assert isinstance(instance, ArgosBackend)
    return instance


class ArgosContract(BackendContract):
    backend_class = "django_kyc.backends.argos.ArgosBackend"
    server_class = FakeArgos
    STATUS_TABLE = [
        ("incomplete", V.AWAITING_USER),
        ("retry", V.RESUBMISSION_REQUESTED),
        ("pending", V.REVIEW),
        ("approved", V.APPROVED),
        ("rejected", V.DECLINED),
    ]
    UNKNOWN_OUTCOME = UNKNOWN_RESULT
    PROGRESS_OUTCOME = "pending"
    APPROVED_OUTCOME = "approved"
    #: the Liveform link is handed out; ARGOS has nothing until the person starts there
    SUBMITTED_STATUS = V.AWAITING_USER
    CREATES_AT_SUBMISSION = False
    SIGNED = False
    TIMESTAMPED = False
    PERMANENT_STATUS = 400
    ENCRYPTED = False

    def server_kwargs(self) -> dict[str, Any]:
        return {"api_key": API_KEY, "project_id": PROJECT_ID, "admin": ADMIN, "encryption": self.ENCRYPTED}

    def backend_options(self, server: FakeProviderServer) -> dict[str, Any]:
        assert isinstance(server, FakeArgos)
        return {
            "API_KEY": API_KEY,
            "PROJECT_ID": PROJECT_ID,
            "BASE_URL": server.api_base,
            "LIVEFORM_URL": server.liveform_url,
            "ALLOWED_IPS": ["127.0.0.1"],  # the Django test client's REMOTE_ADDR
            "ENCRYPTION": "ecb" if self.ENCRYPTED else "",
            "ADMIN": ADMIN,
            "PAGE_SIZE": 2,  # every list walks pages
        }

    def wrong_credentials(self, options: dict[str, Any]) -> dict[str, Any]:
        return {**options, "API_KEY": "argos-key-revoked"}

    def complete_hosted_flow(self, server: FakeProviderServer, verification: Verification) -> None:
        """The person opens the link we handed out and starts; a poll then finds the submission."""
        assert isinstance(server, FakeArgos)
        server.open_liveform(verification.client_link)
        polling.poll_verification(verification.pk)

    def test_status_table_covers_every_documented_result(self) -> None:
        documented = {outcome: status for outcome, status in self.STATUS_TABLE if outcome != "retry"}
        assert documented == dict(ArgosBackend.STATUS_MAP)
        assert ArgosBackend("a", {"API_KEY": "k", "PROJECT_ID": "p"}).map_status("new_result") == V.REVIEW


class TestArgosContract(ArgosContract):
    """Plain webhooks: the source address is the real control (tested below); a delivery from an allowed
    address must still name a verification of ours."""

    def forged_delivery(self, server: FakeProviderServer, ref: str) -> tuple[bytes, dict[str, str]]:
        body, headers = server.webhook_for(ref)
        payload = json.loads(body)
        payload["userid"] = str(uuid.uuid4())
        return json.dumps(payload).encode(), headers


class TestArgosEncryptedContract(ArgosContract):
    """ENCRYPTION = "ecb": webhooks, API answers, review bodies and the Liveform parameters are encrypted."""

    ENCRYPTED = True

    def forged_delivery(self, server: FakeProviderServer, ref: str) -> tuple[bytes, dict[str, str]]:
        """The real content, encrypted with a key that is not ours."""
        assert isinstance(server, FakeArgos)
        real_key, server.key = server.key, encryption_key("attacker-key")
        try:
            return server.webhook_for(ref)
        finally:
            server.key = real_key

    @pytest.mark.django_db
    def test_plain_webhook_is_refused_when_encryption_is_on(
        self, server: FakeArgos, submitted: Verification, django_capture_on_commit_callbacks: Any
    ) -> None:
        server.decide(self.ref(submitted), "approved")
        server.encryption = False
        body, headers = server.webhook_for(self.ref(submitted))
        assert self.post(django_capture_on_commit_callbacks, body, headers).status_code == 403
        assert not WebhookEvent.objects.exists()

    @pytest.mark.django_db
    def test_liveform_parameters_travel_encrypted(self, server: FakeArgos, submitted: Verification) -> None:
        query = parse_qs(urlsplit(submitted.client_link).query)
        assert set(query) == {"pid", "encrypted"}
        assert str(submitted.pk) not in submitted.client_link
        params = json.loads(ecb_decrypt(encryption_key(API_KEY), query["encrypted"][0]))
        assert params["userid"] == str(submitted.pk)
        assert params["email"] == "jane@example.com"


# --- ARGOS-specific behaviour ---------------------------------------------------------------------------


@pytest.fixture
def fake() -> Iterator[FakeArgos]:
    with FakeArgos(api_key=API_KEY, project_id=PROJECT_ID, admin=ADMIN) as server:
        yield server


def options_for(fake: FakeArgos, **extra: Any) -> dict[str, Any]:
    return {
        "API_KEY": API_KEY,
        "PROJECT_ID": PROJECT_ID,
        "BASE_URL": fake.api_base,
        "LIVEFORM_URL": fake.liveform_url,
        "ALLOWED_IPS": ["127.0.0.1"],
        "ADMIN": ADMIN,
        "PAGE_SIZE": 2,
        **extra,
    }


@pytest.fixture
def configure(fake: FakeArgos) -> Iterator[Any]:
    contract = ArgosContract()
    stack: list[Any] = []

    def apply(**extra: Any) -> None:
        manager = contract.configured(options_for(fake, **extra))
        manager.__enter__()
        stack.append(manager)

    yield apply
    while stack:
        stack.pop().__exit__(None, None, None)


@pytest.fixture
def person(make_applicant: Any, user: Any) -> Applicant:
    return make_applicant(user=user, email="jane@example.com", external_id="crm-1")


def started(applicant: Applicant) -> Verification:
    verification = submission.start_verification(applicant, Change.system(Source.API), backend=ALIAS)
    submission.submit_verification(verification.pk)
    verification.refresh_from_db()
    assert verification.status == V.AWAITING_USER, verification.last_error
    return verification


def deliver(body: bytes, headers: dict[str, str], capture: Any, **extra: Any) -> Any:
    with capture(execute=True):
        return Client().post(
            f"/kyc/webhooks/{ALIAS}/", data=body, content_type="application/json", headers=headers, **extra
        )


# --- vectors --------------------------------------------------------------------------------------------


def test_ecb_vector_computed_with_the_recipe() -> None:
    """Computed vector: key = SHA-256("argos-test-key"), AES-256-ECB, PKCS#7, base64 — computed outside this
    code with ``openssl enc -aes-256-ecb -K <sha256 hex> -nosalt | base64``."""
    key = encryption_key("argos-test-key")
    assert key == hashlib.sha256(b"argos-test-key").digest()
    assert key.hex() == "19e4e534485c97647d9d910d06f88ee005aa20927981f04e7e526233c17529be"
    plaintext = b'{"webhook_trigger":"approved"}'
    ciphertext = ecb_encrypt(key, plaintext)
    assert ciphertext == VECTOR_CIPHERTEXT
    assert ecb_decrypt(key, ciphertext) == plaintext
    # ECB: the same block always encrypts the same way (the vendor's mode, documented as such)
    doubled = base64.b64decode(ecb_encrypt(key, b"A" * 32))
    assert doubled[:16] == doubled[16:32]


VECTOR_CIPHERTEXT = "Kihf+t+1xQWKliXLJ3Zmt1/mBYYrlGD5w/OgHYTPRRA="


@pytest.mark.parametrize("text", ["", "not base64!", base64.b64encode(b"short").decode()])
def test_ecb_decrypt_refuses_what_is_not_a_ciphertext(text: str) -> None:
    with pytest.raises(ValueError, match=r"base64|blocks"):
        ecb_decrypt(encryption_key("k"), text)


# --- the IP allow-list ----------------------------------------------------------------------------------


def test_source_ip_uses_remote_addr_unless_proxies_are_trusted() -> None:
    assert source_ip("10.0.0.5", "52.78.194.237") == "10.0.0.5"
    assert source_ip("10.0.0.5", "1.2.3.4, 52.78.194.237", trusted_proxies=1) == "52.78.194.237"
    assert source_ip("10.0.0.5", "52.78.194.237, 10.0.0.4", trusted_proxies=2) == "52.78.194.237"
    assert source_ip("10.0.0.5", "", trusted_proxies=1) == ""


def test_check_source_ip_accepts_addresses_and_networks() -> None:
    check_source_ip("52.78.194.237", DEFAULT_ALLOWED_IPS)
    check_source_ip("10.1.2.3", ["10.0.0.0/8"])
    check_source_ip("2001:db8::1", ["2001:db8::/32"])
    for address in ("52.78.194.238", "", "garbage"):
        with pytest.raises(WebhookAuthenticationError):
            check_source_ip(address, DEFAULT_ALLOWED_IPS)


@pytest.mark.django_db
class TestAllowList:
    def test_default_allow_list_is_the_documented_egress_ip(self) -> None:
        assert ArgosBackend("a", {"API_KEY": "k", "PROJECT_ID": "p"}).allowed_ips == ["52.78.194.237"]

    def test_allowed_source_is_accepted(
        self, fake: FakeArgos, configure: Any, person: Applicant, django_capture_on_commit_callbacks: Any
    ) -> None:
        configure()
        verification = started(person)
        ref = fake.open_liveform(verification.client_link)
        fake.decide(ref, "approved")
        response = deliver(*fake.webhook_for(ref), django_capture_on_commit_callbacks)
        assert response.status_code == 200, response.content
        verification.refresh_from_db()
        assert verification.status == V.APPROVED
        assert verification.provider_verification_id == ref

    def test_other_source_is_refused(
        self, fake: FakeArgos, configure: Any, person: Applicant, django_capture_on_commit_callbacks: Any
    ) -> None:
        configure(ALLOWED_IPS=list(DEFAULT_ALLOWED_IPS))
        verification = started(person)
        ref = fake.open_liveform(verification.client_link)
        fake.decide(ref, "approved")
        response = deliver(*fake.webhook_for(ref), django_capture_on_commit_callbacks)
        assert response.status_code == 403
        assert not WebhookEvent.objects.exists()

    def test_forwarded_for_is_ignored_unless_the_site_opts_in(
        self, fake: FakeArgos, configure: Any, person: Applicant, django_capture_on_commit_callbacks: Any
    ) -> None:
        configure(ALLOWED_IPS=list(DEFAULT_ALLOWED_IPS))
        verification = started(person)
        ref = fake.open_liveform(verification.client_link)
        fake.decide(ref, "approved")
        body, headers = fake.webhook_for(ref)
        spoofed = {**headers, "X-Forwarded-For": "52.78.194.237"}
        assert deliver(body, spoofed, django_capture_on_commit_callbacks).status_code == 403
        configure(ALLOWED_IPS=list(DEFAULT_ALLOWED_IPS), TRUST_FORWARDED_FOR=1)
        assert deliver(body, spoofed, django_capture_on_commit_callbacks).status_code == 200
        # behind one trusted proxy, only the entry that proxy wrote counts, not what the sender prepended
        forged = {**headers, "X-Forwarded-For": "52.78.194.237, 203.0.113.9"}
        assert deliver(body, forged, django_capture_on_commit_callbacks).status_code == 403

    def test_bad_trust_setting_is_a_configuration_error(self) -> None:
        with pytest.raises(KycConfigurationError, match="TRUST_FORWARDED_FOR"):
            ArgosBackend("a", {"API_KEY": "k", "PROJECT_ID": "p", "TRUST_FORWARDED_FOR": "yes"})
        with pytest.raises(KycConfigurationError, match="ENCRYPTION"):
            ArgosBackend("a", {"API_KEY": "k", "PROJECT_ID": "p", "ENCRYPTION": "cbc"})


# --- Liveform and submissions ---------------------------------------------------------------------------


@pytest.mark.django_db
class TestSubmissions:
    def test_liveform_link_carries_pid_userid_email_and_custom_fields(
        self, fake: FakeArgos, configure: Any, person: Applicant
    ) -> None:
        configure(CUSTOM_FIELDS={"cf1": "reference", "cf2": "external_id"})
        verification = started(person)
        link = urlsplit(verification.client_link)
        assert f"{link.scheme}://{link.netloc}{link.path}" == fake.liveform_url
        assert parse_qs(link.query) == {
            "pid": [PROJECT_ID],
            "userid": [str(verification.pk)],
            "email": ["jane@example.com"],
            "cf1": [person.reference],
            "cf2": ["crm-1"],
        }
        assert fake.applicant_count() == 0  # nothing at ARGOS until the person starts
        assert fake.calls == [("GET", "/v3/submission")]

    def test_the_fake_liveform_page_creates_the_submission(
        self, fake: FakeArgos, configure: Any, person: Applicant
    ) -> None:
        configure()
        verification = started(person)
        answer = requests.get(verification.client_link, timeout=5)
        assert answer.status_code == 200
        (only,) = fake.submissions.values()
        assert only["userid"] == str(verification.pk)
        assert only["data"]["cf1"] == person.reference

    def test_most_recent_approved_submission_wins_and_older_ones_never_regress_it(
        self, fake: FakeArgos, configure: Any, person: Applicant, django_capture_on_commit_callbacks: Any
    ) -> None:
        configure()
        verification = started(person)
        first = fake.open_liveform(verification.client_link)  # abandoned
        second = fake.open_liveform(verification.client_link)
        third = fake.open_liveform(verification.client_link)  # a later attempt, still pending
        fake.decide(second, "approved")
        fake.decide(third, "pending")
        assert deliver(*fake.webhook_for(second), django_capture_on_commit_callbacks).status_code == 200
        verification.refresh_from_db()
        assert (verification.status, verification.provider_verification_id) == (V.APPROVED, second)
        # ARGOS rejects the abandoned one ~24 h later and tells us; the approval stands
        fake.decide(first, "rejected", comment_code=["too_many_retry"])
        assert deliver(*fake.webhook_for(first), django_capture_on_commit_callbacks).status_code == 200
        verification.refresh_from_db()
        assert (verification.status, verification.provider_verification_id) == (V.APPROVED, second)
        history = [row["submission_id"] for row in verification.provider_data["argos"]["submissions"]]
        assert set(history) == {first, second, third}
        assert pick_submission(list(fake.submissions.values()))["submission_id"] == second

    def test_forged_decision_does_not_burn_the_genuine_webhooks_key(
        self, fake: FakeArgos, configure: Any, person: Applicant, django_capture_on_commit_callbacks: Any
    ) -> None:
        """ARGOS signs nothing: a delivery byte for byte equal to the approval webhook, sent from an allowed
        address before ARGOS approved, changes nothing (the state is fetched) and must not make ARGOS's own
        webhook a "duplicate" when it comes."""
        configure()
        verification = started(person)
        ref = fake.open_liveform(verification.client_link)
        fake.decide(ref, "pending")
        before = copy.deepcopy(fake.submissions[ref])
        fake.decide(ref, "approved")
        genuine, headers = fake.webhook_for(ref)
        approved = copy.deepcopy(fake.submissions[ref])
        fake.submissions[ref] = before  # ARGOS has not approved yet when the forgery arrives
        assert deliver(genuine, headers, django_capture_on_commit_callbacks).json() == {"stored": 1, "duplicates": 0}
        verification.refresh_from_db()
        assert verification.status == V.REVIEW
        fake.submissions[ref] = approved
        assert deliver(genuine, headers, django_capture_on_commit_callbacks).json() == {"stored": 1, "duplicates": 0}
        verification.refresh_from_db()
        assert verification.status == V.APPROVED
        # confirmed now: ARGOS's retry of the same webhook is a duplicate
        assert deliver(genuine, headers, django_capture_on_commit_callbacks).json() == {"stored": 0, "duplicates": 1}

    def test_claim_confirmation_reads_submission_update_and_result(self, configure: Any) -> None:
        configure()
        backend = argos()
        state = backend.state_from(
            {"submission_id": "s1", "kyc": {"result": "approved"}, "updated_at": "2026-01-02-03-04-05-006"}
        )

        def claim(**fields: str) -> ProviderEvent:
            body = {"submission_id": "s1", "trigger": "approved", "updated_at": "2026-01-02-03-04-05-006", **fields}
            return ProviderEvent(event_id="x", event_type="t", state=None, claim=json.dumps(body))

        assert backend.claim_confirmed(claim(), state)
        assert backend.claim_confirmed(claim(updated_at="2026-01-02-03-04-05-005"), state)  # an older update
        assert not backend.claim_confirmed(claim(updated_at="2026-01-02-03-04-05-007"), state)  # not yet
        assert not backend.claim_confirmed(claim(trigger="rejected"), state)
        assert not backend.claim_confirmed(claim(submission_id="s2"), state)
        assert not backend.claim_confirmed(claim(submission_id=""), state)
        assert backend.claim_confirmed(claim(trigger="updated", updated_at=""), state)

    def test_scores_comment_codes_and_attempts_are_kept(
        self, fake: FakeArgos, configure: Any, person: Applicant, django_capture_on_commit_callbacks: Any
    ) -> None:
        configure()
        verification = started(person)
        ref = fake.open_liveform(verification.client_link)
        fake.decide(ref, "retry")
        fake.decide(ref, "rejected", comment_code=["expired_id"])
        assert deliver(*fake.webhook_for(ref), django_capture_on_commit_callbacks).status_code == 200
        verification.refresh_from_db()
        assert verification.status == V.DECLINED
        assert verification.reasons == ["expired_id", "liveness_score:0.98", "face_similarity_score:91.5"]
        data = verification.provider_data["argos"]
        assert data["result"] == "rejected"
        assert data["comment_code"] == ["expired_id"]
        assert [a["retry_code"] for a in data["attempts"]] == [["liveness_error"], []]
        assert (data["liveness_score"], data["face_similarity_score"]) == (0.98, 91.5)
        assert "ip_address" not in json.dumps(verification.provider_data)

    def test_approval_fills_the_date_of_birth_and_a_document(
        self, fake: FakeArgos, configure: Any, make_applicant: Any, django_capture_on_commit_callbacks: Any
    ) -> None:
        configure()
        applicant = make_applicant(email="x@example.com", with_document=False)
        verification = started(applicant)
        ref = fake.open_liveform(verification.client_link)
        fake.decide(ref, "approved")
        deliver(*fake.webhook_for(ref), django_capture_on_commit_callbacks)
        applicant.refresh_from_db()
        assert str(applicant.date_of_birth) == "1990-02-03"
        document = applicant.documents.get()
        assert (document.type, document.number, document.status) == ("passport", "925076473", "accepted")

    def test_reconcile_walks_every_page_and_applies_the_faq_rule(
        self, fake: FakeArgos, configure: Any, make_applicant: Any
    ) -> None:
        configure()
        verifications = [started(make_applicant(email=f"p{i}@example.com", last_name=f"P{i}")) for i in range(3)]
        refs = [fake.open_liveform(v.client_link) for v in verifications]
        older_reject = fake.open_liveform(verifications[0].client_link)
        fake.decide(refs[0], "approved")
        fake.decide(older_reject, "rejected")
        fake.decide(refs[1], "pending")
        fake.submit(userid="not-ours")  # made outside our links: skipped
        fake.calls.clear()
        events = list(argos().reconcile())
        pages = [call for call in fake.calls if call == ("GET", "/v3/submission")]
        assert len(pages) == 3  # 5 submissions, 2 per page
        by_ref = {event.our_ref: event for event in events}
        assert set(by_ref) == {str(v.pk) for v in verifications}
        first = by_ref[str(verifications[0].pk)]
        assert (first.provider_ref, first.state and first.state.status) == (refs[0], V.APPROVED)
        assert by_ref[str(verifications[1].pk)].state.status == V.REVIEW  # type: ignore[union-attr]
        assert by_ref[str(verifications[2].pk)].state.status == V.AWAITING_USER  # type: ignore[union-attr]

    def test_reconcile_since_rereads_each_users_submissions(
        self, fake: FakeArgos, configure: Any, person: Applicant
    ) -> None:
        configure()
        verification = started(person)
        ref = fake.open_liveform(verification.client_link)
        fake.decide(ref, "approved")
        fake.calls.clear()
        (event,) = argos().reconcile(since=datetime(2020, 1, 1, tzinfo=timezone.utc))
        assert event.state is not None
        assert event.state.status == V.APPROVED
        assert len(fake.calls) == 2  # the window, then that user's submissions

    def test_reconcile_groups_through_an_encrypted_spill_file(self) -> None:
        """The listing is grouped on disk, not in memory: groups in first-seen order, items in listing order,
        values unchanged by the round trip, and nothing readable in the file (submissions carry PII)."""
        listing = [
            ("u2", {"submission_id": "b", "data": {"name": "JANE SMITH", "score": 0.98}}),
            ("u1", {"submission_id": "a", "kyc": {"result": "approved", "attempts": [{"attemptCnt": 1}]}}),
            ("u2", {"submission_id": "c", "data": {"name": "Zoë Ünïcode", "none": None}}),
        ]
        with SpilledGroups() as groups:
            for key, item in listing:
                groups.add(key, item)
            assert len(groups) == 2
            assert list(groups) == [("u2", [listing[0][1], listing[2][1]]), ("u1", [listing[1][1]])]
            assert list(groups) == list(groups)  # reads do not disturb the file
            groups._file.seek(0)
            raw = groups._file.read()
        assert raw.count(b"\n") == 3
        # the markers hold a space or quotes, which base64 never does: a random token cannot contain them
        assert b"JANE SMITH" not in raw
        assert b'"approved"' not in raw

    def test_reconcile_pages_parameters_reach_argos(self, fake: FakeArgos, configure: Any) -> None:
        configure()
        for index in range(5):
            fake.submit(userid=f"u{index}")
        items = list(argos().iter_submissions(request_type="kyc", start_date="2000-01-01"))
        assert len(items) == 5
        assert all(set(item) == {"submission_id", "kyc"} for item in items)


# --- reviews, erasure, errors ---------------------------------------------------------------------------


@pytest.mark.django_db
class TestClientReview:
    @pytest.fixture
    def pending(
        self, fake: FakeArgos, configure: Any, person: Applicant, django_capture_on_commit_callbacks: Any
    ) -> tuple[Verification, str]:
        configure(PUSH_DECISIONS=True)
        verification = started(person)
        ref = fake.open_liveform(verification.client_link)
        fake.decide(ref, "pending")
        deliver(*fake.webhook_for(ref), django_capture_on_commit_callbacks)
        verification.refresh_from_db()
        assert verification.status == V.REVIEW
        return verification, ref

    def test_decline_is_pushed_with_the_reviewers_comment(
        self, fake: FakeArgos, pending: tuple[Verification, str], reviewer: Any, django_capture_on_commit_callbacks: Any
    ) -> None:
        verification, ref = pending
        with django_capture_on_commit_callbacks(execute=True):
            review.decide(
                verification.pk, "decline", user=reviewer, reason_code=_reason_code(), comment="Document edited"
            )
        assert fake.reviews == [
            {"admin": ADMIN, "submissionId": ref, "status": "rejected", "rejectComment": "Document edited"}
        ]
        assert fake.submission(ref)["kyc"]["result"] == "rejected"

    def test_approve_is_pushed(
        self, fake: FakeArgos, pending: tuple[Verification, str], reviewer: Any, django_capture_on_commit_callbacks: Any
    ) -> None:
        verification, ref = pending
        with django_capture_on_commit_callbacks(execute=True):
            review.decide(verification.pk, "approve", user=reviewer, reason_code=_reason_code())
        assert fake.reviews[0]["status"] == "approved"
        assert fake.submission(ref)["kyc"]["result"] == "approved"

    def test_resubmission_cannot_be_pushed(self, pending: tuple[Verification, str]) -> None:
        with pytest.raises(UnsupportedFeature):
            argos().push_decision(pending[0], V.RESUBMISSION_REQUESTED)

    def test_an_unregistered_admin_is_argos_permanent_error(
        self, fake: FakeArgos, pending: tuple[Verification, str], configure: Any
    ) -> None:
        configure(PUSH_DECISIONS=True, ADMIN="intruder@example.com")
        with pytest.raises(PermanentProviderError, match="admin is not registered"):
            argos().push_decision(pending[0], V.APPROVED)


def _reason_code() -> str:
    from django_kyc.reasons import reason_codes

    return next(iter(reason_codes()))


@pytest.mark.django_db
def test_delete_applicant_deletes_every_submission(fake: FakeArgos, configure: Any, person: Applicant) -> None:
    configure()
    verification = started(person)
    refs = {fake.open_liveform(verification.client_link) for _ in range(3)}
    fake.decide(sorted(refs)[0], "approved")
    argos().delete_applicant(person)
    assert {row["submission_id"] for row in fake.deleted} == refs
    assert all(row["admin_name"] == ADMIN for row in fake.deleted)
    assert all(not fake.submission(ref)["email"] for ref in refs)
    argos().delete_applicant(person)  # a retried erasure is fine


@pytest.mark.django_db
@pytest.mark.parametrize("answer", ["not Exist Submission Data", "not Exist Submission ID"])
def test_erasure_is_idempotent_whichever_not_exist_answer_argos_gives(answer: str, person: Applicant) -> None:
    """ARGOS's page lists "… Data" for an unknown submission and "… ID" for a missing id, but its own error
    example answers an unknown id with "… ID": either means there is nothing left to delete."""
    server = FakeArgos(api_key=API_KEY, project_id=PROJECT_ID, admin=ADMIN, gone_message=answer)
    with server, ArgosContract().configured(options_for(server)):
        verification = started(person)
        ref = server.open_liveform(verification.client_link)
        server.decide(ref, "approved")
        argos().delete_applicant(person)
        assert [row["submission_id"] for row in server.deleted] == [ref]
        argos().delete_applicant(person)  # again: ARGOS answers `answer`, and that is fine
        assert [row["submission_id"] for row in server.deleted] == [ref]


@pytest.mark.django_db
def test_not_exist_answer_for_a_submission_still_holding_personal_data_is_an_error(
    fake: FakeArgos, configure: Any, person: Applicant
) -> None:
    """ "not Exist Submission ID" also means ARGOS did not read the id: then nothing was erased, and saying
    so beats counting it as done."""
    configure()
    verification = started(person)
    ref = fake.open_liveform(verification.client_link)
    fake.decide(ref, "approved")
    fake.fail_next(1, status=400, message="not Exist Submission ID", method="DELETE")
    with pytest.raises(PermanentProviderError, match=f"still lists its personal data .*{ref}|{ref}.*not erased"):
        argos().delete_applicant(person)
    assert fake.submission(ref)["email"] == "jane@example.com"


@pytest.mark.parametrize(
    ("body", "status", "expected"),
    [
        ({"errorCode": "invalid_payload"}, 400, "invalid_payload: ARGOS could not parse the request body"),
        ({"errorCode": "missing_data", "message": "Required input data is missing"}, 400, "missing_data: a required"),
        ({"errorCode": "invalid_admin"}, 400, "ADMIN account"),
        ({"message": "not Exist Submission ID", "statusCode": 400}, 400, "not Exist Submission ID"),
        ({"message": "Forbidden"}, 403, "Forbidden (check API_KEY"),
    ],
)
def test_error_bodies_become_clear_messages(body: dict[str, Any], status: int, expected: str) -> None:
    response = requests.Response()
    response.status_code = status
    response._content = json.dumps(body).encode()
    assert expected in argos_error_message(response)
    assert set(ERROR_CODES) >= {"invalid_payload", "missing_data", "invalid_project", "invalid_admin"}


def test_an_error_code_inside_an_encrypted_answer_is_explained() -> None:
    """The client decrypts before it looks for ``errorCode``, so an encrypted error reads like a plain one."""
    key = encryption_key(API_KEY)
    error = json.dumps({"errorCode": "invalid_format", "message": "invalid format: count"}).encode()
    response = requests.Response()
    response.status_code = 200
    response._content = json.dumps({"isEncrypted": True, "data": ecb_encrypt(key, error)}).encode()
    client = ArgosClient(provider="argos", base_url="https://argos.invalid/v3", key=key)
    with pytest.raises(PermanentProviderError, match=r"invalid_format: a request parameter .* invalid format: count"):
        client.decode(response)


def test_one_submission_by_its_id(fake: FakeArgos) -> None:
    client = ArgosBackend(ALIAS, options_for(fake)).client
    ref = fake.submit("user-1")
    fake.submit("user-2")
    assert client.get_submission(ref)["submission_id"] == ref
    assert client.get_submission(ref, request_type="kyc") == {"submission_id": ref, "kyc": fake.submission(ref)["kyc"]}
    with pytest.raises(PermanentProviderError, match="ARGOS has no submission nope"):
        client.get_submission("nope")


@pytest.mark.django_db
def test_body_error_codes_end_in_a_permanent_error(fake: FakeArgos, configure: Any) -> None:
    configure()
    with pytest.raises(PermanentProviderError, match="invalid_parameter: the request has a parameter") as caught:
        list(argos().iter_submissions(request_type="everything"))
    assert "Invalid parameter: request_type" in str(caught.value)


# --- AML ------------------------------------------------------------------------------------------------


@pytest.mark.django_db
class TestAml:
    @pytest.fixture
    def approved(
        self, fake: FakeArgos, configure: Any, person: Applicant, django_capture_on_commit_callbacks: Any
    ) -> tuple[Applicant, str]:
        configure(AML_WORKLIST_ID="wl-1")
        verification = started(person)
        ref = fake.open_liveform(verification.client_link)
        fake.decide(ref, "approved")
        deliver(*fake.webhook_for(ref), django_capture_on_commit_callbacks)
        return person, ref

    def run(self, applicant: Applicant) -> AmlCheck:
        with_check = aml.start_check(applicant, Change.system(Source.API), backend=ALIAS)
        aml.run_check(with_check.pk)
        with_check.refresh_from_db()
        return with_check

    def test_red_flag_becomes_hits_and_the_report_is_fetched_on_demand(
        self, fake: FakeArgos, approved: tuple[Applicant, str]
    ) -> None:
        applicant, ref = approved
        fake.set_aml(
            ref,
            matches=[
                {"score": 96.5, "risk_level": "HIGH", "risk_icons": ["SAN", "PEP"]},
                {"score": 71.0, "risk_level": "LOW"},
            ],
        )
        check = self.run(applicant)
        assert check.status == AmlStatus.POTENTIAL_MATCH
        assert (check.provider_status, check.provider_check_id, check.score, check.risk_level) == (
            "Red Flag",
            ref,
            96.5,
            "high",
        )
        assert check.monitored is True
        assert fake.monitored == {"wl-1": [ref]}
        hits = list(AmlHit.objects.filter(aml_check=check).order_by("-score"))
        assert [(h.entity_id, h.score, h.topics) for h in hits] == [
            (f"res-{ref}-0", 96.5, ["SAN", "PEP"]),
            (f"res-{ref}-1", 71.0, ["SAN"]),
        ]
        content, content_type = argos().aml_report(check)
        assert (content, content_type) == (REPORT_PDF, "application/pdf")

    def test_not_screened_is_clear_and_enrolment_happens_once(
        self, fake: FakeArgos, approved: tuple[Applicant, str]
    ) -> None:
        applicant, ref = approved
        first = self.run(applicant)
        assert (first.status, first.risk_level, first.monitored) == (AmlStatus.CLEAR, "", True)
        second = self.run(applicant)
        assert second.monitored is True
        assert fake.monitored == {"wl-1": [ref]}
        with pytest.raises(PermanentProviderError, match="no Red Flag"):
            argos().aml_report(first)

    @pytest.mark.parametrize("shape", ["results", "summary"])
    def test_enrolment_answer_of_another_shape_counts_and_is_never_repeated(
        self, fake: FakeArgos, approved: tuple[Applicant, str], shape: str
    ) -> None:
        """Another plausible answer shape (``results[].recordId``, or only a ``summary``) is an enrolment all
        the same, so the next check must not enrol the submission a second time."""
        applicant, ref = approved
        fake.monitor_answer = shape
        first = self.run(applicant)
        assert (first.status, first.monitored) == (AmlStatus.CLEAR, True)
        assert first.provider_data["monitoring"]["state"] == "enrolled"
        second = self.run(applicant)
        assert second.monitored is True
        assert fake.monitored == {"wl-1": [ref]}

    def test_enrolment_whose_answer_was_lost_is_never_repeated(
        self, fake: FakeArgos, approved: tuple[Applicant, str]
    ) -> None:
        """ARGOS registered the submission but the answer never came. The screening result stands, the
        enrolment is "unknown" for a person to check, and no later check enrols it again."""
        applicant, ref = approved
        fake.fail_next(1, kind="lost", method="POST", path=r"/v3/submission/aml/monitor/.*")
        first = self.run(applicant)
        assert (first.status, first.monitored) == (AmlStatus.CLEAR, False)
        assert first.provider_data["monitoring"]["state"] == "unknown"
        assert "dashboard" in first.provider_data["monitoring"]["error"]
        second = self.run(applicant)
        assert (second.monitored, second.provider_data["monitoring"]["state"]) == (False, "unknown")
        assert fake.monitored == {"wl-1": [ref]}

    def test_enrolled_records_are_checked_at_argos_before_enrolling_again(
        self, fake: FakeArgos, approved: tuple[Applicant, str]
    ) -> None:
        applicant, ref = approved
        first = self.run(applicant)
        (record,) = first.provider_data["monitoring"]["record_ids"]
        fake.calls.clear()
        second = self.run(applicant)
        assert second.provider_data["monitoring"]["records"] == [{"record_id": record, "status": "screenedNoMatches"}]
        assert ("GET", f"/v3/submission/aml/monitor/wl-1/{record}") in fake.calls
        assert fake.monitored == {"wl-1": [ref]}
        # the record was removed at ARGOS: the submission is not monitored any more, so it is enrolled again
        fake.records.clear()
        third = self.run(applicant)
        assert third.monitored is True
        assert fake.monitored == {"wl-1": [ref, ref]}

    def test_submission_argos_cannot_enrol_is_recorded_not_failed(
        self, fake: FakeArgos, configure: Any, person: Applicant, django_capture_on_commit_callbacks: Any
    ) -> None:
        """ARGOS answers HTTP 500 ``all_submissions_failed`` when nothing was registered: not a provider
        outage to retry, and not a reason to lose the screening result."""
        configure(AML_WORKLIST_ID="wl-1")
        verification = started(person)
        ref = fake.open_liveform(verification.client_link)
        fake.decide(ref, "approved")
        fake.submission(ref)["data"].pop("date_of_birth")  # ARGOS needs a birth date to monitor
        check = self.run(person)
        assert (check.status, check.monitored) == (AmlStatus.CLEAR, False)
        assert check.provider_data["monitoring"]["state"] == "not_enrolled"
        assert "all_submissions_failed" in check.provider_data["monitoring"]["error"]

    def test_before_approval_the_check_is_running(self, fake: FakeArgos, configure: Any, person: Applicant) -> None:
        configure()
        verification = started(person)
        ref = fake.open_liveform(verification.client_link)
        fake.decide(ref, "pending")
        check = self.run(person)
        assert check.status == AmlStatus.RUNNING
        fake.decide(ref, "approved")
        check.next_attempt_at = None
        check.save()
        aml.run_check(check.pk)
        check.refresh_from_db()
        assert check.status == AmlStatus.CLEAR
        assert check.monitored is False  # no AML_WORKLIST_ID

    def test_no_submission_is_a_permanent_error(self, configure: Any, person: Applicant) -> None:
        configure()
        started(person)
        check = self.run(person)
        assert check.status == AmlStatus.ERROR
        assert "not completed the Liveform" in check.last_error
