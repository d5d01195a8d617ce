"""The periodic sweeper: the one place that turns stored retry times into enqueued work.

Retry state lives on our own rows (attempts, next_attempt_at, last_error), not in the broker, so work
survives a lost Redis queue or a killed worker and can be inspected in admin. The sweeper runs from a
django-q2 schedule every minute and enqueues whatever is due; every task it enqueues is idempotent. Received
webhook events are the inbox drain's: for those the sweeper only wakes a drain when a wake-up was lost.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta

from django.db.models import Q
from django.utils import timezone

from django_kyc import wakeup
from django_kyc.backends.capabilities import Capability
from django_kyc.backends.registry import get_backend, is_configured
from django_kyc.conf import kyc_settings
from django_kyc.models import AmlCheck, Verification, WebhookEvent, WebhookState
from django_kyc.queue import enqueue
from django_kyc.services import outbound
from django_kyc.status import AmlStatus, VerificationStatus


def grace() -> timedelta:
    """Work created less than this long ago is still owned by its on-commit enqueue
    (``DJANGO_KYC["SWEEP_GRACE_SECONDS"]``); older work that never ran is the sweeper's."""
    return timedelta(seconds=float(kyc_settings.SWEEP_GRACE_SECONDS))


@dataclass(frozen=True)
class SweepReport:
    submissions: int
    webhook_events: int
    aml_checks: int
    polls: int
    deliveries: int = 0

    def summary(self) -> str:
        return (
            f"submissions={self.submissions} webhook_events={self.webhook_events} "
            f"aml_checks={self.aml_checks} polls={self.polls} deliveries={self.deliveries}"
        )


def _due() -> Q:
    current = timezone.now()
    return Q(next_attempt_at__lte=current) | Q(next_attempt_at__isnull=True, created_at__lte=current - grace())


def sweep(limit: int = 500) -> SweepReport:
    now = timezone.now()
    submissions = list(
        Verification.objects.filter(_due(), status=VerificationStatus.PENDING).values_list("pk", flat=True)[:limit]
    )
    for pk in submissions:
        enqueue("submit_verification", str(pk))

    # events waiting to retry: one task each, as before
    retries = list(
        WebhookEvent.objects.filter(
            Q(state=WebhookState.RETRY_WAIT, next_attempt_at__lte=now)
            | Q(state=WebhookState.RETRY_WAIT, next_attempt_at__isnull=True)
        ).values_list("pk", flat=True)[:limit]
    )
    for pk in retries:
        enqueue("process_webhook_event", str(pk))
    # received events whose wake-up was lost (never claimed after the grace) or whose drain died (lease ran
    # out): one drain takes them all, and keeps going while it finds more
    stranded = len(
        WebhookEvent.objects.filter(
            Q(state=WebhookState.RECEIVED, next_attempt_at__isnull=True, received_at__lte=now - grace())
            | Q(state=WebhookState.RECEIVED, next_attempt_at__lte=now)
        ).values_list("pk", flat=True)[:limit]
    )
    if stranded:
        enqueue(wakeup.TASK, "0")

    checks = list(
        AmlCheck.objects.filter(_due(), status__in=[AmlStatus.PENDING, AmlStatus.RUNNING]).values_list("pk", flat=True)[
            :limit
        ]
    )
    for pk in checks:
        enqueue("run_aml_check", str(pk))

    polls = 0
    stale = (
        Verification.objects.filter(
            status__in=[
                VerificationStatus.AWAITING_USER,
                VerificationStatus.PROCESSING,
                VerificationStatus.REVIEW,
            ],
            updated_at__lte=now - kyc_settings.poll_after,
        )
        .filter(Q(last_polled_at__isnull=True) | Q(last_polled_at__lte=now - kyc_settings.poll_interval))
        .values_list("pk", "backend")[: int(kyc_settings.POLL_BATCH_SIZE)]
    )
    for pk, alias in stale:
        if is_configured(alias) and get_backend(alias).supports(Capability.POLLING):
            enqueue("poll_verification", str(pk))
            polls += 1
    # outbound events: retries that fell due, and deliveries whose enqueue or worker was lost
    deliveries = outbound.enqueue_due(now, grace(), limit)
    return SweepReport(len(submissions), len(retries) + stranded, len(checks), polls, deliveries)
