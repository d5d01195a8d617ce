"""Delivering outbound events: one attempt per task, its outcome recorded, the next attempt scheduled.

A delivery is claimed with one compare-and-set UPDATE (due, still open: the attempt counted and a lease written
into ``next_attempt_at``), sent outside any transaction, and its outcome recorded under a row lock: an attempt
row, then ``delivered``, ``retry_wait`` (the next time from ``OUTBOUND_RETRY_SCHEDULE``), ``failed`` after the
last attempt (signal ``outbound_delivery_failed``), or, on ``410 Gone``, the endpoint disabled with every open
delivery to it (signal ``outbound_endpoint_disabled``). The sweeper enqueues what falls due, so a retry never
depends on a task surviving; a task that runs twice finds nothing due the second time.
"""

from __future__ import annotations

import json
import logging
import random
import time
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime, timedelta
from datetime import timezone as dt_timezone
from typing import Any

from django.conf import settings
from django.db import transaction
from django.db.models import F, Q
from django.utils import timezone
from django.utils.translation import gettext as _

from django_kyc import __version__, signals
from django_kyc.conf import kyc_settings
from django_kyc.models import (
    OPEN_DELIVERY_STATES,
    Delivery,
    DeliveryAttempt,
    DeliveryState,
    Endpoint,
    EndpointSource,
    OutboundEvent,
)
from django_kyc.outbound import client
from django_kyc.outbound.addresses import parse_networks
from django_kyc.outbound.signing import generate_secret, signature_headers
from django_kyc.queue import enqueue, enqueue_on_commit
from django_kyc.services.events import declared_endpoints

logger = logging.getLogger("django_kyc.outbound")

#: A replay enqueues this many deliveries at once; the sweeper takes the rest as they fall due.
REPLAY_ENQUEUE_LIMIT = 100


def body_of(event: OutboundEvent) -> bytes:
    """The delivery body: the same bytes for every attempt and every endpoint of one event."""
    stamp = event.occurred_at.astimezone(dt_timezone.utc).isoformat().replace("+00:00", "Z")
    envelope = {"type": event.event_type, "version": event.version, "timestamp": stamp, "data": event.data}
    return json.dumps(envelope, separators=(",", ":"), ensure_ascii=False).encode("utf-8")


def signing_secrets(endpoint: Endpoint, now: datetime | None = None) -> list[str]:
    """The secrets a delivery is signed with: a settings endpoint's from the settings, an admin endpoint's
    current one, plus the previous one while a rotation is under way."""
    if endpoint.source == EndpointSource.SETTINGS:
        spec = declared_endpoints().get(endpoint.name)
        return list(spec["secrets"]) if spec else []
    secrets = [endpoint.secret] if endpoint.secret else []
    until = endpoint.previous_secret_until
    if endpoint.previous_secret and until is not None and until > (now or timezone.now()):
        secrets.append(endpoint.previous_secret)
    return secrets


def retry_delay(attempt: int) -> float | None:
    """Seconds to wait after failed attempt ``attempt`` (1-based), or ``None`` when it was the last one.

    Each wait is stretched by up to 10 % at random, so the deliveries a receiver's outage held back do not all
    come back to it in the same second."""
    schedule = [float(step) for step in kyc_settings.OUTBOUND_RETRY_SCHEDULE]
    if attempt > len(schedule):
        return None
    step = schedule[attempt - 1]
    return step + random.uniform(0, step / 10)  # noqa: S311 - jitter, not cryptography


def max_attempts() -> int:
    return len(kyc_settings.OUTBOUND_RETRY_SCHEDULE) + 1


def lease() -> timedelta:
    return timedelta(seconds=float(kyc_settings.OUTBOUND_TIMEOUT) + float(kyc_settings.LEASE_MARGIN_SECONDS))


def deliver(delivery_id: Any) -> str:
    """Make one attempt at a delivery that is due; return what happened (for the task's result)."""
    now = timezone.now()
    claimed = (
        Delivery.objects.filter(pk=delivery_id, state__in=OPEN_DELIVERY_STATES)
        .filter(Q(next_attempt_at__isnull=True) | Q(next_attempt_at__lte=now))
        .update(attempts=F("attempts") + 1, next_attempt_at=now + lease(), updated_at=now)
    )
    if not claimed:
        return "not due"
    delivery = Delivery.objects.select_related("event", "endpoint").get(pk=delivery_id)
    endpoint = delivery.endpoint
    if not endpoint.enabled:
        Delivery.objects.filter(pk=delivery.pk).update(
            state=DeliveryState.ENDPOINT_DISABLED, attempts=F("attempts") - 1, next_attempt_at=None
        )
        return "endpoint disabled"
    started_at = timezone.now()
    answer = send(delivery.event, endpoint)
    return record(delivery.pk, answer, started_at)


def send(event: OutboundEvent, endpoint: Endpoint) -> client.Answer:
    """One signed POST of ``event`` to ``endpoint``; every failure, a refused address included, as an answer."""
    started = time.monotonic()
    secrets = signing_secrets(endpoint)
    if not secrets:
        return client.Answer(error=_("the endpoint has no signing secret"))
    body = body_of(event)
    headers = {
        "Content-Type": "application/json",
        "User-Agent": f"django-kyc/{__version__}",
        **signature_headers(str(event.pk), int(time.time()), body, secrets),
    }
    try:
        target = client.resolve(
            endpoint.url,
            allow_http=bool(settings.DEBUG),
            allowed=parse_networks(kyc_settings.OUTBOUND_ALLOWED_NETWORKS or []),
        )
    except client.Refused as exc:
        return client.Answer(error=str(exc), duration_ms=int((time.monotonic() - started) * 1000))
    ca_bundle = kyc_settings.OUTBOUND_CA_BUNDLE
    return client.post(
        target,
        body,
        headers,
        connect_timeout=float(kyc_settings.OUTBOUND_CONNECT_TIMEOUT),
        deadline_seconds=float(kyc_settings.OUTBOUND_TIMEOUT),
        keep_bytes=int(kyc_settings.OUTBOUND_RESPONSE_BYTES),
        context=client.tls_context(ca_bundle) if target.scheme == "https" else None,
    )


def _error_of(answer: client.Answer) -> str:
    if answer.error:
        return answer.error[:500]
    status = answer.status or 0
    if 300 <= status < 400:
        return _("HTTP %(status)s: redirects are not followed (answer 2xx)") % {"status": status}
    return f"HTTP {status}"


def _kept_text(body: bytes) -> str:
    return body.decode("utf-8", errors="replace").replace("\x00", "\ufffd")


def record(delivery_id: Any, answer: client.Answer, started_at: datetime) -> str:
    """Write the attempt and move the delivery on; returns the delivery's new state."""
    with transaction.atomic():
        delivery = Delivery.objects.select_for_update().get(pk=delivery_id)
        now = timezone.now()
        DeliveryAttempt.objects.create(
            delivery=delivery,
            number=delivery.attempts,
            started_at=started_at,
            duration_ms=answer.duration_ms,
            status_code=answer.status,
            error="" if answer.succeeded else _error_of(answer),
            response_body=_kept_text(answer.body),
            succeeded=answer.succeeded,
        )
        delivery.last_status_code = answer.status
        delivery.last_error = "" if answer.succeeded else _error_of(answer)
        if answer.succeeded:
            delivery.state, delivery.delivered_at, delivery.next_attempt_at = DeliveryState.DELIVERED, now, None
        elif answer.status == 410:
            _disable_endpoint(delivery.endpoint_id, _("answered 410 Gone"))
            delivery.state, delivery.next_attempt_at = DeliveryState.ENDPOINT_DISABLED, None
        else:
            delay = retry_delay(delivery.attempts)
            if delay is None:
                delivery.state, delivery.next_attempt_at = DeliveryState.FAILED, None
                signals.send_after_commit(signals.outbound_delivery_failed, Delivery, delivery=delivery)
            else:
                delivery.state, delivery.next_attempt_at = DeliveryState.RETRY_WAIT, now + timedelta(seconds=delay)
        delivery.save(
            update_fields=["state", "delivered_at", "next_attempt_at", "last_status_code", "last_error", "updated_at"]
        )
    if not answer.succeeded:
        # ids and the outcome only: the body is the receiver's, and the URL may carry a token in its path
        logger.warning(
            "event delivery %s to endpoint %s: %s (attempt %s, now %s)",
            delivery.pk,
            delivery.endpoint_id,
            delivery.last_error,
            delivery.attempts,
            delivery.state,
        )
    return str(delivery.state)


def _disable_endpoint(endpoint_id: Any, reason: str) -> None:
    Endpoint.objects.filter(pk=endpoint_id).update(enabled=False, disabled_reason=reason[:255])
    Delivery.objects.filter(endpoint_id=endpoint_id, state__in=OPEN_DELIVERY_STATES).update(
        state=DeliveryState.ENDPOINT_DISABLED, next_attempt_at=None
    )
    transaction.on_commit(
        lambda: signals.outbound_endpoint_disabled.send(
            sender=Endpoint, endpoint=Endpoint.objects.get(pk=endpoint_id), reason=reason
        )
    )


# --- what people do in the admin ------------------------------------------------------------------------------


def rotate_secret(endpoint_id: Any) -> str:
    """Give an admin endpoint a new secret and return it (to be shown once). The old one keeps signing, beside
    the new one, for ``OUTBOUND_SECRET_ROTATION_HOURS``, so the receiver can switch without losing events."""
    new = generate_secret()
    with transaction.atomic():
        endpoint = Endpoint.objects.select_for_update().get(pk=endpoint_id)
        if endpoint.source != EndpointSource.ADMIN:
            raise ValueError("the secret of an endpoint from settings is rotated in the settings")
        endpoint.previous_secret = endpoint.secret
        endpoint.previous_secret_until = timezone.now() + timedelta(
            hours=float(kyc_settings.OUTBOUND_SECRET_ROTATION_HOURS)
        )
        endpoint.secret = new
        endpoint.save(update_fields=["secret", "previous_secret", "previous_secret_until", "updated_at"])
    return new


def resend(delivery_ids: Iterable[Any]) -> int:
    """Send these deliveries again, with a fresh attempt budget, whatever their state (same ``webhook-id``,
    so a receiver that already has the event can drop it). Returns how many were queued."""
    ids = list(delivery_ids)
    now = timezone.now()
    with transaction.atomic():
        count = Delivery.objects.filter(pk__in=ids).update(
            state=DeliveryState.PENDING, attempts=0, next_attempt_at=now, updated_at=now
        )
        for pk in ids[:REPLAY_ENQUEUE_LIMIT]:
            enqueue_on_commit("deliver_event", str(pk))
    return count


@dataclass(frozen=True)
class Replay:
    created: int
    resent: int


def replay_since(endpoint_id: Any, since: datetime, *, batch_size: int = 500) -> Replay:
    """Every event since ``since`` that the endpoint subscribes to, sent to it again: deliveries it has are
    resent, events it never got (it was disabled, or added later) get a delivery. Batched, so a long replay
    holds neither memory nor a lock for long; the sweeper sends what is not enqueued here."""
    endpoint = Endpoint.objects.get(pk=endpoint_id)
    created = resent = 0
    queued: list[str] = []
    events = OutboundEvent.objects.filter(occurred_at__gte=since).order_by("occurred_at", "pk")
    last: tuple[datetime, Any] | None = None
    while True:
        page = (
            events
            if last is None
            else events.filter(Q(occurred_at__gt=last[0]) | Q(occurred_at=last[0], pk__gt=last[1]))
        )
        batch = list(page.values_list("pk", "event_type", "occurred_at")[:batch_size])
        if not batch:
            break
        last = (batch[-1][2], batch[-1][0])
        wanted = [pk for pk, name, _at in batch if endpoint.receives(name)]
        now = timezone.now()
        with transaction.atomic():
            existing = dict(
                Delivery.objects.filter(endpoint=endpoint, event_id__in=wanted).values_list("event_id", "pk")
            )
            resent += Delivery.objects.filter(pk__in=existing.values()).update(
                state=DeliveryState.PENDING, attempts=0, next_attempt_at=now, updated_at=now
            )
            new = Delivery.objects.bulk_create(
                [Delivery(event_id=pk, endpoint=endpoint, next_attempt_at=now) for pk in wanted if pk not in existing]
            )
            created += len(new)
            for pk in [*existing.values(), *(delivery.pk for delivery in new)]:
                if len(queued) < REPLAY_ENQUEUE_LIMIT:
                    queued.append(str(pk))
                    enqueue_on_commit("deliver_event", str(pk))
    return Replay(created=created, resent=resent)


# --- the sweeper's part -------------------------------------------------------------------------------------------


def due_deliveries(now: datetime, grace: timedelta, limit: int) -> list[Any]:
    """Deliveries to enqueue: retries that fell due, and new ones whose on-commit enqueue was lost (older than
    the grace), or whose worker died (lease run out)."""
    return list(
        Delivery.objects.filter(
            Q(state=DeliveryState.RETRY_WAIT, next_attempt_at__lte=now)
            | Q(state=DeliveryState.PENDING, next_attempt_at__lte=now - grace)
            | Q(state__in=OPEN_DELIVERY_STATES, next_attempt_at__isnull=True)
        ).values_list("pk", flat=True)[:limit]
    )


def enqueue_due(now: datetime, grace: timedelta, limit: int) -> int:
    due = due_deliveries(now, grace, limit)
    for pk in due:
        enqueue("deliver_event", str(pk))
    return len(due)


def purge_settled_events(now: datetime | None = None, *, batch_size: int = 1000) -> int:
    """Delete the events older than ``OUTBOUND_EVENT_RETENTION_DAYS`` whose deliveries are all settled, with
    their deliveries and attempts; returns how many events went.

    The outbox holds no personal data, but it grows with every change; kept for ever it would be the largest
    table of a busy site. An event with a delivery still being tried stays, whatever its age, so the purge
    never takes work from the sweeper; "Replay events since" reaches back as far as events are kept.
    Deleted a batch at a time, so memory stays flat however many fell due.
    """
    days = kyc_settings.OUTBOUND_EVENT_RETENTION_DAYS
    if days is None:
        return 0
    cutoff = (now or timezone.now()) - timedelta(days=int(days))
    open_events = Delivery.objects.filter(state__in=OPEN_DELIVERY_STATES).values("event_id")
    old = OutboundEvent.objects.filter(occurred_at__lt=cutoff).exclude(pk__in=open_events).order_by("pk")
    deleted = 0
    while batch := list(old.values_list("pk", flat=True)[:batch_size]):
        DeliveryAttempt.objects.filter(delivery__event_id__in=batch).delete()
        Delivery.objects.filter(event_id__in=batch).delete()
        OutboundEvent.objects.filter(pk__in=batch).delete()
        deleted += len(batch)
    return deleted
