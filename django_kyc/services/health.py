"""Is the background worker running? The sweeper's heartbeat says.

A system check runs in the process that starts, not in the cluster, so it cannot tell whether a ``qcluster``
is working; without one a verification stays ``pending`` with no attempts and nothing says why. The sweeper
(a django-q2 schedule run every ``SWEEP_EVERY_MINUTES``) records each run in :class:`~django_kyc.models.Heartbeat`;
the review queue, the dashboard and ``manage.py kyc_health`` read its age. Only the cluster beats:
``manage.py kyc_sweep`` runs in a shell, and a beat from there would hide a dead cluster.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from django.db import IntegrityError
from django.utils import timezone
from django.utils.timesince import timesince
from django.utils.translation import gettext as _

from django_kyc.conf import kyc_settings
from django_kyc.db import savepoint_if_nested
from django_kyc.models import AmlCheck, Heartbeat, Verification, WebhookEvent, WebhookState
from django_kyc.schedules import SWEEP_SCHEDULE_NAME
from django_kyc.services.sweeper import grace
from django_kyc.status import AmlStatus, VerificationStatus

#: The heartbeat the sweeper writes: named after its schedule.
SWEEPER = SWEEP_SCHEDULE_NAME


def beat(name: str = SWEEPER) -> None:
    """Record a run of ``name`` now: one UPDATE, or an INSERT the first time."""
    now = timezone.now()
    if Heartbeat.objects.filter(name=name).update(beat_at=now):
        return
    try:
        with savepoint_if_nested():
            Heartbeat.objects.create(name=name, beat_at=now)
    except IntegrityError:  # another worker wrote the first beat in between
        Heartbeat.objects.filter(name=name).update(beat_at=now)


def last_run(name: str = SWEEPER) -> datetime | None:
    """When ``name`` last ran (one primary-key read), or None if it never has."""
    return Heartbeat.objects.filter(name=name).values_list("beat_at", flat=True).first()


@dataclass(frozen=True)
class WorkerHealth:
    """What the sweeper's heartbeat says about the background worker at ``checked_at``."""

    last_run: datetime | None
    checked_at: datetime
    stale_after: timedelta

    @property
    def age(self) -> timedelta | None:
        return None if self.last_run is None else max(self.checked_at - self.last_run, timedelta(0))

    @property
    def stale(self) -> bool:
        """Never ran, or not for longer than ``stale_after``: work is waiting for a worker that is not there."""
        return self.age is None or self.age > self.stale_after

    @property
    def summary(self) -> str:
        if self.age is None:
            return _("Background worker: the sweeper has never run.")
        if self.age < timedelta(minutes=1):
            return _("Background worker: the sweeper last ran less than a minute ago.")
        return _("Background worker: the sweeper last ran %(time)s ago.") % {
            "time": timesince(self.checked_at - self.age, self.checked_at, depth=1)
        }

    @property
    def advice(self) -> str:
        """What to do about a stale heartbeat (empty when there is nothing to do)."""
        if not self.stale:
            return ""
        return _(
            "Until it runs, new verifications stay pending, stored webhooks are not processed and nothing is "
            "retried or polled. Check that manage.py qcluster is running and that the %(schedule)s schedule "
            "exists (manage.py kyc_install_schedules creates it)."
        ) % {"schedule": SWEEP_SCHEDULE_NAME}


def worker_health(
    last: datetime | None, now: datetime | None = None, stale_after: timedelta | None = None
) -> WorkerHealth:
    """The health for a heartbeat read elsewhere (the review queue folds the read into its counts query)."""
    return WorkerHealth(
        last, now or timezone.now(), kyc_settings.health_stale_after if stale_after is None else stale_after
    )


def read_worker_health(now: datetime | None = None, stale_after: timedelta | None = None) -> WorkerHealth:
    return worker_health(last_run(), now, stale_after)


def untouched_work(now: datetime | None = None) -> dict[str, int]:
    """Work older than ``SWEEP_GRACE_SECONDS`` that no worker has attempted: what a dead cluster leaves behind."""
    before = (now or timezone.now()) - grace()
    return {
        "verifications": Verification.objects.filter(
            status=VerificationStatus.PENDING, attempts=0, created_at__lte=before
        ).count(),
        "webhook events": WebhookEvent.objects.filter(
            state=WebhookState.RECEIVED, attempts=0, received_at__lte=before
        ).count(),
        "AML checks": AmlCheck.objects.filter(status=AmlStatus.PENDING, attempts=0, created_at__lte=before).count(),
    }
