"""Scale-out: two ``qcluster`` processes (Redis broker, PostgreSQL) drain one inbox while deliveries arrive.

Every event must be applied exactly once and, for each verification, in the order its events were received:
"needs review" then the decision, never the decision first (which would leave "needs review" ignored as
stale). Redeliveries are mixed in. Skipped on the SQLite pass; with ``CI=true`` a missing Redis fails.
"""

from __future__ import annotations

import json
import random
import time
from collections import Counter
from datetime import timedelta

import pytest
from django.db import connection
from django.test import Client
from django.utils import timezone

from django_kyc import wakeup
from django_kyc.models import Applicant, AuditEvent, Verification, WebhookEvent, WebhookState
from django_kyc.queue import enqueue
from django_kyc.status import VerificationStatus
from tests.support.factories import make_verification
from tests.support.qcluster import Cluster, forget_queue, new_queue_name, use_broker, wait_for
from tests.support.sandbox import sandbox_event, sandbox_signature
from tests.support.services import redis_available, require_service

pytestmark = [pytest.mark.cluster, pytest.mark.postgres, pytest.mark.redis, pytest.mark.django_db(transaction=True)]

V = VerificationStatus
URL = "/kyc/webhooks/sandbox/"
VERIFICATIONS = 80
REDELIVERIES = 40
WORKERS = 2
#: tasks a cluster's pusher may hold for its workers (django-q2's ``queue_limit``)
QUEUE_LIMIT = 2
#: long enough for the drains started up front to see every delivery arrive
DRAIN_LINGER_SECONDS = 5.0
DRAIN = f"django_kyc.tasks.{wakeup.TASK}"


def test_two_clusters_drain_one_inbox_exactly_once_in_order(monkeypatch: pytest.MonkeyPatch) -> None:
    if connection.vendor != "postgresql":
        # not a missing service: .ci/run also runs the PostgreSQL pass, where this test runs
        pytest.skip("PostgreSQL pass only (make test-postgres)")
    require_service("Redis", redis_available(), "set REDIS_URL or start redis-server on 127.0.0.1:6379")
    rng = random.Random(20261203)
    applicants = Applicant.objects.bulk_create(
        Applicant(first_name="Jane", last_name=f"Scale{i}", nationality="GB") for i in range(VERIFICATIONS)
    )
    rows = [
        make_verification(a, V.PROCESSING, provider_verification_id=f"sbx_ver_scale_{i}", provider_status="processing")
        for i, a in enumerate(applicants)
    ]
    base = timezone.now()
    deliveries: list[bytes] = []
    for i, verification in enumerate(rows):
        final = "approved" if i % 2 else "declined"
        for offset, status in ((1, "needs_review"), (2, final)):
            deliveries.append(sandbox_event(verification, status, base + timedelta(seconds=offset)))
    # each redelivery comes after the first copy, so receipt order per verification stays what the provider sent
    for body in rng.sample(deliveries, REDELIVERIES):
        deliveries.insert(deliveries.index(body) + 1 + rng.randrange(3), body)

    queue = new_queue_name()
    env = {"KYC_TEST_Q_CLUSTER": json.dumps({"workers": WORKERS, "queue_limit": QUEUE_LIMIT})}
    clusters = [Cluster("redis", queue, env), Cluster("redis", queue, env)]
    logs: list[str] = []
    try:
        use_broker(monkeypatch, "redis", queue)
        # both clusters up (sentinel, pusher, monitor, workers) before the first delivery
        assert wait_for(lambda: all(len(c.members()) >= WORKERS + 3 for c in clusters), timeout=30)
        # Drains in both clusters while the deliveries arrive, as several machines would run them. The
        # deliveries' own wake-ups start a few drains (one per window), but which cluster's pusher takes each
        # is a race either may win every time. More lingering drains than one cluster can hold (its workers,
        # its queue, one in its pusher's hand) leave some to the other.
        for _ in range(2 * (WORKERS + QUEUE_LIMIT + 1)):
            enqueue(wakeup.TASK, str(DRAIN_LINGER_SECONDS))
        assert wait_for(lambda: all(DRAIN in c.log_path.read_text(errors="replace") for c in clusters), timeout=30)
        client = Client()
        answers = Counter()
        for body in deliveries:
            response = client.post(
                URL,
                data=body,
                content_type="application/json",
                headers={"X-Sandbox-Signature": sandbox_signature(body)},
            )
            answers[response.status_code] += 1
            time.sleep(rng.uniform(0, 0.01))  # arrivals spread over a few seconds, while the drains work
        assert answers == {200: len(deliveries)}
        events = WebhookEvent.objects.filter(backend="sandbox")

        def drained() -> bool:
            connection.close()  # see what the clusters committed
            return not events.exclude(state__in=[WebhookState.PROCESSED, WebhookState.IGNORED]).exists()

        assert wait_for(drained, timeout=60), [c.log_tail() for c in clusters]
        logs = [c.log_path.read_text(errors="replace") for c in clusters]
    finally:
        for cluster in clusters:
            cluster.stop()
        forget_queue("redis", queue)

    assert events.count() == 2 * VERIFICATIONS  # each distinct event stored once
    # applied exactly once each, none ignored as stale: every "needs review" came before its decision
    assert set(events.values_list("state", "note", "attempts")) == {(WebhookState.PROCESSED, "applied", 1)}
    changes = AuditEvent.objects.filter(object_type="verification", action="status_change")
    assert set(Counter(changes.values_list("webhook_event_id", flat=True)).values()) == {1}
    for verification in Verification.objects.all():
        moves = list(changes.filter(object_id=str(verification.pk)).order_by("created_at", "id"))
        final = V.APPROVED if verification.provider_verification_id.endswith(("1", "3", "5", "7", "9")) else V.DECLINED
        assert [move.to_status for move in moves] == [V.REVIEW, final], verification.pk
        assert verification.status == final
    # and both clusters took part in the draining
    assert all(DRAIN in log for log in logs), [log[-2000:] for log in logs]
