"""The inbox is the queue: receipt is one INSERT plus a coalesced wake-up; the drain claims, orders, keeps going.

Receipt and wake-up are checked against the real brokers (the ORM broker on the test database, Redis); the
drain against the test database (SQLite or PostgreSQL); racing drains need PostgreSQL's row locks.
"""

from __future__ import annotations

import logging
import threading
import time
import uuid
from collections import Counter
from collections.abc import Iterator
from datetime import timedelta
from typing import Any

import pytest
from django.db import connection
from django.test import Client, override_settings
from django.test.utils import CaptureQueriesContext
from django.utils import timezone
from django_q.conf import Conf
from django_q.models import OrmQ
from django_q.signing import SignedPackage

from django_kyc import signals, wakeup
from django_kyc.models import Applicant, AuditEvent, Verification, WebhookEvent, WebhookState
from django_kyc.queue import shared_broker
from django_kyc.services import drain, sweeper
from django_kyc.status import VerificationStatus
from tests.support.factories import make_verification
from tests.support.kyc_settings import kyc_settings_with
from tests.support.qcluster import REDIS_URL
from tests.support.sandbox import sandbox_event, sandbox_signature
from tests.support.services import redis_available, require_service

pytestmark = [pytest.mark.django_db(transaction=True)]

V = VerificationStatus
URL = "/kyc/webhooks/sandbox/"


def post(body: bytes, client: Client | None = None) -> Any:
    headers = {"X-Sandbox-Signature": sandbox_signature(body)}
    return (client or Client()).post(URL, data=body, content_type="application/json", headers=headers)


def verifications(count: int) -> list[Verification]:
    applicants = Applicant.objects.bulk_create(
        Applicant(first_name="Jane", last_name=f"Drain{i}", nationality="GB") for i in range(count)
    )
    return [
        make_verification(a, V.PROCESSING, provider_verification_id=f"sbx_ver_drain_{i}", provider_status="processing")
        for i, a in enumerate(applicants)
    ]


def store(verification: Verification, status: str, offset: int = 0) -> WebhookEvent:
    """An event as receipt leaves it (received, unclaimed), without waking anything."""
    event_id = f"evt_{uuid.uuid4().hex}"
    body = sandbox_event(verification, status, timezone.now() + timedelta(seconds=offset), event_id=event_id)
    return WebhookEvent.objects.create(
        backend="sandbox",
        event_id=event_id,
        provider_ref=verification.provider_verification_id,
        body=body,
        headers={},
    )


@pytest.fixture
def orm_broker(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    monkeypatch.setattr(Conf, "SYNC", False)
    monkeypatch.setattr(Conf, "ORM", "default")
    monkeypatch.setattr(Conf, "CLUSTER_NAME", f"kyc-test-drain-{uuid.uuid4().hex[:6]}")
    wakeup.forget()
    yield
    wakeup.forget()


@pytest.fixture
def redis_broker(monkeypatch: pytest.MonkeyPatch) -> Iterator[Any]:
    """Redis at ``REDIS_URL``: skipped when missing locally, a failure when ``CI=true``."""
    require_service("Redis", redis_available(), "set REDIS_URL or start redis-server on 127.0.0.1:6379")
    import redis

    monkeypatch.setattr(Conf, "SYNC", False)
    monkeypatch.setattr(Conf, "ORM", None)
    monkeypatch.setattr(Conf, "REDIS", REDIS_URL)
    monkeypatch.setattr(Conf, "CLUSTER_NAME", f"kyc-test-drain-{uuid.uuid4().hex[:6]}")
    client = redis.Redis.from_url(REDIS_URL)
    yield client
    client.delete(shared_broker().list_key, wakeup.marker_key())


# --- receipt: one statement, then a coalesced wake-up -------------------------------------------------------


@override_settings(DJANGO_KYC=kyc_settings_with(WEBHOOK_DRAIN_LINGER_SECONDS=60))
def test_a_delivery_is_one_insert_and_a_redelivery_inserts_nothing(orm_broker: None) -> None:
    (verification,) = verifications(1)
    body = sandbox_event(verification, "approved", timezone.now())
    post(sandbox_event(verification, "needs_review", timezone.now()))  # the window's first delivery wakes the drain
    with CaptureQueriesContext(connection) as first:
        assert post(body).json() == {"stored": 1, "duplicates": 0}
    with CaptureQueriesContext(connection) as again:
        assert post(body).json() == {"stored": 0, "duplicates": 1}
    for queries in (first, again):
        statements = [query["sql"] for query in queries]
        assert len(statements) == 1, statements  # no read first, no savepoint, no queue row
        assert statements[0].startswith("INSERT")
        assert "ON CONFLICT DO NOTHING" in statements[0] or "OR IGNORE" in statements[0]


@override_settings(DJANGO_KYC=kyc_settings_with(WEBHOOK_DRAIN_LINGER_SECONDS=60))  # however slow the machine
def test_a_burst_on_the_orm_broker_enqueues_one_drain(orm_broker: None) -> None:
    (verification,) = verifications(1)
    for status in ["needs_review", "approved", "declined"] * 7:
        assert post(sandbox_event(verification, status, timezone.now())).status_code == 200
    assert WebhookEvent.objects.count() == 21
    assert OrmQ.objects.count() == 1


@pytest.mark.redis
def test_a_burst_on_redis_enqueues_one_lingering_drain(redis_broker: Any) -> None:
    (verification,) = verifications(1)
    for status in ["needs_review", "approved"] * 10:
        assert post(sandbox_event(verification, status, timezone.now())).status_code == 200
    queue = shared_broker().list_key
    assert redis_broker.llen(queue) == 1
    assert redis_broker.pttl(wakeup.marker_key()) > 0  # the marker expires: a lost drain silences nothing for long
    task = SignedPackage.loads(redis_broker.lindex(queue, 0).decode())
    assert task["args"] == (str(wakeup.window()),)  # it lingers, covering the deliveries its window silenced


def redis_calls(redis_broker: Any, monkeypatch: pytest.MonkeyPatch) -> list[str]:
    """Every command the wake-up sends to the broker's Redis."""
    calls: list[str] = []
    client = shared_broker().connection
    for command in ("set", "delete"):
        real = getattr(client, command)
        monkeypatch.setattr(
            client, command, lambda *a, _real=real, _name=command, **k: calls.append(_name) or _real(*a, **k)
        )
    return calls


@pytest.mark.redis
@override_settings(DJANGO_KYC=kyc_settings_with(WEBHOOK_DRAIN_LINGER_SECONDS=60))  # however slow the machine
def test_inside_its_window_a_process_spends_no_round_trip_on_waking(
    redis_broker: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The marker's SET NX was most of what a Redis receipt cost over an ORM one: once per window now, even
    after the drain started and cleared the marker (it lingers through the window)."""
    calls = redis_calls(redis_broker, monkeypatch)
    wakeup.wake()
    wakeup.started()  # the drain starts and clears the marker
    for _ in range(20):
        wakeup.wake()
    assert calls == ["set", "delete"]
    assert redis_broker.llen(shared_broker().list_key) == 1


@pytest.mark.redis
def test_after_its_window_a_delivery_wakes_another_drain(redis_broker: Any, monkeypatch: pytest.MonkeyPatch) -> None:
    with override_settings(DJANGO_KYC=kyc_settings_with(WEBHOOK_DRAIN_LINGER_SECONDS=0.05)):
        wakeup.wake()
        wakeup.started()  # the first drain started (and will stop once its window is over)
        time.sleep(0.06)
        wakeup.wake()
    assert redis_broker.llen(shared_broker().list_key) == 2


@pytest.mark.redis
@override_settings(DJANGO_KYC=kyc_settings_with(WEBHOOK_DRAIN_LINGER_SECONDS=60))
def test_a_process_that_finds_the_marker_set_leaves_the_queued_drain_to_cover_it(redis_broker: Any) -> None:
    """Another process's drain is queued and not started (the marker is there): it starts after now and
    lingers a window, so this process enqueues nothing and stays quiet for its own window."""
    wakeup.wake()
    wakeup.forget()  # now "another process", with no window of its own
    wakeup.wake()
    assert redis_broker.llen(shared_broker().list_key) == 1


@override_settings(DJANGO_KYC=kyc_settings_with(WEBHOOK_DRAIN_LINGER_SECONDS=60))
def test_the_orm_broker_wakes_the_drain_without_the_redis_package(
    orm_broker: None, monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    """redis is an extra: a site on the ORM broker may not have it installed (make demo does not)."""
    import sys

    monkeypatch.setitem(sys.modules, "redis", None)  # "import redis" raises ImportError
    monkeypatch.delitem(sys.modules, "django_q.brokers.redis_broker", raising=False)
    with caplog.at_level(logging.ERROR, logger="django_kyc.wakeup"):
        wakeup.wake()
        wakeup.started()
    assert not caplog.records
    assert OrmQ.objects.count() == 1


def counted_broker_lookups(monkeypatch: pytest.MonkeyPatch) -> list[object]:
    lookups: list[object] = []
    real = wakeup.shared_broker
    monkeypatch.setattr(wakeup, "shared_broker", lambda: lookups.append(1) or real())
    return lookups


@override_settings(DJANGO_KYC=kyc_settings_with(WEBHOOK_DRAIN_LINGER_SECONDS=60))
def test_a_wake_up_on_the_orm_broker_looks_the_broker_up_once(
    orm_broker: None, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Finding the broker costs about as much as the rest of a wake-up; every delivery makes one."""
    lookups = counted_broker_lookups(monkeypatch)
    wakeup.wake()  # enqueues the window's drain
    wakeup.wake()  # silenced by the window
    assert len(lookups) == 2
    assert OrmQ.objects.count() == 1


@pytest.mark.redis
def test_a_wake_up_on_redis_looks_the_broker_up_once(redis_broker: Any, monkeypatch: pytest.MonkeyPatch) -> None:
    lookups = counted_broker_lookups(monkeypatch)
    wakeup.wake()  # sets the marker, enqueues a drain
    wakeup.wake()  # the marker is set: nothing more
    assert len(lookups) == 2
    assert redis_broker.llen(shared_broker().list_key) == 1


def test_nothing_is_logged_per_delivery_at_info(orm_broker: None) -> None:
    """django-q2 logs every enqueue at INFO; a web process must not log a line per delivery."""
    (verification,) = verifications(1)

    class Collect(logging.Handler):
        records: list[logging.LogRecord] = []

        def emit(self, record: logging.LogRecord) -> None:
            self.records.append(record)

    handler = Collect(level=logging.INFO)
    loggers = [logging.getLogger(name) for name in ("", "django-q", "django_kyc")]
    levels = [logger.level for logger in loggers]
    for logger in loggers:
        logger.addHandler(handler)
        logger.setLevel(logging.INFO)
    try:
        for status in ("needs_review", "approved"):
            wakeup.forget()  # each delivery enqueues: the case where django-q2 would log
            assert post(sandbox_event(verification, status, timezone.now())).status_code == 200
    finally:
        for logger, level in zip(loggers, levels, strict=True):
            logger.removeHandler(handler)
            logger.setLevel(level)
    assert OrmQ.objects.count() == 2
    assert [record.getMessage() for record in handler.records] == []


# --- the drain ------------------------------------------------------------------------------------------------


def applied_per_event() -> Counter[Any]:
    return Counter(
        AuditEvent.objects.filter(object_type="verification", action="status_change").values_list(
            "webhook_event_id", flat=True
        )
    )


@override_settings(DJANGO_KYC=kyc_settings_with(WEBHOOK_DRAIN_BATCH_SIZE=4))
def test_the_drain_claims_in_batches_and_applies_each_event_once() -> None:
    events = [store(verification, "approved") for verification in verifications(10)]
    report = drain.drain()
    assert (report.applied, report.batches, report.deferred) == (10, 3, 0)
    assert set(WebhookEvent.objects.values_list("state", "note", "attempts", "next_attempt_at")) == {
        (WebhookState.PROCESSED, "applied", 1, None)
    }
    assert applied_per_event() == {event.pk: 1 for event in events}
    assert drain.drain().applied == 0  # nothing left, nothing applied twice


def test_a_claim_leases_its_batch_so_another_drain_takes_the_next() -> None:
    events = [store(verification, "approved") for verification in verifications(3)]
    first = drain.claim(limit=2)
    assert [row.pk for row in first.rows] == [event.pk for event in events[:2]]  # oldest first
    assert first.lease_until is not None
    assert first.lease_until > timezone.now()
    second = drain.claim(limit=2)
    assert [row.pk for row in second.rows] == [events[2].pk]
    assert drain.claim().rows == []


def test_events_of_one_verification_are_applied_in_the_order_received() -> None:
    verification, other = verifications(2)
    review = store(verification, "needs_review", offset=1)
    approved = store(verification, "approved", offset=2)
    unrelated = store(other, "approved")

    held = drain.claim(limit=1)  # another drain holds the earlier event of this verification
    assert [row.pk for row in held.rows] == [review.pk]
    behind = drain.claim()
    assert [row.pk for row in behind.rows] == [unrelated.pk]  # the later one waits, the unrelated one does not
    assert behind.deferred == 1

    drain._apply_batch(held)
    drain._apply_batch(behind)
    assert drain.drain().applied == 1  # the holder's next claim takes the later event
    assert list(WebhookEvent.objects.filter(pk__in=[review.pk, approved.pk]).values_list("note", flat=True)) == [
        "applied",
        "applied",
    ]
    verification.refresh_from_db()
    assert verification.status == V.APPROVED
    moves = AuditEvent.objects.filter(object_id=str(verification.pk), action="status_change").order_by("created_at")
    assert [move.to_status for move in moves] == [V.REVIEW, V.APPROVED]


def test_the_drain_keeps_going_while_it_finds_work() -> None:
    """Events committed while a drain works are applied by the same run, without another wake-up."""
    first, *later = verifications(4)
    store(first, "approved")
    arrivals = iter(later)

    def another_arrives(**kwargs: Any) -> None:
        verification = next(arrivals, None)
        if verification is not None:
            store(verification, "approved")

    signals.verification_status_changed.connect(another_arrives, weak=False)
    try:
        report = drain.drain()
    finally:
        signals.verification_status_changed.disconnect(another_arrives)
    assert report.applied == 4
    assert not WebhookEvent.objects.exclude(state=WebhookState.PROCESSED).exists()


def test_a_lingering_drain_picks_up_what_arrives_after_it_found_the_inbox_empty() -> None:
    (verification,) = verifications(1)
    timer = threading.Timer(0.1, lambda: (store(verification, "approved"), connection.close()))
    timer.start()
    report = drain.drain(linger=0.6)
    timer.join()
    assert report.applied == 1


def test_a_drain_that_runs_out_of_budget_hands_the_rest_to_a_fresh_drain(orm_broker: None) -> None:
    for verification in verifications(3):
        store(verification, "approved")
    with override_settings(DJANGO_KYC=kyc_settings_with(WEBHOOK_DRAIN_BATCH_SIZE=1)):
        report = drain.drain(budget=0)
    assert report.applied == 1
    assert OrmQ.objects.count() == 1  # the continuation
    assert WebhookEvent.objects.filter(state=WebhookState.RECEIVED).count() == 2


# --- nothing is lost: the sweeper is the safety net -----------------------------------------------------------


def test_a_crash_between_the_commit_and_the_wake_up_loses_nothing(
    monkeypatch: pytest.MonkeyPatch, time_machine: Any
) -> None:
    """The delivery is committed and answered, the process dies before it wakes a drain: the sweeper does."""
    (verification,) = verifications(1)
    time_machine.move_to(timezone.now(), tick=False)

    def dies() -> None:
        raise SystemExit("killed between the commit and the wake-up")

    monkeypatch.setattr(wakeup, "wake", dies)
    with pytest.raises(SystemExit):
        post(sandbox_event(verification, "approved", timezone.now()))
    monkeypatch.undo()
    event = WebhookEvent.objects.get()  # committed before the process died
    assert event.state == WebhookState.RECEIVED

    assert sweeper.sweep().webhook_events == 0  # still within the grace its wake-up had
    time_machine.move_to(timezone.now() + sweeper.grace(), tick=False)
    assert sweeper.sweep().webhook_events == 1
    event.refresh_from_db()
    assert (event.state, event.note) == (WebhookState.PROCESSED, "applied")
    verification.refresh_from_db()
    assert verification.status == V.APPROVED


def test_a_batch_whose_drain_died_is_drained_again_once_its_lease_runs_out(time_machine: Any) -> None:
    time_machine.move_to(timezone.now(), tick=False)
    events = [store(verification, "approved") for verification in verifications(2)]
    batch = drain.claim()  # and the worker is killed before it applies anything
    assert len(batch.rows) == 2
    time_machine.move_to(timezone.now() + sweeper.grace(), tick=False)
    assert sweeper.sweep().webhook_events == 0  # under lease: not lost, in flight
    assert drain.drain().applied == 0  # nor another drain's

    assert batch.lease_until is not None
    time_machine.move_to(batch.lease_until + timedelta(seconds=1), tick=False)
    assert sweeper.sweep().webhook_events == 2
    assert applied_per_event() == {event.pk: 1 for event in events}


# --- racing drains (PostgreSQL: real row locks) -------------------------------------------------------------


@pytest.mark.postgres
def test_racing_drains_apply_every_event_once_in_order(postgresql: None) -> None:
    """Six drains at once over 60 verifications with two events each: disjoint claims, receipt order kept."""
    for verification in verifications(60):  # a verification's two events side by side: batches split pairs
        for offset, status in enumerate(("needs_review", "approved")):
            store(verification, status, offset=offset)
    reports: list[drain.DrainReport] = []
    barrier = threading.Barrier(6)

    def run() -> None:
        try:
            barrier.wait(timeout=10)
            with override_settings(DJANGO_KYC=kyc_settings_with(WEBHOOK_DRAIN_BATCH_SIZE=7)):
                reports.append(drain.drain())
        finally:
            connection.close()

    threads = [threading.Thread(target=run) for _ in range(6)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=120)
    assert sum(report.applied for report in reports) == 120
    assert set(WebhookEvent.objects.values_list("state", "note", "attempts")) == {
        (WebhookState.PROCESSED, "applied", 1)
    }
    assert set(Verification.objects.values_list("status", flat=True)) == {V.APPROVED}
    assert set(applied_per_event().values()) == {1}


@pytest.fixture
def postgresql() -> None:
    # Not a missing service: this pass runs on another database. .ci/run always runs the PostgreSQL pass
    # too, and there a missing server fails the run when the test database cannot be created.
    if connection.vendor != "postgresql":
        pytest.skip("PostgreSQL pass only (make test-postgres)")
