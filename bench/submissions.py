"""Submissions: 1,000 verifications through django-q2 to a provider that takes 50 ms to answer.

The fake Provide server (``django_kyc.testing.provide`` with its ``response_delay``) runs on loopback; a
``qcluster`` with 4 workers submits each verification (one ``POST /kyc_applications``). The ideal is the
provider's time alone, spread over the workers: 1,000 × 50 ms ÷ 4 = 12.5 s. Reported: wall time ÷ ideal,
from the first enqueue to the last verification recorded as submitted, and the CPU per submission of the
qcluster processes and of the PostgreSQL backends serving the benchmark database (``/proc`` counters read
before and after; a backend that exits during the run takes its share with it, so that figure is a floor).
Each run checks that the provider holds exactly one application per verification.

Run: ``python -m bench.submissions [--rounds 2] [--count 1000] [--brokers orm,redis]``.
"""

from __future__ import annotations

import argparse
import subprocess
import tempfile
import time
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

from bench import harness, seed

TARGET = 1.3
TOKEN = "bench-token"  # the fake's credential, as set in bench.settings


def produce(broker: str, pks: Sequence[str]) -> float:
    """Enqueue a submission per id from a producer process using ``broker``; returns when it started."""
    with tempfile.NamedTemporaryFile("w", suffix=".ids", delete=False) as handle:
        handle.write("\n".join(pks))
    producer = subprocess.Popen(
        [harness.PYTHON, "-m", "bench.enqueue", "submit_verification", handle.name],
        cwd=harness.ROOT,
        env=harness.bench_env(KYC_BENCH_BROKER=broker),
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        text=True,
    )
    assert producer.stdin
    assert producer.stdout
    if producer.stdout.readline().strip() != "ready":
        raise RuntimeError("the producer did not start")
    started = time.monotonic()
    producer.stdin.write("go\n")
    producer.stdin.flush()
    if producer.stdout.readline().strip() != "done" or producer.wait(timeout=120) != 0:
        raise RuntimeError("the producer failed")
    Path(handle.name).unlink()
    return started


def wait_submitted(pks: Sequence[str], timeout: float) -> None:
    """Poll by primary key, ten times a second: the poll must cost the database next to nothing, as it shares
    the two cores with what is measured."""
    from django.db.models import Count

    from django_kyc.models import Verification

    deadline = time.monotonic() + timeout
    rows = Verification.objects.filter(pk__in=pks)
    while time.monotonic() < deadline:
        if rows.filter(status="processing").count() >= len(pks):
            return
        time.sleep(0.1)
    states = {row["status"]: row["n"] for row in rows.values("status").annotate(n=Count("id"))}
    raise RuntimeError(f"not all {len(pks)} verifications were submitted in {timeout:.0f} s: {states}")


@dataclass(frozen=True)
class Run:
    ratio: float
    cluster_ms: float
    postgres_ms: float


def run(broker: str, round_number: int, args: argparse.Namespace, provider: object) -> Run:
    """One run: wall ÷ ideal, and CPU milliseconds per submission in the cluster and in PostgreSQL."""
    from django_kyc.testing.provide import FakeProvide

    assert isinstance(provider, FakeProvide)
    prefix, warmup_prefix = f"s{broker}{round_number}", f"w{broker}{round_number}"
    warmup = [
        pk for pk, _ in seed.verifications(args.workers * 4, backend="provide", status="pending", prefix=warmup_prefix)
    ]
    pending = [pk for pk, _ in seed.verifications(args.count, backend="provide", status="pending", prefix=prefix)]
    before = len(provider.applications)
    env = {
        "KYC_BENCH_BROKER": broker,
        "KYC_BENCH_WORKERS": str(args.workers),
        "KYC_BENCH_PROVIDE_URL": provider.api_base,
    }
    with harness.qcluster(**env) as cluster:
        produce(broker, warmup)
        wait_submitted(warmup, timeout=60)
        members, backends = harness.process_group(cluster.pid), harness.postgres_backends()
        cluster_before, postgres_before = harness.cpu_seconds(members), harness.cpu_seconds(backends)
        started = produce(broker, pending)
        wait_submitted(pending, timeout=args.count * args.delay * 4 + 60)
        wall = time.monotonic() - started
        members = sorted(set(members) | set(harness.process_group(cluster.pid)))
        backends = sorted(set(backends) | set(harness.postgres_backends()))
        cluster_ms = (harness.cpu_seconds(members) - cluster_before) * 1000 / args.count
        postgres_ms = (harness.cpu_seconds(backends) - postgres_before) * 1000 / args.count
    created = len(provider.applications) - before
    if created != len(warmup) + args.count:
        raise RuntimeError(
            f"{broker}: the provider holds {created} applications for {len(warmup) + args.count} verifications"
        )
    ideal = args.count * args.delay / args.workers
    print(
        f"  round {round_number + 1} {broker}: {wall:.2f} s for {args.count} "
        f"(ideal {ideal:.2f} s) = {wall / ideal:.2f}; CPU per submission: cluster {cluster_ms:.1f} ms, "
        f"PostgreSQL {postgres_ms:.1f} ms",
        flush=True,
    )
    return Run(wall / ideal, cluster_ms, postgres_ms)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--rounds", type=int, default=2, help="rounds per broker, alternating")
    parser.add_argument("--count", type=int, default=1000)
    parser.add_argument("--delay", type=float, default=0.05, help="seconds the provider takes per answer")
    parser.add_argument("--workers", type=int, default=4)
    parser.add_argument("--brokers", default="orm,redis")
    args = parser.parse_args(argv)
    brokers = args.brokers.split(",")

    harness.recreate_database()
    harness.flush_redis()
    harness.setup_django()
    from django_kyc.testing.provide import FakeProvide

    results: dict[str, list[Run]] = {broker: [] for broker in brokers}
    with FakeProvide(token=TOKEN) as provider:
        provider.response_delay = args.delay
        for round_number in range(args.rounds):
            order = brokers if round_number % 2 == 0 else list(reversed(brokers))
            for broker in order:
                results[broker].append(run(broker, round_number, args, provider))
    harness.drop_database()
    rows = []
    for broker, runs in results.items():
        ratio = harness.Summary.of([r.ratio for r in runs])
        rows.append(
            [
                broker,
                ratio.format(),
                harness.verdict(ratio.median <= TARGET),
                harness.Summary.of([r.cluster_ms for r in runs]).format(1, " ms"),
                harness.Summary.of([r.postgres_ms for r in runs]).format(1, " ms"),
            ]
        )
    print(
        f"Submissions, {args.rounds} rounds per broker: {args.count} verifications, provider answering in "
        f"{args.delay * 1000:g} ms, qcluster {args.workers} workers, PostgreSQL; ideal "
        f"{args.count * args.delay / args.workers:.1f} s; median (min–max)\n\n"
        + harness.markdown_table(
            ["broker", "wall ÷ ideal", f"target ≤ {TARGET}", "CPU/submission, cluster", "CPU/submission, PostgreSQL"],
            rows,
        )
    )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
