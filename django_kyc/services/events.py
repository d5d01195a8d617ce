"""Emitting events for the site's services: the one call every change that others should hear about makes.

::

    from django_kyc.services import events

    with transaction.atomic():
        ...  # the change itself
        events.emit("applicant.review_due", applicant, {"applicant_id": str(applicant.pk), ...})

:func:`emit` writes the event and one delivery per subscribed endpoint in the caller's transaction (an outbox):
a change that rolls back leaves no event, and an event exists exactly when its change committed. The deliveries
are enqueued after the commit and made by workers (:mod:`django_kyc.services.outbound`), so a receiver that is
slow, down or broken never reaches the change that caused the event. ``data`` must be exactly what the catalogue
(:mod:`django_kyc.outbound.catalogue`) declares for the type: ids and statuses, no personal data; a new key is
a catalogue change. With no endpoint subscribed nothing is written at all (one query).
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping, Sequence
from contextlib import contextmanager
from contextvars import ContextVar
from typing import Any

from django.db import transaction
from django.utils import timezone

from django_kyc.conf import kyc_settings
from django_kyc.models import Delivery, Endpoint, EndpointSource, OutboundEvent
from django_kyc.outbound.catalogue import check_data, event_type
from django_kyc.queue import enqueue_on_commit


def emit(name: str, subject: Any, data: Mapping[str, Any]) -> OutboundEvent | None:
    """Record event ``name`` about ``subject`` (a model instance, or its id) with ``data``, in the current
    transaction. Returns the event, or ``None`` when no enabled endpoint receives this type.

    Raises ``ValueError`` for an unknown type or data the catalogue does not declare: a programming error,
    caught by tests, never by a receiver's behaviour.
    """
    written = emit_many(name, [(subject, data)])
    return written[0] if written else None


def emit_many(name: str, items: Sequence[tuple[Any, Mapping[str, Any]]]) -> list[OutboundEvent]:
    """:func:`emit` for a batch of subjects (the daily jobs move a page at a time): the endpoints are read once
    and the events and deliveries written with one INSERT each, so a page costs the same statements whatever
    its size."""
    spec = event_type(name)
    payloads = [(str(getattr(subject, "pk", subject)), dict(data)) for subject, data in items]
    for _subject_id, payload in payloads:
        check_data(spec, payload)
    if not payloads:
        return []
    endpoints = [endpoint for endpoint in _endpoints() if endpoint.enabled and endpoint.receives(name)]
    if not endpoints:
        return []
    now = timezone.now()
    with transaction.atomic(savepoint=False):
        written = OutboundEvent.objects.bulk_create(
            [
                OutboundEvent(
                    event_type=name,
                    version=spec.version,
                    subject_type=spec.subject,
                    subject_id=subject_id,
                    data=payload,
                    occurred_at=now,
                )
                for subject_id, payload in payloads
            ]
        )
        deliveries = Delivery.objects.bulk_create(
            [
                Delivery(event=event, endpoint=endpoint, next_attempt_at=now)
                for event in written
                for endpoint in endpoints
            ]
        )
        for delivery in deliveries:
            enqueue_on_commit("deliver_event", str(delivery.pk))
    return written


class _Reading:
    rows: list[Endpoint] | None = None


_reading: ContextVar[_Reading | None] = ContextVar("django_kyc_endpoints_reading", default=None)


@contextmanager
def endpoints_read_once() -> Iterator[None]:
    """Inside the block, the events emitted share one reading of the endpoints.

    A change that emits several events in one transaction (a status change that is also a completion, a
    submission moving its documents and its verification) would otherwise read the endpoint table once per
    event. Open it around a single transaction: a second reading there could only see an endpoint committed
    in between, which is no more right than the first. Nested blocks share the outermost reading.
    """
    if _reading.get() is not None:
        yield
        return
    token = _reading.set(_Reading())
    try:
        yield
    finally:
        _reading.reset(token)


def _endpoints() -> list[Endpoint]:
    reading = _reading.get()
    if reading is None:
        return current_endpoints()
    if reading.rows is None:
        reading.rows = current_endpoints()
    return reading.rows


def current_endpoints() -> list[Endpoint]:
    """Every endpoint row, with those of ``OUTBOUND_ENDPOINTS`` brought in line with the settings first.

    The settings are compared with the rows on every call (the rows are read anyway); only a difference, a
    new deployment's settings, costs writes. A settings endpoint that a receiver's 410 disabled stays disabled
    until a person enables it again or its URL changes.
    """
    rows = list(Endpoint.objects.all())
    declared = declared_endpoints()
    by_name = {row.name: row for row in rows}
    stale = [
        name
        for name, spec in declared.items()
        if name not in by_name
        or by_name[name].url != spec["url"]
        or by_name[name].event_types != spec["event_types"]
        or (by_name[name].enabled and not spec["enabled"])
    ]
    removed = [
        row for row in rows if row.source == EndpointSource.SETTINGS and row.name not in declared and row.enabled
    ]
    if not stale and not removed:
        return rows
    with transaction.atomic(savepoint=False):
        for name in stale:
            spec = declared[name]
            row = by_name.get(name)
            if row is not None and row.source != EndpointSource.SETTINGS:
                continue  # an admin endpoint of the same name stays the admin's: the settings one is left out
            Endpoint.objects.update_or_create(
                name=name,
                defaults={
                    "url": spec["url"],
                    "event_types": spec["event_types"],
                    "enabled": spec["enabled"],
                    "disabled_reason": "" if spec["enabled"] else "disabled in settings",
                    "source": EndpointSource.SETTINGS,
                },
            )
        for row in removed:
            Endpoint.objects.filter(pk=row.pk).update(enabled=False, disabled_reason="removed from settings")
    return list(Endpoint.objects.all())


def declared_endpoints() -> dict[str, dict[str, Any]]:
    """``OUTBOUND_ENDPOINTS`` normalised: name → url, event types, enabled, secrets (never stored)."""
    configured = kyc_settings.OUTBOUND_ENDPOINTS or {}
    declared: dict[str, dict[str, Any]] = {}
    for name, spec in configured.items():
        secrets = spec.get("SECRET") or []
        declared[str(name)] = {
            "url": str(spec.get("URL", "")),
            "event_types": list(spec.get("EVENTS") or ["*"]),
            "enabled": bool(spec.get("ENABLED", True)),
            "secrets": [secrets] if isinstance(secrets, str) else list(secrets),
        }
    return declared
