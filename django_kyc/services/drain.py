"""The inbox drain: received webhook events, claimed in batches, applied in per-verification order.

The inbox is the queue. A delivery stores its event and wakes a drain (:mod:`django_kyc.wakeup`); a drain
claims the oldest received events with ``SELECT ... FOR UPDATE SKIP LOCKED``, so drains in several workers,
clusters and machines take disjoint batches, and keeps claiming while it finds work instead of waiting for
the next wake-up.

- **Claim**: in one short transaction, lock up to ``WEBHOOK_DRAIN_BATCH_SIZE`` received events whose claim
  is free (no ``next_attempt_at``, or one that has passed), skip those another drain is locking, and write a
  lease into ``next_attempt_at``. No lock is held while events are applied (a provider may be asked for the
  state); the lease keeps other drains off the batch meanwhile, and is renewed while the batch takes long.
  A drain that dies leaves its batch ``received`` under a lease that runs out; the sweeper then wakes a drain.
- **Order**: events of one verification (one ``provider_ref``) are applied in the order they were received:
  an event is left unclaimed while an earlier received event with the same reference sits outside the batch
  (claimed by another drain, or just committed). The drain that holds the earlier one takes it on its next
  claim. Within a batch the order is the receipt order.
- **Exactly once** does not rest on the claim: :func:`~django_kyc.services.webhooks.apply` locks the event
  and checks its state in the transaction that applies it, so an event handed to two workers (a lease that
  ran out under a stalled drain, the sweeper's retry) is applied once.

On SQLite row locks are moot (one writer at a time); the lease alone keeps drains apart, and the claim is
still one transaction.
"""

from __future__ import annotations

import logging
import math
import time
from dataclasses import dataclass
from datetime import datetime

from django.db import transaction
from django.db.models import Min, Q
from django.utils import timezone

from django_kyc import wakeup
from django_kyc.conf import kyc_settings
from django_kyc.models import WebhookEvent, WebhookState
from django_kyc.queue import enqueue, runs_inline
from django_kyc.services.retry import provider_call_lease
from django_kyc.services.webhooks import apply

logger = logging.getLogger("django_kyc.drain")

#: how often a lingering drain looks at the inbox again when it found nothing: half of it is, on average, what a
#: delivery arriving while a drain lingers waits before anything looks at it (an empty claim is one short
#: transaction, and only a drain lingering after a wake-up polls)
POLL_SECONDS = 0.025


@dataclass(frozen=True)
class DrainReport:
    applied: int
    batches: int
    deferred: int

    def summary(self) -> str:
        return f"applied={self.applied} batches={self.batches} deferred={self.deferred}"


def claimable(now: datetime) -> Q:
    """Received events nobody holds: never claimed, or claimed by a drain whose lease ran out."""
    return Q(state=WebhookState.RECEIVED) & (Q(next_attempt_at__isnull=True) | Q(next_attempt_at__lte=now))


@dataclass
class Batch:
    rows: list[WebhookEvent]
    lease_until: datetime | None
    deferred: int


def claim(limit: int | None = None) -> Batch:
    """Claim the oldest claimable events (see the module doc); an empty batch when there is nothing to do."""
    limit = int(kyc_settings.WEBHOOK_DRAIN_BATCH_SIZE) if limit is None else limit
    now = timezone.now()
    with transaction.atomic():
        candidates = list(
            WebhookEvent.objects.select_for_update(skip_locked=True)
            .filter(claimable(now))
            .order_by("received_at", "pk")[:limit]
        )
        if not candidates:
            return Batch([], None, 0)
        rows = _in_order(candidates)
        if not rows:
            return Batch([], None, len(candidates))
        lease = max(provider_call_lease(alias) for alias in {row.backend for row in rows})
        lease_until = now + lease
        WebhookEvent.objects.filter(pk__in=[row.pk for row in rows]).update(next_attempt_at=lease_until)
    return Batch(rows, lease_until, len(candidates) - len(rows))


def _in_order(candidates: list[WebhookEvent]) -> list[WebhookEvent]:
    """The candidates no earlier received event of the same reference waits before, outside this batch."""
    refs = {(row.backend, row.provider_ref) for row in candidates if row.provider_ref}
    if not refs:
        return candidates
    same_ref = Q()
    for backend, ref in refs:
        same_ref |= Q(backend=backend, provider_ref=ref)
    earliest = {
        (item["backend"], item["provider_ref"]): item["first"]
        for item in WebhookEvent.objects.filter(same_ref, state=WebhookState.RECEIVED)
        .exclude(pk__in=[row.pk for row in candidates])
        .values("backend", "provider_ref")
        .annotate(first=Min("received_at"))
        .order_by()
    }
    kept = []
    for row in candidates:
        first = earliest.get((row.backend, row.provider_ref)) if row.provider_ref else None
        if first is None or row.received_at <= first:
            kept.append(row)
    return kept


def drain(linger: float = 0.0, budget: float | None = None) -> DrainReport:
    """Apply received events until the inbox is empty (and ``linger`` seconds have passed since the start).

    After ``budget`` seconds (``WEBHOOK_DRAIN_MAX_SECONDS``; no limit when tasks run inline) with work still
    coming, the drain enqueues a fresh drain and returns, so other tasks get a worker during a long backlog.
    """
    wakeup.started()
    started = time.monotonic()
    if budget is None:
        budget = math.inf if runs_inline() else float(kyc_settings.WEBHOOK_DRAIN_MAX_SECONDS)
    applied = batches = deferred = 0
    while True:
        batch = claim()
        deferred += batch.deferred
        if batch.rows:
            batches += 1
            applied += _apply_batch(batch)
            if time.monotonic() - started >= budget:
                enqueue(wakeup.TASK, str(linger))
                break
            continue
        elapsed = time.monotonic() - started
        if elapsed >= linger or elapsed >= budget:
            break
        time.sleep(POLL_SECONDS)
    return DrainReport(applied, batches, deferred)


def _apply_batch(batch: Batch) -> int:
    """Apply each claimed event in order, renewing the lease of the rest when half of it has gone by."""
    rows, lease_until = batch.rows, batch.lease_until
    assert lease_until is not None  # a non-empty batch always has a lease
    claimed_at = timezone.now()
    for index, row in enumerate(rows):
        now = timezone.now()
        if lease_until - now < (lease_until - claimed_at) / 2:
            lease_until = _renew(rows[index:], lease_until, now + (lease_until - claimed_at))
            claimed_at = now
        try:
            apply(row)
        except Exception:
            # apply() records the event's own failures; this is the database failing under it. The lease
            # runs out and the sweeper wakes a drain for the event.
            logger.exception("applying webhook event %s failed", row.pk)
    return len(rows)


def _renew(rows: list[WebhookEvent], held: datetime, until: datetime) -> datetime:
    """Extend the lease on the rows still ours (still received, still under the lease we wrote)."""
    WebhookEvent.objects.filter(
        pk__in=[row.pk for row in rows], state=WebhookState.RECEIVED, next_attempt_at=held
    ).update(next_attempt_at=until)
    return until
