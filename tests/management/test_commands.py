"""The ``kyc_*`` management commands."""

from __future__ import annotations

import io
import uuid
from datetime import timedelta
from typing import Any

import pytest
from django.core.management import CommandError, call_command
from django.test import override_settings
from django.utils import timezone
from django_q.models import Schedule, Task

from django_kyc.models import Applicant, Verification, WebhookEvent, WebhookState
from django_kyc.schedules import SWEEP_SCHEDULE_NAME
from django_kyc.status import VerificationStatus
from django_kyc.tasks import sweep as sweep_task
from tests.support.factories import make_verification
from tests.support.kyc_settings import kyc_settings_with
from tests.support.sandbox import sandbox_event

V = VerificationStatus
pytestmark = pytest.mark.django_db


def run(*args: Any, **options: Any) -> str:
    out = io.StringIO()
    call_command(*args, stdout=out, stderr=io.StringIO(), **options)
    return out.getvalue()


# --- kyc_install_schedules ----------------------------------------------------------------------------------


def test_install_schedules_creates_the_sweeper_once() -> None:
    Schedule.objects.filter(name=SWEEP_SCHEDULE_NAME).delete()  # migrate already installed it

    assert run("kyc_install_schedules").splitlines()[0] == f"Created schedule {SWEEP_SCHEDULE_NAME!r}."
    assert run("kyc_install_schedules").splitlines()[0] == f"Updated schedule {SWEEP_SCHEDULE_NAME!r}."

    schedule = Schedule.objects.get(name=SWEEP_SCHEDULE_NAME)
    assert schedule.func == "django_kyc.tasks.sweep"
    assert schedule.schedule_type == Schedule.MINUTES
    assert schedule.minutes == 1
    assert schedule.repeats == -1
    assert Schedule.objects.filter(func="django_kyc.tasks.sweep").count() == 1


def test_install_schedules_follows_the_setting() -> None:
    with override_settings(DJANGO_KYC=kyc_settings_with(SWEEP_EVERY_MINUTES=5)):
        run("kyc_install_schedules")
    assert Schedule.objects.get(name=SWEEP_SCHEDULE_NAME).minutes == 5
    assert Schedule.objects.filter(name=SWEEP_SCHEDULE_NAME).count() == 1


def test_migrate_installed_the_schedule() -> None:
    assert Schedule.objects.filter(name=SWEEP_SCHEDULE_NAME, func="django_kyc.tasks.sweep").exists()


# --- kyc_sweep ------------------------------------------------------------------------------------------


def test_sweep_runs_due_work_and_reports_it(make_applicant: Any, django_capture_on_commit_callbacks: Any) -> None:
    applicant = make_applicant()
    verification = make_verification(applicant, next_attempt_at=timezone.now() - timedelta(seconds=1))
    make_verification(make_applicant(), next_attempt_at=timezone.now() + timedelta(minutes=1))

    with django_capture_on_commit_callbacks(execute=True):
        output = run("kyc_sweep")

    assert output.strip() == "submissions=1 webhook_events=0 aml_checks=0 polls=0 deliveries=0"
    verification.refresh_from_db()
    assert verification.status == V.APPROVED  # submitted, then the sandbox's decision arrived
    assert verification.attempts == 1


def test_sweep_with_nothing_due() -> None:
    assert run("kyc_sweep").strip() == "submissions=0 webhook_events=0 aml_checks=0 polls=0 deliveries=0"


# --- kyc_health -------------------------------------------------------------------------------------------


def health(*args: str) -> tuple[int, str, str]:
    """``manage.py kyc_health``'s exit status, stdout and stderr, the way a container health check sees them."""
    out, err = io.StringIO(), io.StringIO()
    try:
        call_command("kyc_health", *args, stdout=out, stderr=err)
    except CommandError as exc:
        return exc.returncode, out.getvalue(), str(exc)
    return 0, out.getvalue(), err.getvalue()


def test_health_fails_until_the_cluster_has_run_the_sweeper(make_applicant: Any, time_machine: Any) -> None:
    """No worker: a verification stays pending with no attempt, and kyc_health says why and exits 1."""
    time_machine.move_to(timezone.now(), tick=False)
    make_verification(make_applicant())
    time_machine.move_to(timezone.now() + timedelta(minutes=2), tick=False)

    status, out, err = health()
    assert status == 1
    assert out.splitlines() == [
        "Background worker: the sweeper has never run.",
        "Not attempted by any worker after 60 s: verifications 1, webhook events 0, AML checks 0.",
    ]
    assert err.startswith("The background worker is not running.")
    assert "manage.py qcluster" in err

    sweep_task()  # what the cluster runs every SWEEP_EVERY_MINUTES (it enqueues the pending verification)
    status, out, _ = health()
    assert status == 0
    assert out.splitlines()[0] == "Background worker: the sweeper last ran less than a minute ago."
    assert out.splitlines()[1].endswith("(unhealthy after 5 minutes).")
    assert out.splitlines()[-1] == "Healthy."


def test_a_sweep_run_by_hand_is_no_heartbeat() -> None:
    """Only the cluster beats: an operator's ``kyc_sweep`` must not hide a dead cluster from ``kyc_health``."""
    run("kyc_sweep")
    status, out, _ = health()
    assert (status, out.splitlines()[0]) == (1, "Background worker: the sweeper has never run.")


def test_health_fails_when_the_last_sweep_is_too_old(time_machine: Any) -> None:
    time_machine.move_to(timezone.now(), tick=False)
    sweep_task()
    time_machine.move_to(timezone.now() + timedelta(minutes=12), tick=False)

    status, out, _ = health()
    assert status == 1
    assert out.splitlines()[0] == "Background worker: the sweeper last ran 12\xa0minutes ago."
    assert health("--max-age-minutes", "15")[0] == 0
    assert health("--max-age-minutes", "10")[0] == 1
    with override_settings(DJANGO_KYC=kyc_settings_with(HEALTH_STALE_AFTER_SECONDS=15 * 60)):
        assert health()[0] == 0


# --- kyc_reprocess_webhooks ----------------------------------------------------------------------------------


def failed_event(verification: Verification | None, backend: str = "sandbox", **fields: Any) -> WebhookEvent:
    event_id = f"evt_{uuid.uuid4().hex}"
    body = sandbox_event(verification, "approved", timezone.now(), event_id=event_id) if verification else b"{}"
    defaults: dict[str, Any] = {"state": WebhookState.FAILED, "attempts": 8, "last_error": "VerificationNotFound: x"}
    defaults.update(fields)
    return WebhookEvent.objects.create(backend=backend, event_id=event_id, body=body, **defaults)


@pytest.fixture
def applicant(make_applicant: Any) -> Applicant:
    return make_applicant()


def test_reprocess_queues_failed_events(applicant: Applicant, django_capture_on_commit_callbacks: Any) -> None:
    verification = make_verification(applicant, V.PROCESSING)
    failed = failed_event(verification)
    waiting = failed_event(
        verification, state=WebhookState.RETRY_WAIT, next_attempt_at=timezone.now() + timedelta(hours=1)
    )
    done = failed_event(verification, state=WebhookState.PROCESSED)

    with django_capture_on_commit_callbacks(execute=True):
        output = run("kyc_reprocess_webhooks")

    assert output.strip() == "1 webhook event(s) queued for reprocessing."
    assert Task.objects.filter(func="django_kyc.tasks.process_webhook_event").count() == 1
    states = dict(WebhookEvent.objects.values_list("pk", "state"))
    assert states == {
        failed.pk: WebhookState.PROCESSED,
        waiting.pk: WebhookState.RETRY_WAIT,
        done.pk: WebhookState.PROCESSED,
    }
    failed.refresh_from_db()
    assert failed.attempts == 1  # a fresh budget, one attempt used
    verification.refresh_from_db()
    assert verification.status == V.APPROVED


def test_reprocess_include_waiting(applicant: Applicant, django_capture_on_commit_callbacks: Any) -> None:
    verification = make_verification(applicant, V.PROCESSING)
    waiting = failed_event(
        verification, state=WebhookState.RETRY_WAIT, next_attempt_at=timezone.now() + timedelta(hours=1)
    )
    with django_capture_on_commit_callbacks(execute=True):
        output = run("kyc_reprocess_webhooks", "--include-waiting")
    assert output.strip() == "1 webhook event(s) queued for reprocessing."
    waiting.refresh_from_db()
    assert waiting.state == WebhookState.PROCESSED


def test_reprocess_by_id_and_backend(applicant: Applicant, django_capture_on_commit_callbacks: Any) -> None:
    verification = make_verification(applicant, V.PROCESSING)
    chosen = failed_event(verification)
    other = failed_event(verification)
    other_backend = failed_event(None, backend="hosted")

    with django_capture_on_commit_callbacks(execute=True):
        assert run("kyc_reprocess_webhooks", "--backend", "hosted").startswith("1 webhook")
    # the hosted event's body is not a sandbox event: it fails again, for good
    other_backend.refresh_from_db()
    assert other_backend.state == WebhookState.FAILED
    assert other_backend.last_error.startswith("WebhookPayloadError: malformed sandbox event")

    with django_capture_on_commit_callbacks(execute=True):
        assert run("kyc_reprocess_webhooks", str(chosen.pk)).startswith("1 webhook")
    chosen.refresh_from_db()
    other.refresh_from_db()
    assert chosen.state == WebhookState.PROCESSED
    assert other.state == WebhookState.FAILED


def test_reprocess_now_processes_in_this_process(applicant: Applicant, django_capture_on_commit_callbacks: Any) -> None:
    """``--now`` processes here instead of queueing: nothing is enqueued for a worker to race it."""
    verification = make_verification(applicant, V.PROCESSING)
    event = failed_event(verification)
    with django_capture_on_commit_callbacks(execute=True):
        output = run("kyc_reprocess_webhooks", "--now")
    assert not Task.objects.filter(func="django_kyc.tasks.process_webhook_event").exists()
    assert output.strip() == "1 webhook event(s) reprocessed."
    event.refresh_from_db()
    assert event.state == WebhookState.PROCESSED
    verification.refresh_from_db()
    assert verification.status == V.APPROVED


def test_reprocess_with_nothing_failed() -> None:
    assert run("kyc_reprocess_webhooks").strip() == "0 webhook event(s) queued for reprocessing."
