"""1,000 sandbox webhook deliveries, 30 % of them duplicates, from 16 concurrent senders on PostgreSQL.

Receiving only stores (django-q2 ``Conf.SYNC`` off, so nothing is processed inline); then every stored event
is processed by racing workers, each event twice. Every distinct event must be stored exactly once, every
verification must reach the state its last event reports, and each status change must be audited once.
"""

from __future__ import annotations

import random
import threading
import time
from collections import Counter
from datetime import timedelta
from typing import Any

import pytest
from django.db import connection
from django.test import Client
from django.utils import timezone

from django_kyc.models import Applicant, AuditEvent, Verification, WebhookEvent, WebhookState
from django_kyc.services import webhooks
from django_kyc.status import VerificationStatus
from tests.support.factories import make_verification
from tests.support.sandbox import sandbox_event, sandbox_signature

pytestmark = [pytest.mark.resilience, pytest.mark.postgres, pytest.mark.django_db(transaction=True)]

V = VerificationStatus
URL = "/kyc/webhooks/sandbox/"
SENDERS = 16
WORKERS = 8
VERIFICATIONS = 350  # two events each: 700 distinct events
DELIVERIES = 1000  # 700 distinct + 300 redeliveries


def in_threads(count: int, work: list[Any], target: Any) -> list[Any]:
    """Split ``work`` round-robin over ``count`` threads started together; each closes its DB connection."""
    barrier = threading.Barrier(count)
    results: list[list[Any]] = [[] for _ in range(count)]
    errors: list[BaseException] = []

    def run(index: int) -> None:
        try:
            barrier.wait(timeout=10)
            for item in work[index::count]:
                results[index].append(target(item))
        except BaseException as exc:
            errors.append(exc)
        finally:
            connection.close()

    threads = [threading.Thread(target=run, args=(i,)) for i in range(count)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=120)
    assert not any(thread.is_alive() for thread in threads), "a worker thread hung"
    assert not errors, errors[:3]
    return [result for chunk in results for result in chunk]


def test_thousand_deliveries_with_duplicates_are_stored_and_applied_once(postgresql: None, monkeypatch: Any) -> None:
    from django_q.conf import Conf

    monkeypatch.setattr(Conf, "SYNC", False)  # store only: processing is raced below
    rng = random.Random(20261122)
    started = time.monotonic()

    applicants = Applicant.objects.bulk_create(
        Applicant(first_name="Jane", last_name=f"Load{i}", nationality="GB") for i in range(VERIFICATIONS)
    )
    base = timezone.now()
    expected: dict[str, str] = {}
    events: list[tuple[str, bytes]] = []  # (event_id, body)
    for i, applicant in enumerate(applicants):
        verification = make_verification(
            applicant, V.PROCESSING, provider_verification_id=f"sbx_ver_load_{i}", provider_status="processing"
        )
        final = "approved" if i % 2 else "declined"
        expected[str(verification.pk)] = final
        for offset, status in ((1, "needs_review"), (2, final)):
            event_id = f"evt_load_{i}_{status}"
            body = sandbox_event(verification, status, base + timedelta(seconds=offset), event_id=event_id)
            events.append((event_id, body))

    assert len(events) == 700
    redeliveries = rng.sample(events, DELIVERIES - len(events))
    deliveries = events + redeliveries
    rng.shuffle(deliveries)

    def send(delivery: tuple[str, bytes]) -> tuple[int, dict[str, int]]:
        _, body = delivery
        response = Client().post(
            URL, data=body, content_type="application/json", headers={"X-Sandbox-Signature": sandbox_signature(body)}
        )
        return response.status_code, response.json()

    answers = in_threads(SENDERS, deliveries, send)

    assert [status for status, _ in answers] == [200] * DELIVERIES
    assert sum(receipt["stored"] for _, receipt in answers) == 700
    assert sum(receipt["duplicates"] for _, receipt in answers) == 300
    stored = Counter(WebhookEvent.objects.filter(backend="sandbox").values_list("event_id", flat=True))
    assert stored == Counter(event_id for event_id, _ in events)  # every distinct event, exactly once
    assert set(WebhookEvent.objects.values_list("state", flat=True)) == {WebhookState.RECEIVED}

    # every stored event processed twice, by racing workers, in a shuffled order
    pks = list(WebhookEvent.objects.values_list("pk", flat=True)) * 2
    rng.shuffle(pks)
    in_threads(WORKERS, pks, webhooks.process)

    states = Counter(WebhookEvent.objects.values_list("state", flat=True))
    assert set(states) <= {WebhookState.PROCESSED, WebhookState.IGNORED}, states  # nothing lost or failed
    assert not WebhookEvent.objects.filter(attempts__gt=1).exists()  # each applied by one worker only
    assert {str(pk) for pk in Verification.objects.values_list("pk", flat=True)} == set(expected)
    for pk, status, provider_status in Verification.objects.values_list("pk", "status", "provider_status"):
        final = expected[str(pk)]
        assert (status, provider_status) == (V.APPROVED if final == "approved" else V.DECLINED, final), pk

    changes = AuditEvent.objects.filter(object_type="verification", action="status_change")
    # one audit row per applied event, and one per move: no move is recorded twice
    applied = set(WebhookEvent.objects.filter(note="applied").values_list("pk", flat=True))
    per_event = Counter(changes.values_list("webhook_event_id", flat=True))
    assert set(per_event) == applied
    assert set(per_event.values()) == {1}
    per_move = Counter(changes.values_list("object_id", "to_status"))
    assert set(per_move.values()) == {1}
    finals = Counter(to for _, to in per_move if to in (V.APPROVED, V.DECLINED))
    assert sum(finals.values()) == VERIFICATIONS  # every verification's decision was applied, once
    # an event that was not applied lost a race it should lose: the older "needs_review" after the decision
    not_applied = WebhookEvent.objects.exclude(pk__in=applied)
    assert all(event_id.endswith("_needs_review") for event_id in not_applied.values_list("event_id", flat=True))
    assert set(not_applied.values_list("note", flat=True)) <= {"stale"}

    assert time.monotonic() - started < 90
