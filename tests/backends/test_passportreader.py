"""PassportReader against its fake server: the shared contract, plus what only PassportReader has
(unsigned callbacks authenticated by a sealed reference, chip data, the API reference's retry guidance;
``docs/providers/passportreader.md``). The state table alone: ``test_passportreader_statuses.py``."""

from __future__ import annotations

import json
from datetime import date, timedelta
from typing import Any
from urllib.parse import parse_qs, urlsplit

import pytest
from django.test import Client, override_settings
from django.utils import timezone

from django_kyc.backends import get_backend
from django_kyc.backends.passportreader import (
    REFERENCE_PURPOSE,
    PassportReaderBackend,
    passportreader_error_message,
)
from django_kyc.backends.signing import derive_key, open_sealed, seal
from django_kyc.exceptions import KycConfigurationError, PermanentProviderError, WebhookAuthenticationError
from django_kyc.models import Applicant, AuditEvent, Document, Verification, WebhookEvent
from django_kyc.services import polling, submission
from django_kyc.services.retry import max_attempts, next_attempt_at
from django_kyc.status import DocumentStatus, VerificationStatus
from django_kyc.testing import FakeProviderServer
from django_kyc.testing.passportreader import PORTRAIT, SPECIMEN, UNKNOWN_STATE, FakePassportReader
from tests.backends.contract import ALIAS, BackendContract

V = VerificationStatus
PUBLIC_KEY = "public-key-3f9a1c"
SECRET = "secret-7be2d4"


def pr_backend() -> PassportReaderBackend:
    instance = get_backend(ALIAS)
    assert isinstance(instance, PassportReaderBackend)
    return instance


class TestPassportReaderContract(BackendContract):
    backend_class = "django_kyc.backends.passportreader.PassportReaderBackend"
    server_class = FakePassportReader
    STATUS_TABLE = [
        ("CREATED", V.AWAITING_USER),
        ("INITIATED", V.AWAITING_USER),
        ("COMPLETED", V.PROCESSING),
        ("APPROVED", V.APPROVED),
        ("REJECTED", V.DECLINED),
        ("FAILED", V.RESUBMISSION_REQUESTED),
        ("ABORTED", V.RESUBMISSION_REQUESTED),
    ]
    UNKNOWN_OUTCOME = UNKNOWN_STATE
    PROGRESS_OUTCOME = "COMPLETED"
    APPROVED_OUTCOME = "APPROVED"
    #: a hosted hand-off: the session waits for the person to scan their passport in the Iris ID app
    SUBMITTED_STATUS = V.AWAITING_USER
    SIGNED = False
    TIMESTAMPED = False
    PERMANENT_STATUS = 400
    CREATE_CALL = ("POST", r"/api/v1/session\.create")

    def server_kwargs(self) -> dict[str, Any]:
        return {"public_key": PUBLIC_KEY, "secret": SECRET}

    def backend_options(self, server: FakeProviderServer) -> dict[str, Any]:
        assert isinstance(server, FakePassportReader)
        return {
            "PUBLIC_KEY": PUBLIC_KEY,
            "SECRET": SECRET,
            "BASE_URL": server.api_base,
            "CALLBACK_URL": f"http://testserver/kyc/webhooks/{ALIAS}/",
            "REDIRECT_URL": "https://example.com/kyc/done/",
            "REFERENCE_KEYS": ["reference-key-current"],
        }

    def wrong_credentials(self, options: dict[str, Any]) -> dict[str, Any]:
        return {**options, "SECRET": "secret-revoked"}

    def forged_delivery(self, server: FakeProviderServer, ref: str) -> tuple[bytes, dict[str, str]]:
        """The real callback, but its reference sealed with a key that is not ours (naming the right
        verification: knowing our ids must not be enough)."""
        body, headers = server.webhook_for(ref)
        payload = json.loads(body)
        verification = Verification.objects.get(provider_verification_id=ref)
        payload["session_reference"] = seal(derive_key("attacker", REFERENCE_PURPOSE), {"v": str(verification.pk)})
        return json.dumps(payload).encode(), headers

    def test_status_table_covers_every_known_state(self) -> None:
        assert dict(self.STATUS_TABLE) == dict(PassportReaderBackend.STATUS_MAP)
        assert PassportReaderBackend("pr", {"PUBLIC_KEY": "p", "SECRET": "s"}).map_status("NEW_STATE") == V.REVIEW

    def test_reference_key_derivation_is_pinned(self) -> None:
        """Computed vector: changing the derivation would orphan every open session's reference."""
        assert derive_key("reference-key-current", REFERENCE_PURPOSE).hex() == (
            "cbcaeec2f7540392b11ef9edacbb650cf60e2e810e72c6601f7b676afaf1be5c"
        )

    # --- the request PassportReader receives -----------------------------------------------------------
    @pytest.mark.django_db
    def test_session_create_carries_callback_face_verification_and_a_sealed_reference(
        self, server: FakePassportReader, submitted: Verification
    ) -> None:
        (sent,) = server.created_with
        assert sent["callback_url"] == f"http://testserver/kyc/webhooks/{ALIAS}/"
        assert sent["face_verification"] is False
        assert str(submitted.pk) not in sent["reference"]  # opaque to the provider
        assert open_sealed(pr_backend().reference_keys, sent["reference"]) == {"v": str(submitted.pk)}
        assert submitted.provider_verification_id == str(server.session(submitted.provider_verification_id)["id"])

    @pytest.mark.django_db
    def test_hand_off_link_carries_the_token_and_redirect(
        self, server: FakePassportReader, submitted: Verification
    ) -> None:
        token = server.token_for(submitted.provider_verification_id)
        assert submitted.client_token == token
        link = urlsplit(submitted.client_link)
        assert f"{link.scheme}://{link.netloc}{link.path}" == "https://passportreader.app/open"
        assert parse_qs(link.query) == {"token": [token], "redirect_url": ["https://example.com/kyc/done/"]}
        assert submitted.client_token_expires_at is not None
        # kept for a retry, but sealed: admin shows provider_data
        assert token not in json.dumps(submitted.provider_data)

    @pytest.mark.django_db
    def test_face_verification_option_is_sent(
        self, server: FakePassportReader, options: dict[str, Any], applicant: Applicant
    ) -> None:
        with self.configured({**options, "FACE_VERIFICATION": True}):
            submission.submit_verification(self.start(applicant).pk)
        assert server.created_with[0]["face_verification"] is True

    # --- sealed references -----------------------------------------------------------------------------
    @pytest.mark.django_db
    def test_sealed_reference_round_trip(self, backend: None) -> None:
        sealed = pr_backend().seal_reference("3b0c3c5e-4f63-4d2e-9f55-0e0c1b3a8d11")
        assert pr_backend().open_reference(sealed) == "3b0c3c5e-4f63-4d2e-9f55-0e0c1b3a8d11"
        assert sealed != pr_backend().seal_reference("3b0c3c5e-4f63-4d2e-9f55-0e0c1b3a8d11")  # fresh nonce
        with pytest.raises(WebhookAuthenticationError):
            pr_backend().open_reference(sealed[:-2] + ("A" if sealed[-2] != "A" else "B") + sealed[-1])

    @pytest.mark.django_db
    def test_reference_keys_default_to_secret_key_and_its_fallbacks(self, server: FakePassportReader) -> None:
        options = {k: v for k, v in self.backend_options(server).items() if k != "REFERENCE_KEYS"}
        with self.configured(options), override_settings(SECRET_KEY="new-key", SECRET_KEY_FALLBACKS=["old-key"]):
            keys = pr_backend().reference_keys
        assert keys == [derive_key("new-key", REFERENCE_PURPOSE), derive_key("old-key", REFERENCE_PURPOSE)]
        assert derive_key("new-key", REFERENCE_PURPOSE) != derive_key("new-key", "another purpose")

    @pytest.mark.django_db
    def test_reference_key_rotation(
        self,
        server: FakePassportReader,
        options: dict[str, Any],
        applicant: Applicant,
        django_capture_on_commit_callbacks: Any,
    ) -> None:
        with self.configured({**options, "REFERENCE_KEYS": ["key-2025"]}):
            verification = self.start(applicant)
            submission.submit_verification(verification.pk)
        verification.refresh_from_db()
        ref = self.ref(verification)
        server.decide(ref, "INITIATED")
        # the old key is gone: the callback cannot be believed
        with self.configured({**options, "REFERENCE_KEYS": ["key-2026"]}):
            assert self.post(django_capture_on_commit_callbacks, *server.webhook_for(ref)).status_code == 403
        # rotated: new first (used for new references), old still accepted
        with self.configured({**options, "REFERENCE_KEYS": ["key-2026", "key-2025"]}):
            assert pr_backend().open_reference(pr_backend().seal_reference("x")) == "x"
            with pytest.raises(WebhookAuthenticationError):
                open_sealed([derive_key("key-2025", REFERENCE_PURPOSE)], pr_backend().seal_reference("x"))
            server.decide(ref, "APPROVED")
            assert self.post(django_capture_on_commit_callbacks, *server.webhook_for(ref)).status_code == 200
        verification.refresh_from_db()
        assert verification.status == V.APPROVED

    # --- unsigned callbacks ----------------------------------------------------------------------------
    @pytest.mark.django_db
    def test_reference_naming_another_verification_is_rejected(
        self,
        server: FakePassportReader,
        submitted: Verification,
        make_applicant: Any,
        django_capture_on_commit_callbacks: Any,
    ) -> None:
        other = self.start(make_applicant(last_name="Other"))
        body, headers = server.webhook_for(self.ref(submitted), "APPROVED")
        forged = {**json.loads(body), "session_reference": pr_backend().seal_reference(str(other.pk))}
        response = self.post(django_capture_on_commit_callbacks, json.dumps(forged).encode(), headers)
        assert response.status_code == 403
        assert not WebhookEvent.objects.exists()

    @pytest.mark.django_db
    def test_reference_of_this_verification_with_a_foreign_session_is_rejected(
        self, server: FakePassportReader, submitted: Verification, django_capture_on_commit_callbacks: Any
    ) -> None:
        body, headers = server.webhook_for(self.ref(submitted), "APPROVED")
        forged = {**json.loads(body), "session_id": int(self.ref(submitted)) + 1}
        assert self.post(django_capture_on_commit_callbacks, json.dumps(forged).encode(), headers).status_code == 403
        assert not WebhookEvent.objects.exists()

    @pytest.mark.django_db
    @pytest.mark.parametrize(
        ("change", "status"),
        [
            pytest.param({"session_reference": None}, 401, id="no-reference"),
            pytest.param({"session_reference": "not-sealed"}, 403, id="garbage-reference"),
            pytest.param({"session_id": "12"}, 400, id="string-id"),
            pytest.param({"session_state": None}, 400, id="no-state"),
        ],
    )
    def test_malformed_callbacks_are_refused(
        self,
        server: FakePassportReader,
        submitted: Verification,
        django_capture_on_commit_callbacks: Any,
        change: dict[str, Any],
        status: int,
    ) -> None:
        body, headers = server.webhook_for(self.ref(submitted), "APPROVED")
        payload = {k: v for k, v in {**json.loads(body), **change}.items() if v is not None}
        assert (
            self.post(django_capture_on_commit_callbacks, json.dumps(payload).encode(), headers).status_code == status
        )
        assert not WebhookEvent.objects.exists()

    @pytest.mark.django_db
    def test_callback_state_is_not_trusted(
        self, server: FakePassportReader, submitted: Verification, django_capture_on_commit_callbacks: Any
    ) -> None:
        """A callback claiming APPROVED for a session the provider still has as INITIATED changes nothing
        beyond what session.get says."""
        server.decide(self.ref(submitted), "INITIATED")
        body, headers = server.webhook_for(self.ref(submitted))
        lying = json.dumps({**json.loads(body), "session_state": "APPROVED"}).encode()
        assert self.post(django_capture_on_commit_callbacks, lying, headers).status_code == 200
        submitted.refresh_from_db()
        assert (submitted.status, submitted.provider_status) == (V.AWAITING_USER, "INITIATED")
        assert WebhookEvent.objects.get().event_id == f"{self.ref(submitted)}:APPROVED"

    @pytest.mark.django_db
    def test_forged_state_does_not_burn_the_genuine_callbacks_key(
        self, server: FakePassportReader, submitted: Verification, django_capture_on_commit_callbacks: Any
    ) -> None:
        """Whoever holds a session's reference can send any state, byte for byte what the provider will send.
        Sent early, it changes nothing (the state is fetched) and must not make the provider's real callback
        a "duplicate": the decision would then wait for polling."""
        ref = self.ref(submitted)
        server.decide(ref, "INITIATED")
        body, headers = server.webhook_for(ref)
        forged = json.dumps({**json.loads(body), "session_state": "APPROVED"}).encode()
        assert self.post(django_capture_on_commit_callbacks, forged, headers).json() == {"stored": 1, "duplicates": 0}
        submitted.refresh_from_db()
        assert submitted.status == V.AWAITING_USER
        server.decide(ref, "APPROVED")
        genuine, headers = server.webhook_for(ref)
        assert genuine == forged  # the provider's callback is exactly what was forged
        assert self.post(django_capture_on_commit_callbacks, genuine, headers).json() == {"stored": 1, "duplicates": 0}
        submitted.refresh_from_db()
        assert submitted.status == V.APPROVED
        # confirmed by the fetch, the genuine one now holds the key: a redelivery is a duplicate again
        assert self.post(django_capture_on_commit_callbacks, genuine, headers).json() == {"stored": 0, "duplicates": 1}
        held = WebhookEvent.objects.filter(event_id=f"{ref}:APPROVED")
        assert sorted(held.values_list("holds_event_id", flat=True)) == [False, True]

    @pytest.mark.django_db
    def test_copies_received_before_the_claim_is_confirmed_apply_once(
        self, server: FakePassportReader, submitted: Verification, django_capture_on_commit_callbacks: Any
    ) -> None:
        """Two copies stored before either was processed: both are fetched, one takes the key, the other is
        marked a duplicate, and the decision is applied once."""
        ref = self.ref(submitted)
        server.decide(ref, "APPROVED")
        body, _ = server.webhook_for(ref)
        client = Client()
        with django_capture_on_commit_callbacks(execute=False) as queued:
            for _ in range(2):
                response = client.post(f"/kyc/webhooks/{ALIAS}/", data=body, content_type="application/json")
                assert response.json() == {"stored": 1, "duplicates": 0}
        for callback in queued:
            callback()
        submitted.refresh_from_db()
        assert submitted.status == V.APPROVED
        assert self.status_changes(submitted, V.APPROVED) == 1
        rows = WebhookEvent.objects.order_by("received_at")
        assert [(row.holds_event_id, row.state, row.note) for row in rows] == [
            (True, "processed", "applied"),
            (False, "ignored", "duplicate"),
        ]

    # --- chip data -------------------------------------------------------------------------------------
    def approve(self, server: FakePassportReader, verification: Verification, capture: Any, **fields: Any) -> None:
        server.decide(self.ref(verification), "APPROVED", **fields)
        assert self.post(capture, *server.webhook_for(self.ref(verification))).status_code == 200
        verification.refresh_from_db()
        assert verification.status == V.APPROVED, verification.last_error

    @pytest.mark.django_db
    def test_approved_session_fills_blank_applicant_fields_and_creates_a_passport_document(
        self,
        server: FakePassportReader,
        backend: None,
        make_applicant: Any,
        django_capture_on_commit_callbacks: Any,
    ) -> None:
        applicant = Applicant.objects.create()  # nothing typed: the chip fills it in
        verification = self.start(applicant)
        submission.submit_verification(verification.pk)
        verification.refresh_from_db()
        self.approve(server, verification, django_capture_on_commit_callbacks)

        applicant.refresh_from_db()
        assert (applicant.first_name, applicant.middle_name, applicant.last_name) == ("ANNA", "MARIA", "DE VRIES")
        assert (applicant.date_of_birth, applicant.nationality) == (date(1985, 3, 10), "NL")
        document = Document.objects.get(applicant=applicant)
        assert (document.type, document.number, document.issuing_country) == ("passport", "SPECI2024", "NL")
        assert document.expiry_date is not None
        assert document.expiry_date > date.today()
        assert document.status == DocumentStatus.ACCEPTED
        assert document.provider_document_id == f"passportreader-session-{self.ref(verification)}"
        passport = verification.provider_data["passport"]
        assert (passport["sex"], passport["document_type"], passport["portrait_returned"]) == (
            "FEMALE",
            "PASSPORT",
            True,
        )
        stored = json.dumps(verification.provider_data)
        for not_kept in (PORTRAIT, SPECIMEN["personal_number"], "192.0.2.10", "IrisID"):
            assert not_kept not in stored
        assert "applicant_mismatches" not in verification.provider_data

    @pytest.mark.django_db
    def test_mismatches_with_what_the_applicant_typed_are_recorded(
        self, server: FakePassportReader, submitted: Verification, django_capture_on_commit_callbacks: Any
    ) -> None:
        self.approve(server, submitted, django_capture_on_commit_callbacks)
        mismatches = submitted.provider_data["applicant_mismatches"]
        assert mismatches["first_name"] == {"applicant": "Jane", "provider": "ANNA"}
        assert mismatches["last_name"] == {"applicant": "Smith", "provider": "DE VRIES"}
        assert mismatches["date_of_birth"] == {"applicant": "1990-02-03", "provider": "1985-03-10"}
        assert mismatches["nationality"] == {"applicant": "GB", "provider": "NL"}
        applicant = submitted.applicant
        applicant.refresh_from_db()
        assert (applicant.first_name, applicant.last_name) == ("Jane", "Smith")  # what the person typed stays

    @pytest.mark.django_db
    def test_the_applicants_own_passport_row_is_matched_by_number(
        self, server: FakePassportReader, submitted: Verification, django_capture_on_commit_callbacks: Any
    ) -> None:
        self.approve(
            server,
            submitted,
            django_capture_on_commit_callbacks,
            given_names="JANE",
            surname="SMITH",
            date_of_birth="1990-02-03",
            nationality="GB",
            document_number="x1234567",
            issuing_country="GB",
        )
        (document,) = Document.objects.filter(applicant=submitted.applicant)
        assert (document.number, document.status) == ("X1234567", DocumentStatus.ACCEPTED)
        assert document.provider_document_id == f"passportreader-session-{self.ref(submitted)}"
        assert "applicant_mismatches" not in submitted.provider_data

    @pytest.mark.django_db
    def test_rejected_session_rejects_the_document_without_filling_the_applicant(
        self,
        server: FakePassportReader,
        backend: None,
        make_applicant: Any,
        django_capture_on_commit_callbacks: Any,
    ) -> None:
        applicant = Applicant.objects.create()
        verification = self.start(applicant)
        submission.submit_verification(verification.pk)
        verification.refresh_from_db()
        server.decide(self.ref(verification), "REJECTED")
        assert (
            self.post(django_capture_on_commit_callbacks, *server.webhook_for(self.ref(verification))).status_code
            == 200
        )
        verification.refresh_from_db()
        assert verification.status == V.DECLINED
        assert Document.objects.get(applicant=applicant).status == DocumentStatus.REJECTED
        applicant.refresh_from_db()
        assert (applicant.first_name, applicant.last_name) == ("", "")

    @pytest.mark.django_db
    def test_session_of_another_verification_is_refused_on_fetch(
        self, server: FakePassportReader, submitted: Verification, make_applicant: Any
    ) -> None:
        """A mixed-up session id (the reference inside the session names someone else) moves nothing."""
        other = self.start(make_applicant(last_name="Other"))
        server.decide(self.ref(submitted), "APPROVED")
        Verification.objects.filter(pk=other.pk).update(provider_verification_id=self.ref(submitted))
        other.refresh_from_db()
        with pytest.raises(PermanentProviderError, match="another verification"):
            pr_backend().fetch_verification(other)

    # --- polling and idempotency -----------------------------------------------------------------------
    @pytest.mark.django_db
    def test_polling_reads_session_state_and_fetches_details_only_on_a_decision(
        self, server: FakePassportReader, submitted: Verification
    ) -> None:
        server.calls.clear()
        server.decide(self.ref(submitted), "COMPLETED")
        polling.poll_verification(submitted.pk)
        submitted.refresh_from_db()
        assert submitted.status == V.PROCESSING
        assert server.calls == [("POST", "/api/v1/session.state")]
        server.decide(self.ref(submitted), "APPROVED")
        polling.poll_verification(submitted.pk)
        submitted.refresh_from_db()
        assert submitted.status == V.APPROVED
        assert server.calls[1:] == [("POST", "/api/v1/session.state"), ("POST", "/api/v1/session.get")]

    @pytest.mark.django_db
    def test_retry_after_a_dead_session_creates_a_new_one(
        self, server: FakePassportReader, backend: None, applicant: Applicant
    ) -> None:
        verification = self.start(applicant)
        submission.submit_verification(verification.pk)
        verification.refresh_from_db()
        first = self.ref(verification)
        server.decide(first, "ABORTED")
        Verification.objects.filter(pk=verification.pk).update(status=V.PENDING, next_attempt_at=None)
        submission.submit_verification(verification.pk)
        verification.refresh_from_db()
        assert verification.status == V.AWAITING_USER
        assert self.ref(verification) != first
        assert server.applicant_count() == 2
        assert verification.client_token == server.token_for(self.ref(verification))

    @pytest.mark.django_db
    def test_client_token_is_rechecked_and_reissued_when_the_session_expired(
        self, server: FakePassportReader, submitted: Verification
    ) -> None:
        ref = self.ref(submitted)
        client = pr_backend().issue_client_token(submitted)
        assert client.token == server.token_for(ref)
        assert client.expires_at is not None
        assert client.expires_at.isoformat().replace("+00:00", "Z") == server.session(ref)["expires"]
        server.session(ref)["expires"] = (timezone.now() - timedelta(minutes=1)).strftime("%Y-%m-%dT%H:%M:%SZ")
        fresh = pr_backend().issue_client_token(submitted)
        assert submitted.provider_verification_id != ref
        assert fresh.token == server.token_for(submitted.provider_verification_id)
        assert server.applicant_count() == 2

    @pytest.mark.django_db
    def test_no_token_before_the_submission_task_has_made_a_session(
        self, server: FakePassportReader, backend: None, applicant: Applicant
    ) -> None:
        verification = self.start(applicant)
        assert pr_backend().issue_client_token(verification).token == ""
        assert server.applicant_count() == 0  # the task will create the one session, not the API

    @pytest.mark.django_db
    def test_a_person_told_to_try_again_gets_a_new_session(
        self, server: FakePassportReader, submitted: Verification, django_capture_on_commit_callbacks: Any
    ) -> None:
        first = self.ref(submitted)
        server.decide(first, "FAILED")
        assert self.post(django_capture_on_commit_callbacks, *server.webhook_for(first)).status_code == 200
        submitted.refresh_from_db()
        assert (submitted.status, submitted.reasons) == (V.RESUBMISSION_REQUESTED, ["SESSION_FAILED"])
        fresh = pr_backend().issue_client_token(submitted)
        assert self.ref(submitted) != first
        assert fresh.token == server.token_for(self.ref(submitted))
        # the new session's decision still reaches the verification
        server.decide(self.ref(submitted), "APPROVED")
        assert (
            self.post(django_capture_on_commit_callbacks, *server.webhook_for(self.ref(submitted))).status_code == 200
        )
        submitted.refresh_from_db()
        assert submitted.status == V.APPROVED

    @pytest.mark.django_db
    def test_a_lost_session_is_reported_even_when_the_submission_then_fails(
        self, server: FakePassportReader, backend: None, applicant: Applicant, time_machine: Any
    ) -> None:
        """The session made by the call whose answer was lost exists at PassportReader whatever happens next:
        a submission that ends in error names it too."""
        time_machine.move_to(timezone.now(), tick=False)
        server.fail_next(1, kind="lost_timeout", path=r"/api/v1/session\.create")
        verification = self.start(applicant)
        submission.submit_verification(verification.pk)
        verification.refresh_from_db()
        time_machine.move_to(verification.next_attempt_at, tick=False)
        server.fail_next(1, status=400, message="Missing required property: reference")
        submission.submit_verification(verification.pk)
        verification.refresh_from_db()
        assert verification.status == V.ERROR
        assert server.applicant_count() == 1
        (row,) = AuditEvent.objects.filter(object_id=str(verification.pk), action="possible_duplicate")
        assert (row.data["kind"], row.data["call"]) == ("session", "session.create")
        assert "unanswered_creates" not in verification.provider_data

    # --- the API reference's retry guidance ------------------------------------------------------------
    def test_retry_policy_follows_the_api_reference(self) -> None:
        policy = PassportReaderBackend.retry_policy
        assert max_attempts(policy) == 5  # the first try and 4 retries
        now = timezone.now()
        for attempt, ceiling in ((1, 2), (2, 4), (3, 8), (4, 16), (5, 16)):
            for _ in range(20):
                delay = (next_attempt_at(attempt, now=now, policy=policy) - now).total_seconds()
                assert ceiling / 2 <= delay <= ceiling, (attempt, delay)
        assert PassportReaderBackend.default_timeout == (10.0, 60.0)

    @pytest.mark.django_db
    def test_the_attempt_budget_is_five(
        self, server: FakePassportReader, backend: None, applicant: Applicant, time_machine: Any
    ) -> None:
        time_machine.move_to(timezone.now(), tick=False)
        server.fail_next(5, status=500)
        verification = self.start(applicant)
        for attempt in range(1, 6):
            submission.submit_verification(verification.pk)
            verification.refresh_from_db()
            assert verification.attempts == attempt
            if attempt < 5:
                assert verification.status == V.PENDING
                time_machine.move_to(verification.next_attempt_at, tick=False)
        assert verification.status == V.ERROR
        assert "gave up after 5 attempts" in verification.last_error
        assert "InternalServerError" in verification.last_error
        assert server.applicant_count() == 0

    # --- configuration and errors ----------------------------------------------------------------------
    def test_options_are_named_and_checked(self) -> None:
        assert PassportReaderBackend.missing_options({"SECRET": "secret-x"}) == ["PUBLIC_KEY"]
        with pytest.raises(KycConfigurationError, match=r'\["pr"\]\["OPTIONS"\]\["SECRET"\]'):
            PassportReaderBackend("pr", {"PUBLIC_KEY": "public-key-x"})
        with pytest.raises(KycConfigurationError, match="CALLBACK_URL"):
            PassportReaderBackend("pr", {"PUBLIC_KEY": "p", "SECRET": "s", "CALLBACK_URL": "/kyc/webhooks/pr/"})
        assert set(PassportReaderBackend.secret_options) == {"SECRET", "REFERENCE_KEYS"}
        assert PassportReaderBackend.capabilities == {"hosted_flow", "polling", "webhooks"}
        default = PassportReaderBackend("pr", {"PUBLIC_KEY": "p", "SECRET": "s"})
        assert default.option("BASE_URL") == "https://passportreader.app/api/v1/"

    @pytest.mark.django_db
    def test_provider_error_format_is_surfaced(self, server: FakePassportReader, backend: None) -> None:
        with pytest.raises(PermanentProviderError) as caught:
            pr_backend().client.get_session("123")
        assert caught.value.status_code == 404
        assert str(caught.value.message) == "SessionNotFound: No session found with id: 123"

    def test_error_message_hook_copes_with_partial_bodies(self) -> None:
        import requests

        def response(body: bytes) -> requests.Response:
            made = requests.Response()
            made.status_code, made._content, made.reason = 400, body, "Bad Request"
            return made

        assert passportreader_error_message(response(b'{"error_name": "MissingProperty"}')) == "MissingProperty"
        assert passportreader_error_message(response(b'{"error_message": "id is required"}')) == "id is required"
        assert passportreader_error_message(response(b"<html>")) == "Bad Request"
        assert passportreader_error_message(response(b"[]")) == "Bad Request"
