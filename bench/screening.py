"""Screening quality and speed of the ``lists`` backend's matcher on ~30,000 listed entries.

Run from the repository root::

    .venv/bin/python -m bench.screening                 # PostgreSQL at KYC_BENCH_SERVER_URL (bench/harness.py)
    .venv/bin/python -m bench.screening --entries 5000  # quicker
    DATABASE_URL=sqlite:///.db.sqlite3 .venv/bin/python -m bench.screening --entries 3000   # SQLite

The corpus is synthetic (``tests/support/screening_corpus.py``): there is no network here, and the labels must
be certain. Entries are spread over the four lists and loaded through ``store.load_version``, the loader
``kyc_load_lists`` uses; the probes are listed persons under the variations screening must survive
(positives) and clean names close to listed ones (negatives). Every probe is screened once at a floor below
any threshold reported, so one run gives the whole curve; the time is that screening's (candidate retrieval
and scoring of every candidate do not depend on the threshold). Everything happens in a throwaway test
database, dropped afterwards. Exits 0 when it ran, whatever it found: a missed target is in the report.
"""

from __future__ import annotations

import argparse
import os
import sys
import time
from collections import Counter

from bench import harness


def _configure(database_url: str) -> None:
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "tests.settings")
    os.environ.setdefault("DATABASE_URL", database_url)
    import django

    django.setup()
    from django.db import connection

    if connection.vendor != "sqlite":  # our own test database: never one a concurrent pytest run uses
        test = connection.settings_dict.setdefault("TEST", {})
        test["NAME"] = f"test_kyc_bench_screening_{os.getpid()}"


def report(entries: int, positives: int, negatives: int) -> None:
    from django.db import connection

    from django_kyc.backends.lists.backend import DEFAULT_THRESHOLD
    from django_kyc.sanctions.matching import ALGORITHM_VERSION
    from tests.support import screening_corpus as corpus
    from tests.support import screening_quality as quality

    listed = corpus.corpus(entries)
    started = time.monotonic()
    quality.load(listed)
    loaded = time.monotonic() - started
    probes = corpus.positives(listed, positives) + corpus.negatives(listed, negatives)
    if connection.vendor == "postgresql":
        with connection.cursor() as cursor:
            cursor.execute("ANALYZE")
    quality.run(probes[:50])  # warm the caches the first screenings would otherwise pay for
    outcomes = quality.run(probes)
    median, p95 = quality.timing(outcomes)
    at_default = quality.summary(outcomes, DEFAULT_THRESHOLD)
    kinds = ", ".join(f"{kind} {count}" for kind, count in Counter(entry.culture for entry in listed).items())
    print(
        f"Database: {connection.vendor}; {entries:,} synthetic entries ({kinds})"
        f" loaded through store.load_version in {loaded:.0f} s; {positives} positive and {negatives} negative"
        f" probes; algorithm {ALGORITHM_VERSION}.\n"
    )
    print(f"| at the default threshold {DEFAULT_THRESHOLD} | figure | target |")
    print("|---|---:|---:|")
    print(f"| recall (positives found) | {at_default.recall:.4f} | >= 0.98 |")
    print(f"| false-positive rate (negatives raised) | {at_default.false_positive_rate:.4f} | <= 0.01 |")
    print(f"| median ms per screening | {median:.1f} | <= 20 |")
    print(f"| p95 ms per screening | {p95:.1f} | |\n")
    print("| threshold | recall | false-positive rate |")
    print("|---:|---:|---:|")
    for threshold in quality.CURVE:
        point = quality.summary(outcomes, threshold)
        print(f"| {threshold:.2f} | {point.recall:.4f} | {point.false_positive_rate:.4f} |")
    print()
    variations = Counter(outcome.probe.variation for outcome in outcomes)
    missed = Counter(outcome.probe.variation for outcome in at_default.missed)
    raised = Counter(outcome.probe.variation for outcome in at_default.false_positives)
    print("| probe kind | probes | missed / raised at the default |")
    print("|---|---:|---:|")
    for variation, count in sorted(variations.items()):
        print(f"| {variation} | {count} | {missed.get(variation, 0) + raised.get(variation, 0)} |")
    print()
    for outcome in at_default.missed:
        print(f"MISSED {outcome.probe} score {outcome.score:.3f}; best: {outcome.best}")
    for outcome in at_default.false_positives:
        print(f"FALSE POSITIVE {outcome.probe} score {outcome.score:.3f}; best: {outcome.best}")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench.screening", description=__doc__.split("\n\n")[0])
    parser.add_argument("--entries", type=int, default=30_000)
    parser.add_argument("--positives", type=int, default=1_000)
    parser.add_argument("--negatives", type=int, default=1_000)
    args = parser.parse_args(argv)
    _configure(f"{harness.SERVER_URL}/kyc_bench")
    from django.test.utils import setup_databases, teardown_databases

    started = time.monotonic()
    old_config = setup_databases(verbosity=0, interactive=False)
    try:
        report(args.entries, args.positives, args.negatives)
    finally:
        teardown_databases(old_config, verbosity=0)
    print(f"\n(screening benchmark took {time.monotonic() - started:.0f} s)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
