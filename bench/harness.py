"""What every benchmark shares: the database, the processes under test, alternation and the tables.

Absolute rates on a shared two-core machine drift from minute to minute, so the benchmarks compare
contenders side by side: each round runs every contender once, in alternating order, and the figure reported
is the ratio within a round, summarised as the median and the min–max over the rounds.
"""

from __future__ import annotations

import os
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
PYTHON = sys.executable
SERVER_URL = os.environ.get("KYC_BENCH_SERVER_URL", "postgres://postgres@127.0.0.1:5432")
DATABASE = os.environ.get("KYC_BENCH_DATABASE", "kyc_bench")
DATABASE_URL = f"{SERVER_URL}/{DATABASE}"
REDIS_URL = os.environ.get("KYC_BENCH_REDIS_URL", "redis://127.0.0.1:6379/14")


def bench_env(**extra: str) -> dict[str, str]:
    """The environment every child process (gunicorn, qcluster, manage commands) runs with."""
    env = dict(os.environ)
    env.update(
        DJANGO_SETTINGS_MODULE="bench.settings",
        KYC_BENCH_DATABASE_URL=DATABASE_URL,
        KYC_BENCH_REDIS_URL=REDIS_URL,
        PYTHONPATH=str(ROOT),
    )
    env.update(extra)
    return env


def setup_django(**extra: str) -> None:
    """Configure Django in this process (the driver) against the benchmark database."""
    os.environ.update(bench_env(**extra))
    import django

    django.setup()


def manage(*args: str, **extra: str) -> None:
    subprocess.run([PYTHON, "-m", "django", *args], cwd=ROOT, env=bench_env(**extra), check=True)


def recreate_database() -> None:
    """A throwaway database of its own, so a benchmark never touches anything else on the server."""
    import psycopg

    with psycopg.connect(f"{SERVER_URL}/postgres", autocommit=True) as connection:
        connection.execute(f'DROP DATABASE IF EXISTS "{DATABASE}" WITH (FORCE)')
        connection.execute(f'CREATE DATABASE "{DATABASE}"')
    manage("migrate", "--verbosity", "0")


def drop_database() -> None:
    import psycopg
    from django.db import connections

    connections.close_all()
    with psycopg.connect(f"{SERVER_URL}/postgres", autocommit=True) as connection:
        connection.execute(f'DROP DATABASE IF EXISTS "{DATABASE}" WITH (FORCE)')


def flush_redis() -> None:
    import redis

    redis.Redis.from_url(REDIS_URL).flushdb()


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def wait_for_port(port: int, timeout: float = 30.0) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        with socket.socket() as probe:
            if probe.connect_ex(("127.0.0.1", port)) == 0:
                return
        time.sleep(0.05)
    raise RuntimeError(f"nothing listens on 127.0.0.1:{port} after {timeout} s")


def stop_process_group(process: subprocess.Popen[Any], first: int = signal.SIGINT, grace: float = 15.0) -> None:
    """qcluster stops cleanly on SIGINT and may hang on SIGTERM (django-q2#346): SIGKILL after ``grace``."""
    if process.poll() is not None:
        return
    try:
        os.killpg(process.pid, first)
        process.wait(timeout=grace)
    except subprocess.TimeoutExpired:
        os.killpg(process.pid, signal.SIGKILL)
        process.wait()
    except ProcessLookupError:
        pass


@contextmanager
def gunicorn(port: int, workers: int = 2, **extra: str) -> Iterator[subprocess.Popen[Any]]:
    """Sync workers and persistent connections: the setting that measured fastest on two cores."""
    process = subprocess.Popen(
        [
            PYTHON,
            "-m",
            "gunicorn",
            "bench.wsgi",
            "--bind",
            f"127.0.0.1:{port}",
            "--workers",
            str(workers),
            "--worker-class",
            "sync",
            "--log-level",
            "warning",
            "--backlog",
            "2048",
        ],
        cwd=ROOT,
        env=bench_env(**extra),
        start_new_session=True,
    )
    try:
        wait_for_port(port)
        yield process
    finally:
        stop_process_group(process, first=signal.SIGTERM)


LOG_DIR = Path(os.environ.get("KYC_BENCH_LOG_DIR") or tempfile.gettempdir())


@contextmanager
def qcluster(**extra: str) -> Iterator[subprocess.Popen[Any]]:
    """A ``qcluster`` in its own process group; its output goes to ``$KYC_BENCH_LOG_DIR/kyc-bench-qcluster.log``."""
    with (LOG_DIR / "kyc-bench-qcluster.log").open("a") as log:
        process = subprocess.Popen(
            [PYTHON, "-m", "django", "qcluster"],
            cwd=ROOT,
            env=bench_env(**extra),
            start_new_session=True,
            stdout=log,
            stderr=subprocess.STDOUT,
        )
        try:
            yield process
        finally:
            stop_process_group(process)


@dataclass(frozen=True)
class Summary:
    median: float
    low: float
    high: float

    @classmethod
    def of(cls, values: Sequence[float]) -> Summary:
        return cls(statistics.median(values), min(values), max(values))

    def format(self, digits: int = 2, unit: str = "") -> str:
        return f"{self.median:.{digits}f}{unit} ({self.low:.{digits}f}–{self.high:.{digits}f})"


def alternate(
    contenders: Mapping[str, Callable[[int], float]], rounds: int, *, label: str = ""
) -> dict[str, list[float]]:
    """Run every contender once per round, A B C then C B A, so neither order nor drift favours one.

    Each contender is called with the round number and returns its measurement for that round.
    """
    names = list(contenders)
    results: dict[str, list[float]] = {name: [] for name in names}
    for round_number in range(rounds):
        order = names if round_number % 2 == 0 else list(reversed(names))
        for name in order:
            value = contenders[name](round_number)
            results[name].append(value)
            print(f"  {label}round {round_number + 1}/{rounds} {name}: {value:.2f}", flush=True)
    return results


def ratios(results: Mapping[str, Sequence[float]], numerator: str, denominator: str) -> list[float]:
    """Per-round ratios: each one compares two runs made minutes apart at most, in the same conditions."""
    return [a / b for a, b in zip(results[numerator], results[denominator], strict=True)]


def markdown_table(headers: Sequence[str], rows: Sequence[Sequence[object]]) -> str:
    lines = ["| " + " | ".join(headers) + " |", "|" + "|".join("---" for _ in headers) + "|"]
    lines += ["| " + " | ".join(str(cell) for cell in row) + " |" for row in rows]
    return "\n".join(lines)


def verdict(met: bool) -> str:
    return "met" if met else "MISSED"


def machine() -> str:
    """One line describing where the figures come from."""
    cpu = "unknown CPU"
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    return f"{os.cpu_count()} cores, {cpu}, Python {sys.version.split()[0]}"


CLOCK_TICKS = os.sysconf("SC_CLK_TCK") if hasattr(os, "sysconf") else 100


def _stat_fields(pid: int) -> list[str] | None:
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return None
    return stat[stat.rindex(")") + 2 :].split()


def cpu_seconds(pids: Sequence[int]) -> float:
    """User + system CPU of these processes and of the children they reaped (``/proc``, Linux only)."""
    total = 0
    for pid in pids:
        fields = _stat_fields(pid)
        if fields:  # utime stime cutime cstime are fields 14-17 of stat, 12-15 after "pid (comm) "
            total += sum(int(value) for value in fields[11:15])
    return total / CLOCK_TICKS


def process_group(pgid: int) -> list[int]:
    """Live processes of a process group (a qcluster started with ``start_new_session``)."""
    found = []
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            fields = _stat_fields(int(entry.name))
            if fields and int(fields[2]) == pgid:
                found.append(int(entry.name))
    return found


def postgres_backends(database: str = DATABASE) -> list[int]:
    """The PostgreSQL backends serving ``database`` (their title is ``postgres: <user> <database> ...``)."""
    found = []
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            title = (entry / "cmdline").read_bytes().replace(b"\0", b" ").decode(errors="replace")
        except OSError:
            continue
        if title.startswith("postgres: ") and f" {database} " in title:
            found.append(int(entry.name))
    return found
