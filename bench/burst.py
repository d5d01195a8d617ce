"""A burst: 10,000 signed deliveries at full speed while a ``qcluster`` drains the inbox.

Each delivery approves a different verification waiting at the provider. 16 sender threads send every one
exactly once, as fast as gunicorn (2 sync workers) answers (Python senders rather than ``wrk``: a burst must
send each delivery once and know every answer, which a wrk script cannot promise against servers that close
each connection); the cluster (2 workers) drains meanwhile and after. Reported per
broker: the ingest rate, the backlog when the last delivery was answered, the time from the first delivery
until the inbox is empty, and the drain rate (events applied ÷ that time). Checked: every answer 2xx, every
event stored once and applied once (one status-change audit row each), every verification approved.

Run: ``python -m bench.burst [--count 10000] [--brokers orm,redis]``.
"""

from __future__ import annotations

import argparse
import http.client
import threading
import time
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass

from bench import harness, seed
from bench.ingest import approval, sign_sandbox


@dataclass(frozen=True)
class Burst:
    ingest_rate: float
    backlog: int
    time_to_empty: float
    drain_rate: float


def send_all(port: int, targets: Sequence[tuple[str, str]], senders: int) -> Counter[int]:
    """Every delivery once, from ``senders`` threads; the answers' status codes."""
    deliveries = []
    for pk, ref in targets:
        body = approval(f"evt_burst_{pk}", ref, pk)
        deliveries.append((body, {"Content-Type": "application/json", "X-Sandbox-Signature": sign_sandbox(body)}))
    answers: Counter[int] = Counter()
    lock = threading.Lock()

    def send(share: Sequence[tuple[bytes, dict[str, str]]]) -> None:
        for body, headers in share:
            connection = http.client.HTTPConnection("127.0.0.1", port, timeout=60)
            connection.request("POST", "/kyc/webhooks/sandbox/", body=body, headers=headers)
            status = connection.getresponse().status
            connection.close()
            with lock:
                answers[status] += 1

    threads = [threading.Thread(target=send, args=(deliveries[index::senders],)) for index in range(senders)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    return answers


def received() -> int:
    from django.db import connection

    with connection.cursor() as cursor:
        cursor.execute("SELECT count(*) FROM django_kyc_webhookevent WHERE state = 'received'")
        return int(cursor.fetchone()[0])


def run(broker: str, args: argparse.Namespace) -> Burst:
    from django.db.models import Count

    from django_kyc.models import AuditEvent, Verification, WebhookEvent

    targets = seed.verifications(args.count, backend="sandbox", status="processing", prefix=f"b{broker}")
    port = harness.free_port()
    env = {"KYC_BENCH_BROKER": broker, "KYC_BENCH_WORKERS": str(args.workers)}
    with harness.gunicorn(port, **env), harness.qcluster(**env):
        time.sleep(3)  # the cluster up and idle
        started = time.monotonic()
        answers = send_all(port, targets, args.connections)
        answered_at = time.monotonic()
        backlog = received()
        deadline = answered_at + 600
        while received() and time.monotonic() < deadline:
            time.sleep(0.1)
        emptied_at = time.monotonic()
    if answers != {200: args.count}:
        raise RuntimeError(f"{broker}: answers by status {dict(answers)} for {args.count} deliveries")
    pks = [pk for pk, _ in targets]
    events = WebhookEvent.objects.filter(event_id__in=[f"evt_burst_{pk}" for pk in pks])
    states = dict(events.values_list("state").annotate(n=Count("id")).values_list("state", "n"))
    if states != {"processed": args.count}:
        raise RuntimeError(f"{broker}: events by state {states}, expected {args.count} processed")
    per_event = (
        AuditEvent.objects.filter(object_id__in=pks, action="status_change", to_status="approved")
        .values("webhook_event_id")
        .annotate(n=Count("id"))
    )
    if per_event.count() != args.count or per_event.filter(n__gt=1).exists():
        raise RuntimeError(f"{broker}: {per_event.count()} events applied, some more than once")
    if Verification.objects.filter(pk__in=pks, status="approved").count() != args.count:
        raise RuntimeError(f"{broker}: not every verification was approved")
    elapsed = emptied_at - started
    result = Burst(args.count / (answered_at - started), backlog, elapsed, args.count / elapsed)
    print(
        f"  {broker}: ingest {result.ingest_rate:.0f}/s, backlog {result.backlog} at the last answer, "
        f"empty after {result.time_to_empty:.1f} s, drain {result.drain_rate:.0f} events/s",
        flush=True,
    )
    return result


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--count", type=int, default=10_000)
    parser.add_argument("--connections", type=int, default=16)
    parser.add_argument("--workers", type=int, default=2, help="qcluster workers")
    parser.add_argument("--brokers", default="orm,redis")
    args = parser.parse_args(argv)

    harness.recreate_database()
    harness.flush_redis()
    harness.setup_django()
    results = {broker: run(broker, args) for broker in args.brokers.split(",")}
    harness.drop_database()
    rows = [
        [
            broker,
            f"{r.ingest_rate:.0f}",
            str(r.backlog),
            f"{r.time_to_empty:.1f} s",
            f"{r.drain_rate:.0f}",
            "all, once",
        ]
        for broker, r in results.items()
    ]
    print(
        f"Burst of {args.count} deliveries, {args.connections} sender threads, gunicorn 2 sync workers, qcluster "
        f"{args.workers} workers, PostgreSQL\n\n"
        + harness.markdown_table(
            [
                "broker",
                "ingest deliveries/s",
                "backlog at last answer",
                "first delivery → inbox empty",
                "drain events/s",
                "2xx, applied",
            ],
            rows,
        )
    )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
