"""Submission: the happy path, retries with backoff, permanent errors, crash recovery, the sweeper, polling
and the sandbox's rules.

Provider behaviour comes from :class:`ScriptedBackend`, a real :class:`KycBackend` subclass configured through
``DJANGO_KYC`` like any backend. Its :class:`FakeProvider` keeps provider-side applicants keyed by our
verification id, the way an idempotent provider API does, so a repeated submission is visible as a second
applicant if our side ever forgets the first.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from datetime import timedelta
from typing import Any

import pytest
from django.core.exceptions import PermissionDenied
from django.test import override_settings
from django.utils import timezone

from django_kyc.backends.base import KycBackend, ProviderState, Submission
from django_kyc.exceptions import (
    InvalidTransition,
    KycConfigurationError,
    PermanentProviderError,
    TransientProviderError,
    VerificationConflict,
)
from django_kyc.models import Applicant, AuditEvent, Document, Verification, WebhookEvent
from django_kyc.services import review, submission, sweeper, transitions
from django_kyc.services.audit import Change
from django_kyc.status import (
    ApplicantStatus,
    DocumentStatus,
    Source,
    VerificationStatus,
)
from tests.support.factories import make_verification
from tests.support.kyc_settings import kyc_settings_with, suite_backends

V = VerificationStatus
pytestmark = pytest.mark.django_db

LEASE = timedelta(seconds=5 + 10 + 60)  # HTTP connect + read timeout (tests/settings.py) + 60 s


class ProcessCrash(BaseException):
    """Not an ``Exception``: nothing in the task may catch it, just as nothing survives a killed worker."""


class FakeProvider:
    """The provider's side of the wire, driven by a script of what happens on each call.

    ``ok`` succeeds; ``down`` fails before anything is created (503); ``lost`` creates the applicant and then
    the response is lost (timeout); ``crash`` creates it and then our process dies; ``reject`` is a 422;
    ``bug`` is an unexpected exception in the backend; ``cancel`` cancels the verification (a user acting
    while the call is in flight) before carrying on with the next step of the script.
    """

    def __init__(self, script: Sequence[str] = ()) -> None:
        self.script = list(script)
        self.applicants: dict[str, str] = {}
        self.calls = 0

    def create_applicant(self, verification: Verification) -> str:
        self.calls += 1
        step = self.script.pop(0) if self.script else "ok"
        if step == "cancel":
            transitions.transition_verification(verification.pk, V.CANCELLED, Change.system(reason="user"))
            step = self.script.pop(0) if self.script else "ok"
        if step == "down":
            raise TransientProviderError("provider unavailable", provider="scripted", status_code=503)
        if step == "reject":
            raise PermanentProviderError("document type not accepted", provider="scripted", status_code=422)
        if step == "bug":
            raise KeyError("applicant")
        reference = str(verification.pk)
        applicant_id = self.applicants.setdefault(reference, f"prov_app_{len(self.applicants) + 1}")
        if step == "lost":
            raise TransientProviderError("request timed out", provider="scripted")
        if step == "crash":
            raise ProcessCrash
        return applicant_id


class ScriptedBackend(KycBackend):
    provider = "scripted"
    capabilities = frozenset({"document_upload"})

    @property
    def fake(self) -> FakeProvider:
        fake: FakeProvider = self.options["PROVIDER"]
        return fake

    def start_verification(self, verification: Verification) -> Submission:
        applicant_id = self.fake.create_applicant(verification)
        return Submission(
            state=ProviderState(status=V.PROCESSING, provider_status="in_progress"),
            provider_applicant_id=applicant_id,
            provider_verification_id=f"{applicant_id}_ver",
        )


def scripted_settings(fake: FakeProvider, **changes: Any) -> dict[str, Any]:
    backends = suite_backends(scripted={"CLASS": f"{__name__}.ScriptedBackend", "OPTIONS": {"PROVIDER": fake}})
    return kyc_settings_with(DEFAULT_BACKEND="scripted", BACKENDS=backends, **changes)


@pytest.fixture
def provider() -> Iterator[FakeProvider]:
    fake = FakeProvider()
    with override_settings(DJANGO_KYC=scripted_settings(fake)):
        yield fake


@pytest.fixture
def applicant(make_applicant: Any) -> Applicant:
    return make_applicant(last_name="Smith")


def task_change() -> Change:
    return Change.provider("scripted", Source.TASK)


def start(applicant: Applicant, backend: str | None = None) -> Verification:
    """Create the verification without running its on-commit enqueue: the test plays the worker."""
    return submission.start_verification(applicant, Change.by_user(None, Source.API), backend=backend)


# --- the happy path -------------------------------------------------------------------------------------


def test_submission_records_provider_references(
    provider: FakeProvider, applicant: Applicant, django_capture_on_commit_callbacks: Any
) -> None:
    with django_capture_on_commit_callbacks(execute=True):
        verification = start(applicant)

    verification.refresh_from_db()
    assert verification.backend == "scripted"
    assert verification.status == V.PROCESSING
    assert verification.provider_status == "in_progress"
    assert verification.provider_applicant_id == "prov_app_1"
    assert verification.provider_verification_id == "prov_app_1_ver"
    assert verification.attempts == 1
    assert verification.submitted_at is not None
    assert verification.next_attempt_at is None
    assert verification.last_error == ""
    assert provider.applicants == {str(verification.pk): "prov_app_1"}
    assert list(Document.objects.values_list("status", flat=True)) == [DocumentStatus.SUBMITTED]
    applicant.refresh_from_db()
    assert applicant.status == ApplicantStatus.IN_PROGRESS
    created = AuditEvent.objects.get(object_type="verification", action="created")
    assert created.to_status == V.PENDING
    moves = list(
        AuditEvent.objects.filter(object_type="verification", action="status_change").values_list(
            "from_status", "to_status", "actor_type", "source"
        )
    )
    assert moves == [(V.PENDING, V.PROCESSING, "provider", Source.TASK)]


def test_running_the_task_again_is_a_no_op(provider: FakeProvider, applicant: Applicant) -> None:
    verification = start(applicant)
    submission.submit_verification(verification.pk)
    submission.submit_verification(verification.pk)
    verification.refresh_from_db()
    assert (verification.status, verification.attempts, provider.calls) == (V.PROCESSING, 1, 1)


# --- transient errors ---------------------------------------------------------------------------------


def test_transient_errors_are_retried_with_growing_delays(
    provider: FakeProvider, applicant: Applicant, time_machine: Any
) -> None:
    time_machine.move_to(timezone.now(), tick=False)
    provider.script = ["down", "down", "down", "ok"]
    verification = start(applicant)

    submission.submit_verification(verification.pk)
    delays = []
    for attempt in (1, 2, 3):
        verification.refresh_from_db()
        assert verification.status == V.PENDING
        assert verification.attempts == attempt
        assert verification.last_error == "scripted: provider unavailable (HTTP 503)"
        assert verification.next_attempt_at is not None
        delay = (verification.next_attempt_at - timezone.now()).total_seconds()
        step = 2.0 * 2 ** (attempt - 1)  # RETRY_BASE_SECONDS = 2 in tests/settings.py
        assert step / 2 <= delay <= step
        delays.append(delay)

        # not due yet: neither the task nor the sweeper tries again
        submission.submit_verification(verification.pk)
        assert sweeper.sweep().submissions == 0
        assert provider.calls == attempt

        time_machine.move_to(verification.next_attempt_at, tick=False)
        assert sweeper.sweep().submissions == 1

    assert delays == sorted(delays)
    assert len(set(delays)) == 3
    verification.refresh_from_db()
    assert verification.status == V.PROCESSING
    assert verification.attempts == 4
    assert verification.last_error == ""
    assert verification.next_attempt_at is None
    assert provider.calls == 4
    assert len(provider.applicants) == 1


def test_retry_after_is_respected(applicant: Applicant, time_machine: Any) -> None:
    class RateLimited(FakeProvider):
        def create_applicant(self, verification: Verification) -> str:
            self.calls += 1
            raise TransientProviderError("slow down", provider="scripted", status_code=429, retry_after=120)

    fake = RateLimited()
    time_machine.move_to(timezone.now(), tick=False)
    with override_settings(DJANGO_KYC=scripted_settings(fake)):
        verification = start(applicant)
        submission.submit_verification(verification.pk)
    verification.refresh_from_db()
    assert verification.next_attempt_at == timezone.now() + timedelta(seconds=120)
    assert verification.last_error == "scripted: slow down (HTTP 429)"


def test_gives_up_in_error_after_max_attempts(applicant: Applicant, time_machine: Any) -> None:
    fake = FakeProvider(["down"] * 10)
    time_machine.move_to(timezone.now(), tick=False)
    with override_settings(DJANGO_KYC=scripted_settings(fake, MAX_ATTEMPTS=3)):
        verification = start(applicant)
        submission.submit_verification(verification.pk)
        for _ in range(2):
            verification.refresh_from_db()
            time_machine.move_to(verification.next_attempt_at, tick=False)
            sweeper.sweep()
        verification.refresh_from_db()
        message = "gave up after 3 attempts: scripted: provider unavailable (HTTP 503)"
        assert verification.status == V.ERROR
        assert verification.attempts == 3
        assert verification.last_error == message
        assert verification.next_attempt_at is None
        row = AuditEvent.objects.get(object_type="verification", to_status=V.ERROR)
        assert (row.from_status, row.reason, row.actor_type) == (V.PENDING, message, "provider")
        applicant.refresh_from_db()
        assert applicant.status == ApplicantStatus.IN_PROGRESS

        time_machine.move_to(timezone.now() + timedelta(days=1), tick=False)
        assert sweeper.sweep().submissions == 0
    assert fake.calls == 3


def test_unexpected_backend_failure_is_retried_like_an_outage(provider: FakeProvider, applicant: Applicant) -> None:
    provider.script = ["bug"]
    verification = start(applicant)
    submission.submit_verification(verification.pk)
    verification.refresh_from_db()
    assert verification.status == V.PENDING
    assert verification.last_error == "unexpected error: KeyError"
    assert verification.next_attempt_at is not None


# --- permanent errors ---------------------------------------------------------------------------------


def test_permanent_error_ends_in_error_at_once(provider: FakeProvider, applicant: Applicant, time_machine: Any) -> None:
    time_machine.move_to(timezone.now(), tick=False)
    provider.script = ["reject", "ok"]
    verification = start(applicant)

    submission.submit_verification(verification.pk)

    verification.refresh_from_db()
    message = "scripted: document type not accepted (HTTP 422)"
    assert verification.status == V.ERROR
    assert verification.last_error == message
    assert verification.attempts == 1
    assert verification.next_attempt_at is None
    row = AuditEvent.objects.get(object_type="verification", to_status=V.ERROR)
    assert row.reason == message
    time_machine.move_to(timezone.now() + timedelta(days=1), tick=False)
    assert sweeper.sweep().submissions == 0
    submission.submit_verification(verification.pk)
    assert provider.calls == 1


def test_permanent_error_after_a_concurrent_cancel_keeps_the_cancel(
    provider: FakeProvider, applicant: Applicant
) -> None:
    """The user cancelled while the call was in flight: the task must neither crash nor resurrect it."""
    provider.script = ["cancel", "reject"]
    verification = start(applicant)
    submission.submit_verification(verification.pk)
    verification.refresh_from_db()
    assert verification.status == V.CANCELLED


def test_transient_error_after_a_concurrent_cancel_keeps_the_cancel(
    provider: FakeProvider, applicant: Applicant
) -> None:
    provider.script = ["cancel", "down"]
    verification = start(applicant)
    submission.submit_verification(verification.pk)
    verification.refresh_from_db()
    assert verification.status == V.CANCELLED


def test_unknown_backend_alias_fails_with_the_key_named(applicant: Applicant) -> None:
    with pytest.raises(KycConfigurationError, match=r"""DJANGO_KYC\["BACKENDS"\] has no backend with alias 'nope'"""):
        start(applicant, backend="nope")
    assert not Verification.objects.exists()


# --- crash recovery -----------------------------------------------------------------------------------


def test_crash_between_provider_call_and_commit_reuses_the_provider_applicant(
    provider: FakeProvider, applicant: Applicant, time_machine: Any
) -> None:
    time_machine.move_to(timezone.now(), tick=False)
    provider.script = ["crash"]
    verification = start(applicant)

    with pytest.raises(ProcessCrash):
        submission.submit_verification(verification.pk)

    verification.refresh_from_db()
    assert verification.status == V.PENDING
    assert verification.attempts == 1
    assert verification.provider_applicant_id == ""
    assert verification.next_attempt_at == timezone.now() + LEASE
    assert len(provider.applicants) == 1

    # the lease keeps the sweeper away while the call might still be running elsewhere
    time_machine.move_to(timezone.now() + LEASE - timedelta(seconds=1), tick=False)
    assert sweeper.sweep().submissions == 0
    time_machine.move_to(timezone.now() + timedelta(seconds=1), tick=False)
    assert sweeper.sweep().submissions == 1

    verification.refresh_from_db()
    assert verification.status == V.PROCESSING
    assert verification.attempts == 2
    assert provider.calls == 2
    assert provider.applicants == {str(verification.pk): "prov_app_1"}
    assert verification.provider_applicant_id == "prov_app_1"


def test_lost_response_then_retry_reuses_the_provider_applicant(
    provider: FakeProvider, applicant: Applicant, time_machine: Any
) -> None:
    time_machine.move_to(timezone.now(), tick=False)
    provider.script = ["lost", "ok"]
    verification = start(applicant)
    submission.submit_verification(verification.pk)
    verification.refresh_from_db()
    assert verification.last_error == "scripted: request timed out"

    time_machine.move_to(verification.next_attempt_at, tick=False)
    sweeper.sweep()

    verification.refresh_from_db()
    assert verification.status == V.PROCESSING
    assert list(provider.applicants.values()) == ["prov_app_1"]
    assert verification.provider_applicant_id == "prov_app_1"


def test_failed_record_step_is_retried_without_a_second_provider_applicant(
    provider: FakeProvider, applicant: Applicant, time_machine: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The database write after a successful provider call fails once (e.g. the connection dropped)."""
    time_machine.move_to(timezone.now(), tick=False)
    real_record = submission.record_submission
    failures = ["database went away"]

    def flaky_record(*args: Any, **kwargs: Any) -> None:
        if failures:
            raise RuntimeError(failures.pop())
        real_record(*args, **kwargs)

    monkeypatch.setattr(submission, "record_submission", flaky_record)
    verification = start(applicant)
    with pytest.raises(RuntimeError):
        submission.submit_verification(verification.pk)
    time_machine.move_to(timezone.now() + LEASE, tick=False)
    assert sweeper.sweep().submissions == 1

    verification.refresh_from_db()
    assert verification.status == V.PROCESSING
    assert provider.calls == 2
    assert len(provider.applicants) == 1


# --- the sweeper --------------------------------------------------------------------------------------


def test_sweeper_picks_up_only_due_submissions(provider: FakeProvider, make_applicant: Any, time_machine: Any) -> None:
    time_machine.move_to(timezone.now(), tick=False)
    now = timezone.now()
    due = make_verification(make_applicant(), backend="scripted", next_attempt_at=now - timedelta(seconds=1))
    later = make_verification(make_applicant(), backend="scripted", next_attempt_at=now + timedelta(minutes=5))
    lost = make_verification(make_applicant(), backend="scripted")  # its on-commit enqueue never ran
    not_pending = make_verification(make_applicant(), V.ERROR, backend="scripted", next_attempt_at=now)

    assert sweeper.sweep().submissions == 1
    statuses = dict(Verification.objects.values_list("pk", "status"))
    assert statuses[due.pk] == V.PROCESSING
    assert statuses[later.pk] == statuses[lost.pk] == V.PENDING
    assert statuses[not_pending.pk] == V.ERROR

    # work younger than the grace period still belongs to its own enqueue; after it the sweeper takes it
    time_machine.move_to(now + sweeper.grace(), tick=False)
    assert sweeper.sweep().submissions == 1
    assert Verification.objects.get(pk=lost.pk).status == V.PROCESSING
    time_machine.move_to(now + timedelta(minutes=5), tick=False)
    assert sweeper.sweep().submissions == 1
    assert Verification.objects.get(pk=later.pk).status == V.PROCESSING
    assert provider.calls == 3


# --- retry and conflicts --------------------------------------------------------------------------------


def test_retry_verification_puts_an_error_back_in_the_queue(
    provider: FakeProvider, applicant: Applicant, reviewer: Any, django_capture_on_commit_callbacks: Any
) -> None:
    provider.script = ["reject", "ok"]
    verification = start(applicant)
    submission.submit_verification(verification.pk)
    verification.refresh_from_db()
    assert verification.status == V.ERROR

    with django_capture_on_commit_callbacks(execute=True):
        review.retry(verification.pk, user=reviewer, reason_code="PROVIDER_ERROR_RESOLVED", comment="fixed")

    verification.refresh_from_db()
    assert verification.status == V.PROCESSING
    assert verification.attempts == 1  # a fresh budget
    assert verification.last_error == ""
    row = AuditEvent.objects.get(object_type="verification", from_status=V.ERROR, to_status=V.PENDING)
    assert (row.actor, row.reason_code, row.reason) == (reviewer, "PROVIDER_ERROR_RESOLVED", "fixed")


def test_retry_needs_the_review_permission_and_an_error(
    provider: FakeProvider, applicant: Applicant, user: Any, reviewer: Any
) -> None:
    verification = start(applicant)
    with pytest.raises(PermissionDenied):
        review.retry(verification.pk, user=user, reason_code="OTHER")
    submission.submit_verification(verification.pk)
    with pytest.raises(InvalidTransition):
        review.retry(verification.pk, user=reviewer, reason_code="OTHER")
    verification.refresh_from_db()
    assert verification.status == V.PROCESSING


@pytest.mark.parametrize("active", [V.PENDING, V.AWAITING_USER, V.PROCESSING, V.REVIEW, V.ERROR])
def test_one_active_verification_per_applicant(applicant: Applicant, active: str) -> None:
    make_verification(applicant, active)
    with pytest.raises(VerificationConflict):
        start(applicant)
    assert Verification.objects.count() == 1


@pytest.mark.parametrize("finished", [V.APPROVED, V.DECLINED, V.EXPIRED, V.CANCELLED, V.RESUBMISSION_REQUESTED])
def test_a_new_verification_may_follow_a_finished_one(applicant: Applicant, finished: str) -> None:
    make_verification(applicant, finished)
    assert start(applicant).status == V.PENDING
    assert Verification.objects.count() == 2


# --- the sandbox ---------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("last_name", "status", "applicant_status", "document_status", "reasons"),
    [
        ("Smith", V.APPROVED, ApplicantStatus.VERIFIED, DocumentStatus.ACCEPTED, []),
        ("Declineworth", V.DECLINED, ApplicantStatus.REJECTED, DocumentStatus.REJECTED, ["DOCUMENT_TAMPERED"]),
        ("Review", V.REVIEW, ApplicantStatus.REVIEW, DocumentStatus.ACCEPTED, []),
        (
            "RESUBMIT",
            V.RESUBMISSION_REQUESTED,
            ApplicantStatus.ACTION_REQUIRED,
            DocumentStatus.RESUBMISSION_REQUESTED,
            ["DOCUMENT_UNREADABLE"],
        ),
    ],
)
def test_sandbox_decision_rules(
    make_applicant: Any,
    django_capture_on_commit_callbacks: Any,
    last_name: str,
    status: str,
    applicant_status: str,
    document_status: str,
    reasons: list[str],
) -> None:
    applicant = make_applicant(last_name=last_name)
    with django_capture_on_commit_callbacks(execute=True):
        verification = start(applicant)

    verification.refresh_from_db()
    applicant.refresh_from_db()
    assert verification.status == status
    assert verification.reasons == reasons
    assert verification.provider_verification_id.startswith("sbx_ver_")
    assert applicant.status == applicant_status
    document = Document.objects.get(applicant=applicant)
    assert (document.status, document.reasons) == (document_status, reasons)
    assert set(WebhookEvent.objects.values_list("state", flat=True)) == {"processed"}


def test_sandbox_error_rule_is_a_permanent_error(make_applicant: Any, django_capture_on_commit_callbacks: Any) -> None:
    applicant = make_applicant(last_name="Errorson")
    with django_capture_on_commit_callbacks(execute=True):
        verification = start(applicant)
    verification.refresh_from_db()
    assert verification.status == V.ERROR
    assert verification.attempts == 1
    assert verification.last_error == "sandbox: applicant rejected by the sandbox 'error' rule (HTTP 400)"
    assert not WebhookEvent.objects.exists()


def test_sandbox_flaky_rule_fails_twice_then_approves(
    make_applicant: Any, django_capture_on_commit_callbacks: Any, time_machine: Any
) -> None:
    time_machine.move_to(timezone.now(), tick=False)
    applicant = make_applicant(last_name="Flaky")
    with django_capture_on_commit_callbacks(execute=True):
        verification = start(applicant)
    for attempt in (1, 2):
        verification.refresh_from_db()
        assert (verification.status, verification.attempts) == (V.PENDING, attempt)
        assert verification.last_error == "sandbox: simulated outage (HTTP 503)"
        time_machine.move_to(verification.next_attempt_at, tick=False)
        with django_capture_on_commit_callbacks(execute=True):
            assert sweeper.sweep().submissions == 1
    verification.refresh_from_db()
    assert (verification.status, verification.attempts) == (V.APPROVED, 3)


def test_sandbox_silent_rule_is_found_by_polling(
    make_applicant: Any, django_capture_on_commit_callbacks: Any, time_machine: Any
) -> None:
    time_machine.move_to(timezone.now(), tick=False)
    applicant = make_applicant(last_name="Silent")
    with django_capture_on_commit_callbacks(execute=True):
        verification = start(applicant)
    verification.refresh_from_db()
    assert verification.status == V.PROCESSING
    assert not WebhookEvent.objects.exists()
    assert sweeper.sweep().polls == 0  # not stale yet

    time_machine.move_to(timezone.now() + timedelta(minutes=15), tick=False)
    with django_capture_on_commit_callbacks(execute=True):
        assert sweeper.sweep().polls == 1

    verification.refresh_from_db()
    assert verification.status == V.APPROVED
    assert verification.last_polled_at == timezone.now()
    assert Document.objects.get(applicant=applicant).status == DocumentStatus.ACCEPTED
    row = AuditEvent.objects.get(object_type="verification", to_status=V.APPROVED)
    assert (row.source, row.actor_type) == (Source.POLL, "provider")
    # decided: nothing left to poll
    time_machine.move_to(timezone.now() + timedelta(hours=1), tick=False)
    assert sweeper.sweep().polls == 0


def test_sandbox_hosted_flow_waits_for_the_user(make_applicant: Any, django_capture_on_commit_callbacks: Any) -> None:
    applicant = make_applicant()
    with django_capture_on_commit_callbacks(execute=True):
        verification = start(applicant, backend="hosted")
    verification.refresh_from_db()
    assert verification.status == V.AWAITING_USER
    assert verification.client_token
    assert "/kyc/sandbox/capture/" in verification.client_link
    assert verification.client_token_expires_at is not None
    assert verification.client_token_expires_at > timezone.now()
    assert not WebhookEvent.objects.exists()


# --- polling -----------------------------------------------------------------------------------------------


class FlakyPollingBackend(ScriptedBackend):
    capabilities = frozenset({"polling"})

    def fetch_verification(self, verification: Verification) -> ProviderState:
        self.fake.calls += 1
        step = self.fake.script.pop(0) if self.fake.script else "ok"
        if step == "down":
            raise TransientProviderError("provider unavailable", provider="scripted", status_code=503)
        return ProviderState(status=V.DECLINED, provider_status="rejected", occurred_at=timezone.now())


def test_failed_poll_waits_for_the_next_interval(make_applicant: Any, time_machine: Any) -> None:
    time_machine.move_to(timezone.now(), tick=False)
    fake = FakeProvider(["down"])
    backends = suite_backends(polled={"CLASS": f"{__name__}.FlakyPollingBackend", "OPTIONS": {"PROVIDER": fake}})
    verification = make_verification(make_applicant(), V.PROCESSING, backend="polled")
    with override_settings(DJANGO_KYC=kyc_settings_with(BACKENDS=backends)):
        time_machine.move_to(timezone.now() + timedelta(minutes=15), tick=False)
        assert sweeper.sweep().polls == 1
        verification.refresh_from_db()
        assert verification.status == V.PROCESSING
        assert verification.last_polled_at == timezone.now()

        time_machine.move_to(timezone.now() + timedelta(minutes=14), tick=False)
        assert sweeper.sweep().polls == 0  # POLL_INTERVAL_SECONDS not over yet
        time_machine.move_to(timezone.now() + timedelta(minutes=1), tick=False)
        assert sweeper.sweep().polls == 1
    verification.refresh_from_db()
    assert (verification.status, verification.provider_status) == (V.DECLINED, "rejected")
    assert fake.calls == 2


def test_backends_without_polling_are_not_polled(
    provider: FakeProvider, make_applicant: Any, time_machine: Any
) -> None:
    time_machine.move_to(timezone.now(), tick=False)
    make_verification(make_applicant(), V.PROCESSING, backend="scripted")
    time_machine.move_to(timezone.now() + timedelta(hours=1), tick=False)
    assert sweeper.sweep().polls == 0
    assert provider.calls == 0


class UnusableStateBackend(ScriptedBackend):
    """Answers a new submission with a state that cannot follow ``pending`` (a backend bug)."""

    def start_verification(self, verification: Verification) -> Submission:
        return Submission(state=ProviderState(status=V.EXPIRED, provider_status="stale_session"))


def test_an_unusable_submission_state_ends_in_error_instead_of_looping(applicant: Applicant) -> None:
    backends = suite_backends(unusable={"CLASS": f"{__name__}.UnusableStateBackend"})
    with override_settings(DJANGO_KYC=kyc_settings_with(BACKENDS=backends)):
        verification = start(applicant, backend="unusable")
        submission.submit_verification(verification.pk)
    verification.refresh_from_db()
    assert verification.status == V.ERROR
    assert "stale_session" in verification.last_error
    assert sweeper.sweep().submissions == 0


def test_client_token_is_reissued_after_a_resubmission_request(applicant: Applicant) -> None:
    later = timezone.now() + timedelta(hours=1)
    verification = make_verification(
        applicant,
        V.RESUBMISSION_REQUESTED,
        backend="hosted",
        client_token="old",
        client_link="/old/",
        client_token_expires_at=later,
    )
    refreshed = submission.refresh_client_token(verification)
    assert refreshed.client_token not in ("", "old")
    assert "/kyc/sandbox/capture/" in refreshed.client_link


def test_a_current_client_token_is_kept(applicant: Applicant) -> None:
    later = timezone.now() + timedelta(hours=1)
    verification = make_verification(
        applicant,
        V.AWAITING_USER,
        backend="hosted",
        client_token="current",
        client_link="/current/",
        client_token_expires_at=later,
    )
    assert submission.refresh_client_token(verification).client_token == "current"
