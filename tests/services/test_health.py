"""The background worker's health: the sweeper's heartbeat, how old it may get, and the work a dead cluster
leaves behind. Runs the real sweeper task (the function the django-q2 schedule names) and moves the clock."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import pytest
from django.test import override_settings
from django.utils import timezone
from django.utils.module_loading import import_string
from django_q.models import Schedule

from django_kyc.models import Heartbeat, WebhookEvent
from django_kyc.schedules import SWEEP_SCHEDULE_NAME
from django_kyc.services import health
from django_kyc.status import VerificationStatus
from tests.support.factories import make_verification
from tests.support.kyc_settings import kyc_settings_with

pytestmark = pytest.mark.django_db
V = VerificationStatus


def run_scheduled_sweep() -> str:
    """What the cluster runs every SWEEP_EVERY_MINUTES: the function the installed schedule names."""
    sweep = import_string(Schedule.objects.get(name=SWEEP_SCHEDULE_NAME).func)
    return sweep()


def test_nothing_ran_yet_is_unhealthy() -> None:
    state = health.read_worker_health()
    assert (state.last_run, state.age, state.stale) == (None, None, True)
    assert state.summary == "Background worker: the sweeper has never run."
    assert "manage.py qcluster" in state.advice


def test_each_scheduled_sweep_is_a_heartbeat_that_ages(time_machine: Any) -> None:
    started = timezone.now()
    time_machine.move_to(started, tick=False)
    assert run_scheduled_sweep() == "submissions=0 webhook_events=0 aml_checks=0 polls=0 deliveries=0"
    assert health.last_run() == started
    fresh = health.read_worker_health()
    assert (fresh.age, fresh.stale, fresh.advice) == (timedelta(0), False, "")
    assert fresh.summary == "Background worker: the sweeper last ran less than a minute ago."

    # the default allowance is five sweeper intervals (SWEEP_EVERY_MINUTES is 1 in the suite)
    time_machine.move_to(started + timedelta(minutes=5), tick=False)
    assert health.read_worker_health().stale is False
    time_machine.move_to(started + timedelta(minutes=5, seconds=1), tick=False)
    late = health.read_worker_health()
    assert late.stale is True
    assert late.summary == "Background worker: the sweeper last ran 5\xa0minutes ago."  # timesince's no-break space

    run_scheduled_sweep()  # the cluster is back: one row, moved forward
    assert health.read_worker_health().stale is False
    assert list(Heartbeat.objects.values_list("name", "beat_at")) == [
        (SWEEP_SCHEDULE_NAME, started + timedelta(minutes=5, seconds=1))
    ]


def test_the_allowance_follows_the_settings(time_machine: Any) -> None:
    time_machine.move_to(timezone.now(), tick=False)
    health.beat()
    time_machine.move_to(timezone.now() + timedelta(minutes=20), tick=False)
    assert health.read_worker_health().stale is True
    with override_settings(DJANGO_KYC=kyc_settings_with(SWEEP_EVERY_MINUTES=5)):  # 25 minutes
        assert health.read_worker_health().stale_after == timedelta(minutes=25)
        assert health.read_worker_health().stale is False
    with override_settings(DJANGO_KYC=kyc_settings_with(HEALTH_STALE_AFTER_SECONDS=3600)):
        assert health.read_worker_health().stale is False
    assert health.read_worker_health(stale_after=timedelta(minutes=30)).stale is False


def test_a_sweep_that_fails_is_no_heartbeat(monkeypatch: pytest.MonkeyPatch) -> None:
    """A sweeper that crashes on every run sweeps nothing: the health must not say the worker is fine."""
    from django_kyc.services import sweeper

    def broken(limit: int = 500) -> Any:
        raise RuntimeError("database went away")

    monkeypatch.setattr(sweeper, "sweep", broken)
    with pytest.raises(RuntimeError):
        run_scheduled_sweep()
    assert health.last_run() is None


def test_untouched_work_is_what_no_worker_attempted_after_the_grace(make_applicant: Any, time_machine: Any) -> None:
    time_machine.move_to(timezone.now(), tick=False)
    waiting = make_verification(make_applicant())
    make_verification(make_applicant(), attempts=1)  # a worker tried it: retries are the sweeper's
    make_verification(make_applicant(), V.REVIEW)
    WebhookEvent.objects.create(backend="sandbox", event_id="evt_1", body=b"{}")
    assert health.untouched_work() == {"verifications": 0, "webhook events": 0, "AML checks": 0}

    time_machine.move_to(timezone.now() + timedelta(seconds=61), tick=False)  # SWEEP_GRACE_SECONDS is 60
    assert health.untouched_work() == {"verifications": 1, "webhook events": 1, "AML checks": 0}
    assert waiting.attempts == 0
