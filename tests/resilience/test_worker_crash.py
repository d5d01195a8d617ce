"""``qcluster`` killed with SIGKILL in the middle of submissions and of webhook processing, then restarted:
nothing lost, nothing duplicated at the provider.

Why this can hold, and what each test proves against a real cluster and a real (fake) provider on loopback:

* A submission claims its attempt on our row (``attempts + 1`` and a lease in ``next_attempt_at``) before it
  calls the provider. A worker killed mid-call leaves the row ``pending`` under that lease; once the lease
  runs out the sweeper enqueues it again, and the backend's idempotency finds what the dead worker had already
  created at the provider instead of creating it twice.
* Queue messages die with the cluster: the Redis broker forgets what the dead pusher had popped, and the ORM
  broker hides it for ``Q_CLUSTER["retry"]``. Recovery must not depend on either: the sweeper enqueues again
  whatever our own rows say is unfinished once the grace has passed. ``retry`` stays at the suite's 60 s,
  longer than these tests, so the ORM broker's own redelivery never does the sweeper's job here.
* A webhook event is applied and marked ``processed`` in one transaction under its row lock; a kill before
  the commit leaves it ``received`` with nothing applied, and the sweeper enqueues it again.

The fake provider holds every answer back (``response_delay``) *after* doing the work, so the kill lands while
workers wait on calls whose effect already exists at the provider: the hard case for idempotency. Lease margin,
grace and HTTP timeouts are shortened through ``DJANGO_KYC`` (the subprocess gets them through
``KYC_TEST_DJANGO_KYC``) and the test plays the every-minute sweeper schedule every second, so recovery takes
seconds instead of minutes.

Submissions go to Allpass: its backend looks the applicant up by our reference before creating one, so even a
kill between Allpass creating the applicant and our commit of its id leaves one applicant. KYCAID (but for
documents), PassportReader and Provide (without ``USER_ID_FOR``) have no such lookup: a kill in that window
can duplicate there, and the duplicate is reported in the audit trail instead (the contract's lost-answer
test covers that), so it is not asserted for them here. Webhooks
go to Provide, whose processing always fetches the application first: a slow call for the kill to land in.
"""

from __future__ import annotations

import json
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Any

import pytest
from django.conf import settings
from django.db.models import Count
from django.test import Client, override_settings

from django_kyc.models import AuditEvent, Verification, WebhookEvent, WebhookState
from django_kyc.services import submission, sweeper
from django_kyc.services.audit import Change
from django_kyc.status import Source, VerificationStatus
from django_kyc.testing import FakeProviderServer
from tests.backends.contract import ALIAS, BackendContract
from tests.resilience.providers import HOOKS, new_applicant
from tests.support.qcluster import Cluster, forget_queue, new_queue_name, use_broker, wait_for
from tests.support.services import redis_available, require_service

pytestmark = [pytest.mark.resilience, pytest.mark.cluster, pytest.mark.django_db(transaction=True)]

V = VerificationStatus
SUBMISSIONS = 24
EVENTS = 30
#: Each provider answer is this late; an Allpass submission makes three calls, a Provide webhook one.
RESPONSE_DELAY = 0.25
WORKERS = 4
#: Lease = connect + read + margin = 4 s: far above one attempt (about 0.8 s), so the sweeper never starts a
#: second attempt beside a live one, yet short enough that a dead worker's attempt is retried within seconds.
TIMINGS = {
    "HTTP_CONNECT_TIMEOUT": 1.0,
    "HTTP_READ_TIMEOUT": 2.0,
    "LEASE_MARGIN_SECONDS": 1.0,
    "SWEEP_GRACE_SECONDS": 2.0,
    "RETRY_BASE_SECONDS": 1.0,
}
SWEEP_EVERY = 1.0
BROKERS = [pytest.param("orm", id="orm-broker"), pytest.param("redis", id="redis-broker", marks=pytest.mark.redis)]


@dataclass
class CrashRun:
    """One broker queue shared by the cluster that is killed and the one that replaces it."""

    broker: str
    queue: str
    env: dict[str, str]
    clusters: list[Cluster] = field(default_factory=list)

    def start(self) -> Cluster:
        cluster = Cluster(self.broker, self.queue, self.env)
        self.clusters.append(cluster)
        return cluster


@contextmanager
def crash_settings(broker: str, hooks: BackendContract, server: FakeProviderServer) -> Iterator[CrashRun]:
    """The provider as backend ``ALIAS`` with the short timings, here (``override_settings``) and in every
    cluster started from the returned run (environment), so both sides agree on leases and grace."""
    extra: dict[str, Any] = {
        "DEFAULT_BACKEND": ALIAS,
        "BACKENDS": {ALIAS: {"CLASS": hooks.backend_class, "OPTIONS": hooks.backend_options(server)}},
        **TIMINGS,
    }
    merged = {**settings.DJANGO_KYC, **extra, "BACKENDS": {**settings.DJANGO_KYC["BACKENDS"], **extra["BACKENDS"]}}
    run = CrashRun(
        broker=broker,
        queue=new_queue_name(),
        env={"KYC_TEST_DJANGO_KYC": json.dumps(extra), "KYC_TEST_Q_CLUSTER": json.dumps({"workers": WORKERS})},
    )
    try:
        with override_settings(DJANGO_KYC=merged):
            yield run
    finally:
        for cluster in run.clusters:
            cluster.stop()  # whatever a failed test left running; removes the logs
        forget_queue(broker, run.queue)


class Sweeper:
    """Plays the sweeper schedule at the test's pace. In production django-q2 runs ``django_kyc.sweep`` every
    ``SWEEP_EVERY_MINUTES``; here :func:`sweeper.sweep` runs in the test process, which shares the cluster's
    database and broker queue, so what it enqueues is what the schedule would have enqueued."""

    def __init__(self, every: float = SWEEP_EVERY) -> None:
        self.every = every
        self.last = 0.0

    def tick(self) -> None:
        if time.monotonic() - self.last >= self.every:
            sweeper.sweep()
            self.last = time.monotonic()


def until(condition: Callable[[], bool], sweep: Sweeper, timeout: float) -> bool:
    """Wait for ``condition`` while the sweeper keeps running, as it would in production."""

    def check() -> bool:
        sweep.tick()
        return condition()

    return wait_for(check, timeout=timeout, interval=0.02)


def kill_mid_flight(
    cluster: Cluster,
    server: FakeProviderServer,
    done: Callable[[], int],
    total: int,
    during: Callable[[str, str], bool] = lambda method, path: True,
) -> None:
    """SIGKILL the whole cluster once a quarter of the work is done and a worker waits on a provider call that
    ``during(method, path)`` picks: the kill then lands inside that call, whose effect the provider has already
    applied (``response_delay`` holds back only the answer)."""
    sweep = Sweeper()
    landed = until(lambda: done() >= total // 4 and any(during(*call) for call in server.in_flight), sweep, timeout=30)
    assert landed, f"no such provider call in flight with {done()}/{total} done\n{cluster.log_tail()}"
    members = cluster.members()
    assert len(members) > WORKERS, members  # sentinel, pusher, monitor and the workers: a group to kill
    cluster.kill()  # fails if any process of the group survives


def creating_an_applicant(method: str, path: str) -> bool:
    """Allpass's ``POST /api/public/applicant``: the call after which the provider holds an applicant that our
    row knows nothing about until the answer arrives and is committed."""
    return (method, path) == ("POST", "/api/public/applicant")


def require_broker(broker: str) -> None:
    if broker == "redis":
        require_service("Redis", redis_available(), "set REDIS_URL or start redis-server on 127.0.0.1:6379")


def status_changes(ids: list[Any], to_status: str) -> dict[str, int]:
    """Status-change audit rows to ``to_status`` per verification: one each means applied exactly once."""
    rows = (
        AuditEvent.objects.filter(
            object_type="verification",
            object_id__in=[str(pk) for pk in ids],
            action="status_change",
            to_status=to_status,
        )
        .values("object_id")
        .annotate(n=Count("id"))
    )
    return {row["object_id"]: row["n"] for row in rows}


@pytest.mark.parametrize("broker", BROKERS)
def test_submissions_killed_mid_call_complete_once_after_a_restart(
    broker: str, postgresql: None, make_applicant: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    require_broker(broker)
    hooks = HOOKS["allpass"]()
    with hooks.server_class(**hooks.server_kwargs()) as server, crash_settings(broker, hooks, server) as run:
        server.response_delay = RESPONSE_DELAY
        use_broker(monkeypatch, broker, run.queue)
        ids = [
            submission.start_verification(
                new_applicant(make_applicant, None, f"Crash{n}"), Change.system(Source.API), backend=ALIAS
            ).pk
            for n in range(SUBMISSIONS)
        ]  # each enqueued on commit, to the broker: nothing runs until a cluster starts
        pending = Verification.objects.filter(pk__in=ids, status=V.PENDING)

        first = run.start()
        try:
            kill_mid_flight(
                first, server, lambda: SUBMISSIONS - pending.count(), SUBMISSIONS, during=creating_an_applicant
            )
        finally:
            first.kill()
        # claimed by a worker that is now dead: pending, the attempt counted, a lease nobody will release
        stranded = list(pending.filter(attempts__gte=1).values_list("pk", "next_attempt_at"))
        assert all(lease is not None for _, lease in stranded)
        assert pending.count() < SUBMISSIONS
        # and among them the hard case: Allpass created the applicant, the worker died before it learnt the id
        with server.lock:
            created = {item["externalUserId"] for item in server.applicants.values()}
        in_doubt = [
            pk
            for pk, reference, held in pending.values_list("pk", "applicant__reference", "provider_applicant_id")
            if reference in created and not held
        ]
        assert in_doubt, "the kill did not land inside an applicant creation"

        second = run.start()
        try:
            finished = until(lambda: not pending.exists(), Sweeper(), timeout=40)
            assert finished, f"{pending.count()} still pending after the restart\n{second.log_tail()}"
        finally:
            second.kill()  # all work is done by now; nothing a clean shutdown would add

        rows = list(Verification.objects.filter(pk__in=ids).select_related("applicant"))
        assert [(v.status, v.last_error) for v in rows] == [(hooks.SUBMITTED_STATUS, "")] * SUBMISSIONS
        assert all(v.next_attempt_at is None and v.client_link for v in rows)
        # the attempts the kill interrupted were made again once their lease ran out
        attempts = {v.pk: v.attempts for v in rows}
        assert all(attempts[pk] >= 2 for pk, _ in stranded), attempts
        assert set(in_doubt) <= {pk for pk, _ in stranded}
        # exactly one Allpass applicant per verification, and the one it holds (the fake answers a second create
        # for the same reference with 409, which would have ended that verification in error above)
        with server.lock:
            at_provider = {item["externalUserId"]: item["id"] for item in server.applicants.values()}
        assert server.applicant_count() == len(at_provider) == SUBMISSIONS
        assert {v.applicant.reference: v.provider_applicant_id for v in rows} == at_provider
        assert status_changes(ids, hooks.SUBMITTED_STATUS) == {str(pk): 1 for pk in ids}


@pytest.mark.parametrize("broker", BROKERS)
def test_webhook_events_killed_mid_processing_are_applied_once_after_a_restart(
    broker: str, postgresql: None, make_applicant: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    require_broker(broker)
    hooks = HOOKS["provide"]()
    with hooks.server_class(**hooks.server_kwargs()) as server, crash_settings(broker, hooks, server) as run:
        # submitted here and now: django-q2 runs in sync mode in this process until use_broker()
        ids = [
            submission.start_verification(
                new_applicant(make_applicant, None, f"Hook{n}"), Change.system(Source.API), backend=ALIAS
            ).pk
            for n in range(EVENTS)
        ]
        verifications = Verification.objects.filter(pk__in=ids)
        assert set(verifications.values_list("status", flat=True)) == {V.PROCESSING}
        refs = list(verifications.values_list("provider_verification_id", flat=True))

        server.response_delay = RESPONSE_DELAY
        use_broker(monkeypatch, broker, run.queue)
        client = Client()
        for ref in refs:
            server.decide(ref, hooks.APPROVED_OUTCOME)
            body, headers = server.webhook_for(ref)
            response = client.post(
                f"/kyc/webhooks/{ALIAS}/", data=body, content_type=hooks.WEBHOOK_CONTENT_TYPE, headers=headers
            )
            assert response.status_code == 200, response.content
        events = WebhookEvent.objects.filter(backend=ALIAS)
        assert events.count() == EVENTS  # stored, each enqueued on commit to the broker
        processed = events.filter(state=WebhookState.PROCESSED)

        first = run.start()
        try:
            kill_mid_flight(first, server, processed.count, EVENTS)
        finally:
            first.kill()
        unprocessed = events.filter(state=WebhookState.RECEIVED).count()  # among them the one(s) killed mid-fetch
        assert 0 < unprocessed < EVENTS
        # a killed processing applied nothing: every approval on record belongs to a processed event
        assert sum(status_changes(ids, V.APPROVED).values()) == processed.count()

        second = run.start()
        try:
            finished = until(lambda: not events.exclude(state=WebhookState.PROCESSED).exists(), Sweeper(), timeout=40)
            assert finished, (
                f"{list(events.exclude(state=WebhookState.PROCESSED).values_list('state', 'last_error'))}\n"
                f"{second.log_tail()}"
            )
        finally:
            second.kill()  # all work is done by now; nothing a clean shutdown would add

        assert set(events.values_list("note", "last_error")) == {("applied", "")}
        assert set(verifications.values_list("status", flat=True)) == {V.APPROVED}
        # applied exactly once per verification, by its own event
        assert status_changes(ids, V.APPROVED) == {str(pk): 1 for pk in ids}
        approvals = AuditEvent.objects.filter(object_id__in=[str(pk) for pk in ids], to_status=V.APPROVED)
        assert dict(approvals.values_list("object_id", "webhook_event__verification_id")) == {str(pk): pk for pk in ids}
        assert server.applicant_count() == EVENTS  # processing only reads from the provider
