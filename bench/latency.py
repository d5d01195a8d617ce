"""Webhook to decision: from a delivery's 200 to the committed status change, at a steady rate.

gunicorn receives signed sandbox deliveries (each approving a different verification that is waiting at the
provider) at ``--rate`` per second, open loop: a delivery is sent at its scheduled time whether or not the
previous ones were answered. A ``qcluster`` processes them. The probe app records the wall clock in the
worker when ``verification_status_changed`` fires, which django_kyc sends after the commit; the latency of a
delivery is that reading minus the moment its 200 arrived. ORM and Redis brokers alternate, round by round.

Run: ``python -m bench.latency [--rounds 2] [--duration 20] [--rate 100]``.
"""

from __future__ import annotations

import argparse
import statistics
import threading
import time
from collections.abc import Sequence
from dataclasses import dataclass

import requests

from bench import harness, seed
from bench.ingest import approval, sign_sandbox
from bench.probe.apps import PROBE_KEY

BROKERS = ("orm", "redis")
SENDERS = 12


@dataclass(frozen=True)
class Round:
    p50: float
    p99: float
    worst: float
    delivered: int
    decided: int


def send_steadily(url: str, targets: Sequence[tuple[str, str]], rate: float) -> dict[str, float]:
    """Open loop: delivery ``k`` leaves at ``start + k / rate``; returns when each got its 200, by pk."""
    answered: dict[str, float] = {}
    failures: list[str] = []
    lock = threading.Lock()
    cursor = iter(enumerate(targets))
    start = time.time() + 0.5

    def sender() -> None:
        session = requests.Session()
        while True:
            with lock:
                item = next(cursor, None)
            if item is None:
                return
            index, (pk, ref) = item
            delay = start + index / rate - time.time()
            if delay > 0:
                time.sleep(delay)
            body = approval(f"evt_lat_{pk}", ref, pk)
            headers = {"Content-Type": "application/json", "X-Sandbox-Signature": sign_sandbox(body)}
            response = session.post(url, data=body, headers=headers, timeout=30)
            done = time.time()
            with lock:
                if response.status_code == 200:
                    answered[pk] = done
                else:
                    failures.append(f"{response.status_code}: {response.text[:200]}")

    threads = [threading.Thread(target=sender) for _ in range(SENDERS)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    if failures:
        raise RuntimeError(f"{len(failures)} deliveries failed, first: {failures[0]}")
    return answered


def committed(pks: Sequence[str], timeout: float) -> dict[str, float]:
    """Wait for the probe to have seen every verification decided; returns its clock readings by pk."""
    import redis

    client = redis.Redis.from_url(harness.REDIS_URL)
    deadline = time.monotonic() + timeout
    seen: dict[str, float] = {}
    while time.monotonic() < deadline:
        raw = client.hgetall(PROBE_KEY)
        seen = {
            key.decode(): float(value.decode().split(":")[0])
            for key, value in raw.items()
            if value.decode().endswith(":approved")
        }
        if all(pk in seen for pk in pks):
            break
        time.sleep(0.25)
    return {pk: seen[pk] for pk in pks if pk in seen}


def percentile(values: Sequence[float], fraction: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(fraction * (len(ordered) - 1)))]


def measure(broker: str, round_number: int, args: argparse.Namespace) -> Round:
    count = int(args.rate * args.duration)
    warmup = seed.verifications(50, backend="sandbox", status="processing", prefix=f"w{broker}{round_number}")
    targets = seed.verifications(count, backend="sandbox", status="processing", prefix=f"l{broker}{round_number}")
    harness.flush_redis()
    port = harness.free_port()
    env = {"KYC_BENCH_BROKER": broker, "KYC_BENCH_PROBE": "1", "KYC_BENCH_WORKERS": str(args.workers)}
    with harness.gunicorn(port, **env), harness.qcluster(**env):
        url = f"http://127.0.0.1:{port}/kyc/webhooks/sandbox/"
        send_steadily(url, warmup, args.rate)
        if len(committed([pk for pk, _ in warmup], timeout=60)) < len(warmup):
            raise RuntimeError(f"{broker}: the warm-up deliveries were not all processed within 60 s")
        answered = send_steadily(url, targets, args.rate)
        decided = committed([pk for pk, _ in targets], timeout=60)
    latencies = [decided[pk] - answered[pk] for pk in decided]
    result = Round(
        p50=statistics.median(latencies),
        p99=percentile(latencies, 0.99),
        worst=max(latencies),
        delivered=len(answered),
        decided=len(decided),
    )
    print(
        f"  round {round_number + 1} {broker}: p50 {result.p50 * 1000:.0f} ms, p99 {result.p99 * 1000:.0f} ms, "
        f"max {result.worst * 1000:.0f} ms, {result.decided}/{result.delivered} decided",
        flush=True,
    )
    return result


#: receipt → committed decision at 100/s, per broker: (p50, p99) in seconds
TARGETS = {"redis": (0.05, 0.5), "orm": (0.3, 1.0)}


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--rounds", type=int, default=2, help="rounds per broker, alternating")
    parser.add_argument("--duration", type=float, default=20.0, help="seconds of steady sending per round")
    parser.add_argument("--rate", type=float, default=100.0, help="deliveries per second")
    parser.add_argument("--workers", type=int, default=2, help="qcluster workers")
    args = parser.parse_args(argv)

    harness.recreate_database()
    harness.setup_django()
    results: dict[str, list[Round]] = {broker: [] for broker in BROKERS}
    for round_number in range(args.rounds):
        order = BROKERS if round_number % 2 == 0 else tuple(reversed(BROKERS))
        for broker in order:
            results[broker].append(measure(broker, round_number, args))
    harness.drop_database()
    print(report(results, args))
    return 0


def report(results: dict[str, list[Round]], args: argparse.Namespace) -> str:
    rows = []
    for broker, rounds in results.items():
        p50 = harness.Summary.of([r.p50 * 1000 for r in rounds])
        p99 = harness.Summary.of([r.p99 * 1000 for r in rounds])
        worst = max(r.worst for r in rounds) * 1000
        decided = sum(r.decided for r in rounds)
        delivered = sum(r.delivered for r in rounds)
        rows.append([broker, p50.format(0, " ms"), p99.format(0, " ms"), f"{worst:.0f} ms", f"{decided}/{delivered}"])
    lines = [
        f"Webhook to decision, {args.rounds} rounds per broker of {args.duration:g} s at {args.rate:g} deliveries/s "
        f"(open loop), gunicorn 2 sync workers, qcluster {args.workers} workers, PostgreSQL; median (min–max)",
        "",
        harness.markdown_table(["broker", "p50", "p99", "worst", "decided/delivered"], rows),
        "",
    ]
    for broker, (p50_target, p99_target) in TARGETS.items():
        p50 = statistics.median(r.p50 for r in results[broker])
        p99 = statistics.median(r.p99 for r in results[broker])
        lines.append(
            f"{broker} broker: p50 {p50 * 1000:.0f} ms (target ≤ {p50_target * 1000:.0f} ms: "
            f"{harness.verdict(p50 <= p50_target)}), p99 {p99 * 1000:.0f} ms (target ≤ "
            f"{p99_target * 1000:.0f} ms: {harness.verdict(p99 <= p99_target)})"
        )
    return "\n".join(lines)


if __name__ == "__main__":
    raise SystemExit(main())
