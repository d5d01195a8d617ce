"""The contract every provider backend passes against its fake server.

A provider's test module subclasses :class:`BackendContract`, points it at its backend class and fake
server, and fills in a few hooks. Everything runs for real: the backend talks HTTP to the fake on loopback,
webhooks go through the Django view with signatures computed by the fake exactly as the provider does, and
tasks run the real services (django-q2 in sync mode).
"""

from __future__ import annotations

import datetime
import time
from collections.abc import Callable, Iterator, Mapping
from contextlib import contextmanager
from typing import Any, ClassVar

import pytest
from django.conf import settings
from django.test import Client, override_settings

from django_kyc.models import Applicant, AuditEvent, Verification, WebhookEvent, WebhookRejection
from django_kyc.services import submission
from django_kyc.services.audit import Change
from django_kyc.status import Source, VerificationStatus
from django_kyc.testing import FakeProviderServer

V = VerificationStatus
ALIAS = "contract"


#: The failures every backend must retry: server errors, rate limiting, a stall past the timeout, a reset.
TRANSIENT_FAULTS = [
    pytest.param({"kind": "status", "status": 500}, id="500"),
    pytest.param({"kind": "status", "status": 503}, id="503"),
    pytest.param({"kind": "status", "status": 429, "retry_after": 1}, id="429"),
    pytest.param({"kind": "timeout"}, id="timeout"),
    pytest.param({"kind": "reset"}, id="connection-reset"),
]


def _eventually(condition: Callable[[], bool], seconds: float = 10.0) -> bool:
    """Poll ``condition`` in real time (``time.sleep`` is not frozen by time-machine) until it holds."""
    for _ in range(int(seconds / 0.02)):
        if condition():
            return True
        time.sleep(0.02)
    return condition()


class ProcessCrash(BaseException):
    """Stands in for a killed worker: nothing in the task may catch it."""


class ProviderFixtures:
    """What every contract (verifications here, screenings in :mod:`tests.backends.aml_contract`) starts from:
    the fake server, and the backend configured under :data:`ALIAS` pointing at it."""

    backend_class: ClassVar[str]  # dotted path of the backend
    server_class: ClassVar[type[FakeProviderServer]]

    def server_kwargs(self) -> dict[str, Any]:
        """Constructor arguments of the fake (its credentials)."""
        return {}

    def backend_options(self, server: FakeProviderServer) -> dict[str, Any]:
        """OPTIONS for the backend pointing at ``server`` with matching credentials."""
        raise NotImplementedError

    @pytest.fixture
    def server(self) -> Iterator[FakeProviderServer]:
        with self.server_class(**self.server_kwargs()) as fake:
            fake.timeout_seconds = 1.5
            yield fake

    @contextmanager
    def configured(self, options: Mapping[str, Any]) -> Iterator[None]:
        backends = {**settings.DJANGO_KYC["BACKENDS"], ALIAS: {"CLASS": self.backend_class, "OPTIONS": dict(options)}}
        kyc = {
            **settings.DJANGO_KYC,
            "BACKENDS": backends,
            "DEFAULT_BACKEND": ALIAS,
            "HTTP_CONNECT_TIMEOUT": 0.5,
            "HTTP_READ_TIMEOUT": 0.5,
            "RETRY_BASE_SECONDS": 2,
            "MAX_ATTEMPTS": 4,
        }
        with override_settings(DJANGO_KYC=kyc):
            yield

    @pytest.fixture
    def options(self, server: FakeProviderServer) -> dict[str, Any]:
        return {**self.backend_options(server), "READ_TIMEOUT": 0.5, "CONNECT_TIMEOUT": 0.5}

    @pytest.fixture
    def backend(self, options: dict[str, Any]) -> Iterator[None]:
        with self.configured(options):
            yield


class BackendContract(ProviderFixtures):
    """Subclass in ``tests/backends/test_<provider>.py``; every test here then runs for that provider."""

    #: (outcome the fake's back office sets, expected normalised status)
    STATUS_TABLE: ClassVar[list[tuple[str, str]]]
    #: an outcome the fake can report whose raw value our mapping does not know
    UNKNOWN_OUTCOME: ClassVar[str]
    #: an outcome meaning "still in progress", used for out-of-order deliveries
    PROGRESS_OUTCOME: ClassVar[str]
    #: the outcome used for happy-path decisions
    APPROVED_OUTCOME: ClassVar[str]
    #: the status a fresh submission reaches (awaiting_user for hosted flows, processing otherwise)
    SUBMITTED_STATUS: ClassVar[str] = V.PROCESSING
    #: deliveries carry a signature header (missing → 401, wrong → 403, rotation applies)
    SIGNED: ClassVar[bool] = True
    SIGNATURE_HEADER: ClassVar[str] = ""
    #: the signature covers a timestamp, so stale deliveries are rejected
    TIMESTAMPED: ClassVar[bool] = False
    #: the provider's status code and message for a permanent failure the fake is told to produce
    PERMANENT_STATUS: ClassVar[int] = 422
    WEBHOOK_CONTENT_TYPE: ClassVar[str] = "application/json"
    #: submitting creates a record at the provider; ``False`` for hosted flows where nothing exists there until
    #: the person starts (ARGOS's Liveform), so the provider-side count after a bare submission is 0
    CREATES_AT_SUBMISSION: ClassVar[bool] = True
    #: (method, path regex) of the call that creates the provider's record counted by ``applicant_count()``
    CREATE_CALL: ClassVar[tuple[str, str] | None] = None
    #: the provider offers a way to find that record again when the answer to its creation was lost
    FINDS_LOST_CREATES: ClassVar[bool] = False

    # --- hooks -----------------------------------------------------------------------------------------
    def wrong_credentials(self, options: dict[str, Any]) -> dict[str, Any]:
        """The same OPTIONS with credentials the fake rejects."""
        raise NotImplementedError

    def rotated(self, options: dict[str, Any], server: FakeProviderServer) -> dict[str, Any]:
        """OPTIONS whose webhook secret list has a new secret first and the fake's current one second."""
        raise NotImplementedError

    def stale_delivery(self, server: FakeProviderServer, ref: str) -> tuple[bytes, dict[str, str]]:
        """A correctly signed delivery whose signed timestamp is outside the tolerance (TIMESTAMPED only)."""
        raise NotImplementedError

    def complete_hosted_flow(self, server: FakeProviderServer, verification: Verification) -> None:
        """Play the person starting the hosted flow, for providers where only that creates the provider's
        record (``CREATES_AT_SUBMISSION = False``); the verification must then know its provider reference.
        Default: nothing (the submission itself created it)."""

    def forged_delivery(self, server: FakeProviderServer, ref: str) -> tuple[bytes, dict[str, str]]:
        """A delivery the backend must reject: by default the real one with its body altered."""
        body, headers = server.webhook_for(ref)
        return body.replace(b'"', b"'", 1) if b"'" in body else body + b" ", headers

    # --- fixtures --------------------------------------------------------------------------------------
    @pytest.fixture
    def applicant(self, make_applicant: Any, user: Any) -> Applicant:
        return make_applicant(
            user=user, last_name="Smith", date_of_birth=datetime.date(1990, 2, 3), email="jane@example.com"
        )

    def start(self, applicant: Applicant) -> Verification:
        """Create the verification without running its on-commit enqueue: the test plays the worker."""
        return submission.start_verification(applicant, Change.system(Source.API), backend=ALIAS)

    @pytest.fixture
    def submitted(self, server: FakeProviderServer, backend: None, applicant: Applicant) -> Verification:
        verification = self.start(applicant)
        submission.submit_verification(verification.pk)
        verification.refresh_from_db()
        assert verification.status == self.SUBMITTED_STATUS, verification.last_error
        self.complete_hosted_flow(server, verification)
        verification.refresh_from_db()
        return verification

    def post(self, capture: Any, body: bytes, headers: Mapping[str, str]) -> Any:
        with capture(execute=True):
            return Client().post(
                f"/kyc/webhooks/{ALIAS}/", data=body, content_type=self.WEBHOOK_CONTENT_TYPE, headers=dict(headers)
            )

    @staticmethod
    def ref(verification: Verification) -> str:
        return verification.provider_verification_id

    @staticmethod
    def status_changes(verification: Verification, to_status: str) -> int:
        return AuditEvent.objects.filter(
            object_type="verification", object_id=str(verification.pk), action="status_change", to_status=to_status
        ).count()

    # --- submission ------------------------------------------------------------------------------------
    @pytest.mark.django_db
    def test_submission_happy_path(self, server: FakeProviderServer, submitted: Verification) -> None:
        assert submitted.provider_verification_id
        assert submitted.attempts == 1
        assert server.applicant_count() == 1
        assert submitted.submitted_at is not None

    @pytest.mark.django_db
    def test_status_table_row(
        self,
        server: FakeProviderServer,
        submitted: Verification,
        status_row: tuple[str, str],
        django_capture_on_commit_callbacks: Any,
    ) -> None:
        outcome, expected = status_row
        server.decide(self.ref(submitted), outcome)
        body, headers = server.webhook_for(self.ref(submitted))
        response = self.post(django_capture_on_commit_callbacks, body, headers)
        assert response.status_code == 200, response.content
        submitted.refresh_from_db()
        assert submitted.status == expected, (outcome, submitted.status, submitted.provider_status)
        assert submitted.provider_status

    @pytest.mark.django_db
    def test_unknown_provider_status_goes_to_review_and_keeps_the_raw_value(
        self, server: FakeProviderServer, submitted: Verification, django_capture_on_commit_callbacks: Any
    ) -> None:
        server.decide(self.ref(submitted), self.UNKNOWN_OUTCOME)
        body, headers = server.webhook_for(self.ref(submitted))
        assert self.post(django_capture_on_commit_callbacks, body, headers).status_code == 200
        submitted.refresh_from_db()
        assert submitted.status == V.REVIEW
        assert self.UNKNOWN_OUTCOME.lower() in submitted.provider_status.lower()

    @pytest.mark.django_db
    @pytest.mark.parametrize("fault", TRANSIENT_FAULTS)
    def test_transient_failures_are_retried_with_growing_delays(
        self,
        server: FakeProviderServer,
        backend: None,
        applicant: Applicant,
        fault: dict[str, Any],
        time_machine: Any,
    ) -> None:
        from django.utils import timezone

        time_machine.move_to(timezone.now(), tick=False)
        server.fail_next(2, **fault)
        verification = self.start(applicant)
        delays = []
        for attempt in (1, 2):
            submission.submit_verification(verification.pk)
            verification.refresh_from_db()
            assert (verification.status, verification.attempts) == (V.PENDING, attempt)
            assert verification.last_error
            assert verification.next_attempt_at is not None
            delays.append((verification.next_attempt_at - timezone.now()).total_seconds())
            time_machine.move_to(verification.next_attempt_at, tick=False)
        assert 0 < delays[0] <= delays[1]
        submission.submit_verification(verification.pk)
        verification.refresh_from_db()
        assert verification.status == self.SUBMITTED_STATUS, verification.last_error
        assert verification.attempts == 3
        assert server.applicant_count() == int(self.CREATES_AT_SUBMISSION)

    @pytest.mark.django_db
    def test_permanent_failure_ends_in_error_with_the_providers_message(
        self, server: FakeProviderServer, backend: None, applicant: Applicant
    ) -> None:
        server.fail_next(1, status=self.PERMANENT_STATUS, message="Injected rejection: field is invalid")
        verification = self.start(applicant)
        submission.submit_verification(verification.pk)
        verification.refresh_from_db()
        assert verification.status == V.ERROR
        assert "Injected rejection: field is invalid" in verification.last_error
        assert verification.next_attempt_at is None

    @pytest.mark.django_db
    def test_wrong_credentials_are_a_permanent_error(
        self, server: FakeProviderServer, options: dict[str, Any], applicant: Applicant
    ) -> None:
        with self.configured(self.wrong_credentials(options)):
            verification = self.start(applicant)
            submission.submit_verification(verification.pk)
        verification.refresh_from_db()
        assert verification.status == V.ERROR
        assert verification.last_error
        assert server.applicant_count() == 0

    @pytest.mark.django_db
    def test_crash_between_provider_call_and_commit_creates_one_provider_applicant(
        self,
        server: FakeProviderServer,
        backend: None,
        applicant: Applicant,
        monkeypatch: pytest.MonkeyPatch,
        time_machine: Any,
    ) -> None:
        from django.utils import timezone

        time_machine.move_to(timezone.now(), tick=False)
        verification = self.start(applicant)
        real_record = submission.record_submission

        def crash(*args: Any, **kwargs: Any) -> None:
            raise ProcessCrash

        monkeypatch.setattr(submission, "record_submission", crash)
        with pytest.raises(ProcessCrash):
            submission.submit_verification(verification.pk)
        assert server.applicant_count() == int(self.CREATES_AT_SUBMISSION)
        monkeypatch.setattr(submission, "record_submission", real_record)

        verification.refresh_from_db()
        assert verification.status == V.PENDING
        assert verification.next_attempt_at is not None
        time_machine.move_to(verification.next_attempt_at, tick=False)  # the lease runs out; the sweeper retries
        submission.submit_verification(verification.pk)
        verification.refresh_from_db()
        assert verification.status == self.SUBMITTED_STATUS, verification.last_error
        assert server.applicant_count() == int(self.CREATES_AT_SUBMISSION)

    @pytest.mark.django_db
    @pytest.mark.parametrize("kind", ["lost", "lost_timeout"])
    def test_lost_answer_is_found_again_or_reported_as_a_possible_duplicate(
        self,
        server: FakeProviderServer,
        backend: None,
        applicant: Applicant,
        kind: str,
        time_machine: Any,
    ) -> None:
        """The provider creates the record, then the answer is lost (a reset, or a stall past our timeout).
        The retry either finds that record (one at the provider, nothing to report) or, where the provider
        offers no way to, creates another and the audit trail names the possible duplicate."""
        from django.utils import timezone

        if self.CREATE_CALL is None:
            pytest.skip(f"{self.server_class.provider} creates nothing at submission")
        method, path = self.CREATE_CALL
        time_machine.move_to(timezone.now(), tick=False)
        server.fail_next(1, kind=kind, method=method, path=path)
        verification = self.start(applicant)
        submission.submit_verification(verification.pk)
        verification.refresh_from_db()
        assert verification.status == V.PENDING
        # on a loaded machine our timeout can fire before the fake's thread has handled the request it holds
        assert _eventually(lambda: server.applicant_count() == 1), server.applicant_count()
        assert verification.next_attempt_at is not None
        time_machine.move_to(verification.next_attempt_at, tick=False)
        submission.submit_verification(verification.pk)
        verification.refresh_from_db()
        assert verification.status == self.SUBMITTED_STATUS, verification.last_error
        reported = AuditEvent.objects.filter(object_id=str(verification.pk), action="possible_duplicate")
        if self.FINDS_LOST_CREATES:
            assert (server.applicant_count(), reported.count()) == (1, 0)
        else:
            assert server.applicant_count() == 2
            (row,) = reported
            assert row.data["attempted_at"]
            assert row.reason.startswith(f"{row.data['call']} at {row.data['attempted_at']} got no answer")
        assert "unanswered_creates" not in verification.provider_data

    # --- webhooks --------------------------------------------------------------------------------------
    @pytest.mark.django_db
    def test_good_webhook_is_stored_and_applied(
        self, server: FakeProviderServer, submitted: Verification, django_capture_on_commit_callbacks: Any
    ) -> None:
        server.decide(self.ref(submitted), self.APPROVED_OUTCOME)
        body, headers = server.webhook_for(self.ref(submitted))
        response = self.post(django_capture_on_commit_callbacks, body, headers)
        assert response.status_code == 200, response.content
        submitted.refresh_from_db()
        assert submitted.status == V.APPROVED
        assert WebhookEvent.objects.filter(backend=ALIAS, state="processed").count() == 1

    @pytest.mark.django_db
    def test_forged_webhook_is_rejected_and_nothing_is_stored(
        self, server: FakeProviderServer, submitted: Verification, django_capture_on_commit_callbacks: Any
    ) -> None:
        server.decide(self.ref(submitted), self.APPROVED_OUTCOME)
        body, headers = self.forged_delivery(server, self.ref(submitted))
        response = self.post(django_capture_on_commit_callbacks, body, headers)
        assert response.status_code in (400, 401, 403), response.content
        assert not WebhookEvent.objects.exists()
        submitted.refresh_from_db()
        assert submitted.status == self.SUBMITTED_STATUS

    @pytest.mark.django_db
    def test_webhook_without_signature_is_401(
        self, server: FakeProviderServer, submitted: Verification, django_capture_on_commit_callbacks: Any
    ) -> None:
        if not self.SIGNED:
            pytest.skip(f"{self.server_class.provider} does not sign its webhooks")
        body, headers = server.webhook_for(self.ref(submitted))
        unsigned = {k: v for k, v in headers.items() if k.lower() != self.SIGNATURE_HEADER.lower()}
        assert unsigned != headers
        assert self.post(django_capture_on_commit_callbacks, body, unsigned).status_code == 401
        assert not WebhookEvent.objects.exists()
        assert list(WebhookRejection.objects.values_list("backend", "reason", "count")) == [
            (ALIAS, "missing_signature", 1)
        ]

    @pytest.mark.django_db
    def test_rotated_secret_still_accepts_the_previous_one(
        self,
        server: FakeProviderServer,
        options: dict[str, Any],
        applicant: Applicant,
        django_capture_on_commit_callbacks: Any,
    ) -> None:
        if not self.SIGNED:
            pytest.skip(f"{self.server_class.provider} does not sign its webhooks")
        with self.configured(self.rotated(options, server)):
            verification = self.start(applicant)
            submission.submit_verification(verification.pk)
            verification.refresh_from_db()
            server.decide(self.ref(verification), self.APPROVED_OUTCOME)
            body, headers = server.webhook_for(self.ref(verification))
            assert self.post(django_capture_on_commit_callbacks, body, headers).status_code == 200
        verification.refresh_from_db()
        assert verification.status == V.APPROVED

    @pytest.mark.django_db
    def test_stale_timestamp_is_rejected(
        self, server: FakeProviderServer, submitted: Verification, django_capture_on_commit_callbacks: Any
    ) -> None:
        if not self.TIMESTAMPED:
            pytest.skip(f"{self.server_class.provider} signs no timestamp; request ids de-duplicate replays")
        body, headers = self.stale_delivery(server, self.ref(submitted))
        assert self.post(django_capture_on_commit_callbacks, body, headers).status_code == 403
        assert not WebhookEvent.objects.exists()
        # counted apart from forgeries, so a sender with a drifting clock is easy to spot
        assert list(WebhookRejection.objects.values_list("backend", "reason", "count")) == [(ALIAS, "stale", 1)]

    @pytest.mark.django_db
    def test_duplicate_delivery_applies_once(
        self, server: FakeProviderServer, submitted: Verification, django_capture_on_commit_callbacks: Any
    ) -> None:
        server.decide(self.ref(submitted), self.APPROVED_OUTCOME)
        body, headers = server.webhook_for(self.ref(submitted))
        first = self.post(django_capture_on_commit_callbacks, body, headers)
        second = self.post(django_capture_on_commit_callbacks, body, headers)
        assert (first.status_code, second.status_code) == (200, 200)
        assert WebhookEvent.objects.filter(backend=ALIAS).count() == 1
        assert self.status_changes(submitted, V.APPROVED) == 1

    @pytest.mark.django_db
    def test_out_of_order_delivery_never_regresses_the_decision(
        self, server: FakeProviderServer, submitted: Verification, django_capture_on_commit_callbacks: Any
    ) -> None:
        ref = self.ref(submitted)
        server.decide(ref, self.PROGRESS_OUTCOME)
        early = server.webhook_for(ref)
        server.decide(ref, self.APPROVED_OUTCOME)
        late = server.webhook_for(ref)
        assert self.post(django_capture_on_commit_callbacks, *late).status_code == 200
        assert self.post(django_capture_on_commit_callbacks, *early).status_code == 200
        submitted.refresh_from_db()
        assert submitted.status == V.APPROVED
        assert self.status_changes(submitted, V.APPROVED) == 1
