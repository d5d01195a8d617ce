"""Queries per request for the API and admin pages, with 10 and with 1,000 rows behind each page.

Run from the repository root::

    .venv/bin/python -m bench.queries                   # PostgreSQL at postgres://postgres@127.0.0.1:5432/test
    DATABASE_URL=sqlite:///.db.sqlite3 .venv/bin/python -m bench.queries -k admin   # SQLite, admin pages only

The pages, roles and seeding are those of ``tests/test_query_counts.py`` (both import
``tests/support/query_counts.py``), so the table is what the test asserts, printed. Everything happens in a throwaway
test database made by ``setup_databases`` and dropped afterwards: real data is never read or written. Exits
0 when the benchmark ran, whatever it found (a missed target is reported in the table, not as an error).
"""

from __future__ import annotations

import argparse
import os
import sys
import time
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from tests.support.query_counts import Result

DEFAULT_DATABASE_URL = "postgres://postgres@127.0.0.1:5432/test"


def _configure() -> None:
    """Point Django at the test settings before anything imports models (the settings read DATABASE_URL)."""
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "tests.settings")
    os.environ.setdefault("DATABASE_URL", DEFAULT_DATABASE_URL)
    import django

    django.setup()


def _isolated_test_database_name() -> None:
    """A test database of our own: ``test_<name>`` is what a concurrent pytest run on the same server uses,
    and ``setup_databases`` would drop it from under that run."""
    from django.db import connection

    if connection.vendor != "sqlite":  # the SQLite test file is already per process (tests/settings.py)
        test = connection.settings_dict.setdefault("TEST", {})
        test["NAME"] = f"test_{connection.settings_dict['NAME']}_bench_queries_{os.getpid()}"


def table(results: list[Result]) -> str:
    """The markdown table: one line per page and role."""
    from tests.support.query_counts import LARGE, MAX_QUERIES, SMALL

    lines = [
        f"| endpoint | queries at {SMALL:,} rows | queries at {LARGE:,} rows | same? | <= {MAX_QUERIES}? |",
        "|---|---:|---:|:---:|:---:|",
    ]
    for result in results:
        small, large = result.counts
        lines.append(
            f"| {result.id} | {small} | {large} | {'yes' if result.same else 'NO'} "
            f"| {'yes' if result.within_limit else 'NO'} |"
        )
    return "\n".join(lines)


def run(only: str | None = None, verbose: bool = False) -> list[Result]:
    """Measure every page (or those whose name contains ``only``), each in a transaction rolled back after."""
    from django.db import transaction

    from tests.support.query_counts import ENDPOINTS, measure

    results: list[Result] = []
    for endpoint in ENDPOINTS:
        if only and only.lower() not in endpoint.name.lower():
            continue
        with transaction.atomic():
            measured = measure(endpoint)
            transaction.set_rollback(True)
        for result in measured:
            if verbose or result.problems():
                print(result.explain() if verbose else f"{result.id}: {'; '.join(result.problems())}", file=sys.stderr)
        results += measured
    return results


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench.queries", description=__doc__.split("\n\n")[0])
    parser.add_argument("-k", dest="only", help="only pages whose name contains this text (case-insensitive)")
    parser.add_argument("-v", "--verbose", action="store_true", help="print every page's SQL to stderr")
    args = parser.parse_args(argv)

    _configure()
    from django.db import connection
    from django.test.utils import (
        setup_databases,
        setup_test_environment,
        teardown_databases,
        teardown_test_environment,
    )

    _isolated_test_database_name()
    setup_test_environment()  # records rendered templates, so response.context exists as in the test
    started = time.monotonic()
    old_config = setup_databases(verbosity=0, interactive=False)
    try:
        print(f"Database: {connection.vendor} (throwaway test database {connection.settings_dict['NAME']})\n")
        results = run(args.only, args.verbose)
    finally:
        teardown_databases(old_config, verbosity=0)
        teardown_test_environment()
    print(table(results))
    failing = [result for result in results if result.problems()]
    print(
        f"\n{len(results)} measurements (page x role) in {time.monotonic() - started:.1f}s; "
        + (f"{len(failing)} missed the target (details on stderr)." if failing else "all met the target.")
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
