"""``python -m bench [name ...]``: run the benchmarks (all by default) and print one markdown report.

Each benchmark runs in its own process (they configure Django differently) and prints its own table; this
adds the date, the machine and the versions, so a report pasted into ``docs/benchmarks.md`` is complete.
"""

from __future__ import annotations

import argparse
import subprocess
import sys
import time
from datetime import datetime, timezone
from importlib.metadata import version

from bench import harness

BENCHMARKS = ("queries", "ingest", "latency", "burst", "submissions", "bulk", "screening")


def versions() -> str:
    packages = ("django", "djangorestframework", "django-q2", "psycopg", "gunicorn", "redis", "django-onfido")
    found = [f"{name} {version(name)}" for name in packages]
    server = subprocess.run(
        ["psql", harness.SERVER_URL + "/postgres", "-Atc", "SHOW server_version"], capture_output=True, text=True
    ).stdout.strip()
    return ", ".join([*found, f"PostgreSQL {server}", wrk_version()])


def wrk_version() -> str:
    """Only the HTTP benchmarks need wrk (``make bench`` installs it): running others without it is fine."""
    try:
        wrk = subprocess.run(["wrk", "--version"], capture_output=True, text=True)
    except FileNotFoundError:
        return "wrk not installed"
    return (wrk.stdout or wrk.stderr).split("\n")[0].split(" [")[0]


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("names", nargs="*", metavar="name", help=f"any of {', '.join(BENCHMARKS)} (default: all)")
    args = parser.parse_args(argv)
    unknown = set(args.names) - set(BENCHMARKS)
    if unknown:
        parser.error(f"unknown benchmark(s): {', '.join(sorted(unknown))}")
    args.names = args.names or list(BENCHMARKS)
    print(f"# django-kyc benchmarks, {datetime.now(timezone.utc):%Y-%m-%d %H:%M} UTC\n")
    print(f"Machine: {harness.machine()}\n")
    print(f"Versions: {versions()}\n")
    failed = []
    for name in args.names:
        print(f"## {name}: `python -m bench.{name}`\n", flush=True)
        started = time.monotonic()
        result = subprocess.run([sys.executable, "-m", f"bench.{name}"], cwd=harness.ROOT, check=False)
        print(f"\n({name} took {time.monotonic() - started:.0f} s, exit {result.returncode})\n", flush=True)
        if result.returncode:
            failed.append(name)
    if failed:
        print(f"broken: {', '.join(failed)}")
    return 1 if failed else 0


if __name__ == "__main__":
    raise SystemExit(main())
