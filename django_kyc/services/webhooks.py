"""Receiving and processing provider webhooks.

Receiving is synchronous and cheap: authenticate the raw bytes, parse, store one
:class:`~django_kyc.models.WebhookEvent` per provider event (one INSERT; the unique constraint turns a
redelivery into an insert of nothing) and, after the commit, wake the drain (:mod:`django_kyc.wakeup`):
the inbox is the queue. The drain (:mod:`django_kyc.services.drain`) claims received events in batches and
applies each through :func:`apply`; a failure is retried with backoff (the sweeper enqueues :func:`process`
for it when due) and ends in a visible ``failed`` state.

Every refusal, whether the view's own (method, size, unknown endpoint) or a backend's (signature, payload), goes
through :func:`record_rejection`: one counter increment and the ``webhook_rejected`` signal, nothing more.
"""

from __future__ import annotations

import functools
import logging
from dataclasses import dataclass
from typing import Any

from django.db import DatabaseError, DataError, IntegrityError, router, transaction
from django.db.models import F
from django.utils import timezone

from django_kyc import signals, wakeup
from django_kyc.backends import get_backend
from django_kyc.backends.base import InboundWebhook, KycBackend, ProviderEvent, unstorable
from django_kyc.backends.registry import is_configured
from django_kyc.conf import kyc_settings
from django_kyc.db import insert_unless_conflict, savepoint_if_nested
from django_kyc.exceptions import KycError, PermanentProviderError, WebhookError, WebhookPayloadError
from django_kyc.models import RejectionReason, Verification, WebhookEvent, WebhookRejection, WebhookState
from django_kyc.queue import enqueue_on_commit
from django_kyc.services import events, transitions
from django_kyc.services.audit import Change
from django_kyc.services.retry import next_attempt_at
from django_kyc.services.transitions import Outcome
from django_kyc.status import Source

logger = logging.getLogger("django_kyc.webhooks")

PROCESSABLE = (WebhookState.RECEIVED, WebhookState.RETRY_WAIT)
#: what processing changes on a stored event (never the delivery itself)
PROCESSING_FIELDS = ["state", "note", "attempts", "next_attempt_at", "last_error"]


class VerificationNotFound(KycError):
    """No verification matches the event yet; possibly its submission has not committed. Retried."""


@dataclass(frozen=True)
class Receipt:
    stored: int
    duplicates: int


def receive(alias: str, webhook: InboundWebhook) -> Receipt:
    """Authenticate, parse and store a delivery. Raises a :class:`WebhookError` subclass when rejected.

    The body is stored as the very bytes that were authenticated: processing parses them again, and a body
    that is not UTF-8 (JSON may be UTF-16 or UTF-32) must parse then exactly as it did here.
    """
    backend = get_backend(alias)
    allowed = _kept_header_names(
        tuple(kyc_settings.WEBHOOK_HEADER_ALLOWLIST), tuple(backend.parse_headers), tuple(backend.review_headers)
    )
    headers = {lowered: value for key, value in webhook.headers.items() if (lowered := key.lower()) in allowed}
    try:
        try:
            backend.authenticate_webhook(webhook)
            events = _parse(backend, webhook)
            _require_storable(headers, "a kept header")
        except RecursionError as exc:
            # ``json.loads`` on a body nested thousands deep (well under the size limit); some backends parse
            # before they can authenticate, so anyone could otherwise turn this into a 500
            raise WebhookPayloadError("delivery is nested too deeply to parse") from exc
        stored = duplicates = 0
        try:
            for event in events:
                if _store(alias, event, headers, webhook.body):
                    stored += 1
                else:
                    duplicates += 1
            if stored:
                # after the commit (now, in autocommit): a drain must never look before the rows are there
                transaction.on_commit(wakeup.wake)
        except DataError as exc:
            # A value this database refuses that the check above did not foresee. It would be refused on
            # every redelivery: a 500 would only make the provider send it again and again.
            raise WebhookPayloadError(f"delivery cannot be stored: {type(exc).__name__}") from exc
    except WebhookError as exc:
        record_rejection(alias, exc.code, str(exc))
        raise
    return Receipt(stored=stored, duplicates=duplicates)


@functools.lru_cache(maxsize=64)
def _kept_header_names(allowlist: tuple[str, ...], parse: tuple[str, ...], review: tuple[str, ...]) -> frozenset[str]:
    """The headers an inbox row keeps: the site's allow-list, what the backend needs to parse the stored
    delivery again later, and what it shows reviewers. Built once per configuration, not per delivery."""
    return frozenset(name.lower() for name in (*allowlist, *parse, *review))


def _parse(backend: KycBackend, webhook: InboundWebhook) -> list[ProviderEvent]:
    """The backend's events for a delivery, refused unless everything in them can be stored.

    Receiving and processing both parse through here, so an event stored before the rule existed fails at
    once when processed instead of being retried against a database that will never take it.
    """
    events = backend.parse_webhook(webhook)
    for event in events:
        _require_storable(event, "event")
    return events


def _require_storable(value: Any, name: str) -> None:
    """Refuse (:class:`WebhookPayloadError`, so a 400 at receipt and ``failed`` in processing) what a database
    cannot store; see :func:`~django_kyc.backends.base.unstorable`."""
    where = unstorable(value, name)
    if where is not None:
        raise WebhookPayloadError(
            f"{where} cannot be stored: it holds a NUL character, an unpaired surrogate or a time outside years 1-9999"
        )


def _store(alias: str, event: ProviderEvent, headers: dict[str, str], body: bytes) -> bool:
    """Insert the event; False when it is already stored. Its processing is the drain's (see :func:`receive`).

    A new event and a redelivery alike cost one ``INSERT ... ON CONFLICT DO NOTHING``: the unique constraint
    on (backend, event_id) turns a redelivery into an insert of nothing, with no read before it, no savepoint
    and no error to recover from.

    An event resting on an unauthenticated claim (:attr:`ProviderEvent.claim`) is a duplicate only of a row
    that holds its event id, i.e. whose claim a fetch has confirmed; otherwise it is stored without holding the
    id (a forgery stored first cannot make the genuine delivery look like a repeat) and :func:`apply`
    lets it take the id once its own fetch confirms the claim.
    """
    row = inbox_row(alias, event, headers, body)
    if not row["holds_event_id"] and (
        WebhookEvent.objects.filter(backend=alias, event_id=row["event_id"], holds_event_id=True).exists()
    ):
        return False
    # a refused value (DataError) must not break a caller's transaction; in autocommit this is no statement
    with savepoint_if_nested():
        return insert_unless_conflict(WebhookEvent, row)


def inbox_row(alias: str, event: ProviderEvent, headers: dict[str, str], body: bytes) -> dict[str, Any]:
    """The :class:`~django_kyc.models.WebhookEvent` field values that store ``event``, cut to their columns.

    The event holds its id at once unless it rests on an unauthenticated claim still to be fetched (see
    :func:`_store`).
    """
    return {
        "backend": alias,
        "event_id": _stored_event_id(event),
        "event_type": event.event_type[:128],
        "provider_ref": (event.provider_ref or event.our_ref)[:128],
        "occurred_at": event.occurred_at,
        "headers": headers,
        "body": body,
        "holds_event_id": not (event.claim and event.state is None),
    }


def _stored_event_id(event: ProviderEvent) -> str:
    """The event id as the inbox keeps it: cut to its column, so a stored row and a re-parsed event compare."""
    return event.event_id[:255]


def record_rejection(alias: str, code: str, reason: str = "") -> None:
    """Count one refused delivery and send ``webhook_rejected``: the single place every refusal goes through.

    Refusals are what an attacker controls, so what is kept is bounded and content-free: the alias only when
    it is a configured backend (otherwise the shared :attr:`WebhookRejection.UNKNOWN` bucket), ``code`` only
    when it is a :class:`RejectionReason` (otherwise ``other``), and today's date. ``reason`` is short text
    for the log and the signal (an exception message or the view's answer), never stored.

    The count is best effort: a database failure is logged and swallowed, because the refusal itself (a 4xx)
    matters more than its tally and must not become a 500.
    """
    backend = alias[:64] if is_configured(alias) else WebhookRejection.UNKNOWN
    # a plain string either way: the signal's receivers and the log should not see an enum member sometimes
    code = str(code) if code in RejectionReason.values else RejectionReason.OTHER.value
    logger.warning("webhook for %s rejected (%s): %s", backend or "an unknown endpoint", code, reason)
    try:
        _count(backend, code)
    except DatabaseError:
        logger.warning("could not count a rejected webhook for %s (%s)", backend or "an unknown endpoint", code)
    signals.webhook_rejected.send(sender=WebhookEvent, backend=backend, reason=reason, code=code)


def _count(backend: str, code: str) -> None:
    """Add one to today's counter row (the day in ``TIME_ZONE``), creating it on the first refusal of the day.

    The usual case is one ``UPDATE ... SET count = count + 1``, atomic on its own: the row lock serialises
    concurrent increments and each adds to the committed value. The first refusal of a day inserts; when two
    insert at once the unique constraint fails one of them, which then increments the winner's row.
    ``bulk_create(update_conflicts=True)`` cannot express ``count + 1``, hence the two steps.

    Called in autocommit (the webhook view) each statement commits alone: no BEGIN/COMMIT round trips. Inside
    a caller's transaction it runs in a savepoint, so a failed increment cannot poison that transaction.
    """
    using = router.db_for_write(WebhookRejection)
    day = timezone.localdate(timezone=timezone.get_default_timezone())
    counters = WebhookRejection.objects.using(using).filter(backend=backend, reason=code, day=day)
    with savepoint_if_nested(using):
        for _attempt in range(3):  # a second pass is always enough unless the row is deleted under us
            if counters.update(count=F("count") + 1):
                return
            try:
                with transaction.atomic(using=using):  # a lost insert race must leave the connection usable
                    WebhookRejection.objects.using(using).create(backend=backend, reason=code, day=day, count=1)
                return
            except IntegrityError:
                continue  # another refusal created the row between our update and insert: increment that one
    logger.warning("could not count a rejected webhook for %s (%s): its counter row kept vanishing", backend, code)


def _event_from_row(backend: KycBackend, row: WebhookEvent) -> ProviderEvent:
    """Re-parse the stored body (the bytes that were authenticated); the stored row is the source of truth."""
    webhook = InboundWebhook(body=bytes(row.body), headers=row.headers)
    for event in _parse(backend, webhook):
        if _stored_event_id(event) == row.event_id:
            return event
    raise WebhookPayloadError(f"stored body no longer contains event {row.event_id}")


def match_verification(alias: str, event: ProviderEvent, *, lock: bool = False) -> Verification | None:
    """Which verification a provider event is about: the provider's reference first (the newest one holding
    it), then our own id when the provider echoes it back. Shared by webhook processing and reconciliation.

    ``lock``: take the row lock with the same statement (the caller's transaction holds it), instead of
    reading the row and then reading it again to lock it.
    """
    queryset = (Verification.objects.select_for_update() if lock else Verification.objects).filter(backend=alias)
    if event.provider_ref:
        found = queryset.filter(provider_verification_id=event.provider_ref).order_by("-created_at").first()
        if found:
            return found
    our_id = _as_uuid(event.our_ref) if event.our_ref else None
    return queryset.filter(pk=our_id).first() if our_id else None


def _find_verification(alias: str, event: ProviderEvent, *, lock: bool = False) -> Verification:
    found = match_verification(alias, event, lock=lock)
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
    """Task body: apply one stored event when it is due. Idempotent; a concurrent or repeated run is a no-op.

    The sweeper's door for events waiting to retry, and ``kyc_reprocess_webhooks``'s; received events are the
    drain's, which hands them to :func:`apply` directly.
    """
    row = WebhookEvent.objects.filter(pk=event_pk).first()
    if row is None or row.state not in PROCESSABLE:
        return
    if row.state == WebhookState.RETRY_WAIT and row.next_attempt_at and row.next_attempt_at > timezone.now():
        return
    apply(row)


def apply(row: WebhookEvent) -> None:
    """Apply a stored event read by the caller (its state may be stale: it is checked again under the row lock).

    The provider is asked (when the event carries no state) before the transaction, so no lock is held across
    a network call; the transaction then locks the row, checks it is still processable, and applies the event
    through the transition service. Two workers given the same event apply it once.

    An event that carries its state (most do) is matched to its verification inside the transaction, by the
    statement that locks it: one read of the verification, not a read before and a locking read after.
    """
    event_pk = row.pk
    backend = get_backend(row.backend)
    try:
        event = _event_from_row(backend, row)
        state, fetched_for = event.state, None
        if state is None:
            fetched_for = _find_verification(row.backend, event)
            state = backend.fetch_verification(fetched_for)
            _require_storable(state, "the fetched state")
        with transaction.atomic(), events.endpoints_read_once():
            # lock and re-read only what decides whether to go on (not the encrypted body again)
            locked = WebhookEvent.objects.select_for_update().filter(pk=event_pk)
            found = locked.values_list("state", "attempts", "holds_event_id").first()
            if found is None or found[0] not in PROCESSABLE:
                return
            row.state, row.attempts, row.holds_event_id = found
            change = Change.provider(row.backend, Source.WEBHOOK, webhook_event=row)
            # locked here, in this transaction: no savepoint of its own inside (an error undoes it all anyway)
            verification = (
                transitions.lock_verification(fetched_for.pk)
                if fetched_for is not None
                else _find_verification(row.backend, event, lock=True)
            )
            outcome = transitions.apply_provider_state(verification.pk, state, change, locked=verification)
            row.state = (
                WebhookState.PROCESSED if outcome in (Outcome.APPLIED, Outcome.UNCHANGED) else WebhookState.IGNORED
            )
            row.note = outcome.value
            if not row.holds_event_id and backend.claim_confirmed(event, state):
                taken = _take_event_id(row)
                if not taken and outcome != Outcome.APPLIED:
                    # the same claim, confirmed by an earlier copy that holds the id: this one was a repeat
                    row.state, row.note = WebhookState.IGNORED, "duplicate"
            row.verification = verification
            row.attempts += 1
            row.processed_at = timezone.now()
            row.next_attempt_at = None
            row.last_error = ""
            # not the body: saving it would encrypt and write the whole delivery again
            row.save(update_fields=[*PROCESSING_FIELDS, "verification", "processed_at"])
    except (PermanentProviderError, WebhookPayloadError, DataError) as exc:
        # DataError: the database refuses a value of this event (too long for its column, out of range...);
        # it will refuse it on every attempt, so the event fails now, visibly, rather than after hours of retries
        _record_failure(event_pk, exc, final=True)
    except Exception as exc:
        logger.exception("processing webhook event %s failed", event_pk)
        _record_failure(event_pk, exc, final=False)


def _take_event_id(row: WebhookEvent) -> bool:
    """Let a row whose claim its fetch confirmed hold its event id; False when another row already holds it."""
    try:
        with transaction.atomic():  # a savepoint: a lost race must leave the processing transaction usable
            WebhookEvent.objects.filter(pk=row.pk).update(holds_event_id=True)
    except IntegrityError:
        return False
    row.holds_event_id = True
    return True


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
            signals.send_after_commit(signals.webhook_failed, WebhookEvent, event=row)
        else:
            row.state = WebhookState.RETRY_WAIT
            row.next_attempt_at = next_attempt_at(row.attempts)
        row.save(update_fields=PROCESSING_FIELDS)


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
