"""Receiving and processing provider webhooks.

Receiving is synchronous and cheap: authenticate the raw bytes, parse, store one
:class:`~django_kyc.models.WebhookEvent` per provider event (the unique constraint turns a redelivery into a
no-op), and enqueue processing after commit. Processing is a django-q2 task that applies the event through
the transition service, retries failures with backoff and ends in a visible ``failed`` state.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from typing import Any

from django.db import transaction
from django.utils import timezone

from django_kyc import signals
from django_kyc.backends import get_backend
from django_kyc.backends.base import InboundWebhook, KycBackend, ProviderEvent
from django_kyc.conf import kyc_settings
from django_kyc.exceptions import KycError, PermanentProviderError, WebhookError, WebhookPayloadError
from django_kyc.models import Verification, WebhookEvent, WebhookState
from django_kyc.queue import enqueue_on_commit
from django_kyc.services import transitions
from django_kyc.services.retry import next_attempt_at
from django_kyc.services.transitions import Change, Outcome
from django_kyc.status import Source

logger = logging.getLogger("django_kyc.webhooks")

PROCESSABLE = (WebhookState.RECEIVED, WebhookState.RETRY_WAIT)


class VerificationNotFound(KycError):
    """No verification matches the event yet; possibly its submission has not committed. Retried."""


@dataclass(frozen=True)
class Receipt:
    stored: int
    duplicates: int


def receive(alias: str, webhook: InboundWebhook) -> Receipt:
    """Authenticate, parse and store a delivery. Raises a :class:`WebhookError` subclass when rejected."""
    backend = get_backend(alias)
    try:
        try:
            backend.authenticate_webhook(webhook)
            events = backend.parse_webhook(webhook)
        except RecursionError as exc:
            # ``json.loads`` on a body nested thousands deep (well under the size limit); some backends parse
            # before they can authenticate, so anyone could otherwise turn this into a 500
            raise WebhookPayloadError("delivery is nested too deeply to parse") from exc
    except WebhookError as exc:
        logger.warning("webhook for %s rejected: %s", alias, exc)
        signals.webhook_rejected.send(sender=WebhookEvent, backend=alias, reason=str(exc))
        raise
    # the site's allow-list plus whatever the backend needs to parse the stored delivery again later
    allowed = {name.lower() for name in (*kyc_settings.WEBHOOK_HEADER_ALLOWLIST, *backend.parse_headers)}
    headers = {key.lower(): value for key, value in webhook.headers.items() if key.lower() in allowed}
    body = webhook.body.decode("utf-8", errors="replace")
    stored = duplicates = 0
    for event in events:
        with transaction.atomic():
            row, created = WebhookEvent.objects.get_or_create(
                backend=alias,
                event_id=event.event_id[:255],
                defaults={
                    "event_type": event.event_type[:128],
                    "provider_ref": (event.provider_ref or event.our_ref)[:128],
                    "occurred_at": event.occurred_at,
                    "headers": headers,
                    "body": body,
                },
            )
            if created:
                stored += 1
                enqueue_on_commit("process_webhook_event", str(row.pk))
            else:
                duplicates += 1
    return Receipt(stored=stored, duplicates=duplicates)


def _event_from_row(backend: KycBackend, row: WebhookEvent) -> ProviderEvent:
    """Re-parse the stored body; the stored row is the source of truth for reprocessing."""
    webhook = InboundWebhook(body=row.body.encode("utf-8"), headers=row.headers)
    for event in backend.parse_webhook(webhook):
        if event.event_id[:255] == row.event_id:
            return event
    raise WebhookPayloadError(f"stored body no longer contains event {row.event_id}")


def match_verification(alias: str, event: ProviderEvent) -> Verification | None:
    """Which verification a provider event is about: the provider's reference first (the newest one holding
    it), then our own id when the provider echoes it back. Shared by webhook processing and reconciliation."""
    queryset = Verification.objects.filter(backend=alias)
    if event.provider_ref:
        found = queryset.filter(provider_verification_id=event.provider_ref).order_by("-created_at").first()
        if found:
            return found
    our_id = _as_uuid(event.our_ref) if event.our_ref else None
    return queryset.filter(pk=our_id).first() if our_id else None


def _find_verification(alias: str, event: ProviderEvent) -> Verification:
    found = match_verification(alias, event)
    if found is None:
        raise VerificationNotFound(f"no verification for provider reference {event.provider_ref or event.our_ref!r}")
    return found


def _as_uuid(value: str) -> str | None:
    import uuid

    try:
        return str(uuid.UUID(value))
    except ValueError:
        return None


def process(event_pk: Any) -> None:
    """Task body: apply one stored event. Idempotent; a concurrent or repeated run is a no-op."""
    row = WebhookEvent.objects.filter(pk=event_pk).first()
    if row is None or row.state not in PROCESSABLE:
        return
    if row.state == WebhookState.RETRY_WAIT and row.next_attempt_at and row.next_attempt_at > timezone.now():
        return
    backend = get_backend(row.backend)
    try:
        event = _event_from_row(backend, row)
        verification = _find_verification(row.backend, event)
        state = event.state or backend.fetch_verification(verification)
        with transaction.atomic():
            row = WebhookEvent.objects.select_for_update().get(pk=event_pk)
            if row.state not in PROCESSABLE:
                return
            change = Change.provider(row.backend, Source.WEBHOOK, webhook_event=row)
            outcome = transitions.apply_provider_state(verification.pk, state, change)
            row.state = (
                WebhookState.PROCESSED if outcome in (Outcome.APPLIED, Outcome.UNCHANGED) else WebhookState.IGNORED
            )
            row.note = outcome.value
            row.verification = verification
            row.attempts += 1
            row.processed_at = timezone.now()
            row.next_attempt_at = None
            row.last_error = ""
            row.save()
    except (PermanentProviderError, WebhookPayloadError) as exc:
        _record_failure(event_pk, exc, final=True)
    except Exception as exc:
        logger.exception("processing webhook event %s failed", event_pk)
        _record_failure(event_pk, exc, final=False)


def _record_failure(event_pk: Any, error: Exception, *, final: bool) -> None:
    with transaction.atomic():
        row = WebhookEvent.objects.select_for_update().get(pk=event_pk)
        if row.state not in PROCESSABLE:
            return
        row.attempts += 1
        row.last_error = f"{type(error).__name__}: {error}"[:2000]
        if final or row.attempts >= int(kyc_settings.WEBHOOK_MAX_ATTEMPTS):
            row.state = WebhookState.FAILED
            row.next_attempt_at = None
            transaction.on_commit(lambda: signals.webhook_failed.send(sender=WebhookEvent, event=row))
        else:
            row.state = WebhookState.RETRY_WAIT
            row.next_attempt_at = next_attempt_at(row.attempts)
        row.save()


def reprocess(event_pks: list[Any], *, enqueue: bool = True) -> int:
    """Requeue failed or waiting events now (admin action and management command). Returns the count.

    ``enqueue=False`` only resets them, for a caller that processes them itself: queueing as well would have a
    worker race that caller for each event (and call the provider twice where the state must be fetched).
    """
    count = 0
    with transaction.atomic():
        for row in WebhookEvent.objects.select_for_update().filter(pk__in=event_pks):
            if row.state == WebhookState.PROCESSED:
                continue
            # a person asked for it: a fresh attempt budget, due now
            row.state = WebhookState.RETRY_WAIT
            row.next_attempt_at = None
            row.attempts = 0
            row.save(update_fields=["state", "next_attempt_at", "attempts"])
            if enqueue:
                enqueue_on_commit("process_webhook_event", str(row.pk))
            count += 1
    return count
