"""Helpers for tests that run a real ``qcluster`` process against the test database."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
import uuid
from collections.abc import Callable, Iterator, Mapping
from contextlib import contextmanager, suppress
from pathlib import Path

import pytest
from django.db import connection

from tests.support import ROOT
from tests.support.services import REDIS_URL


def use_broker(monkeypatch: pytest.MonkeyPatch, broker: str, queue: str) -> None:
    """Point this process's django-q2 at the same broker and queue as the cluster subprocess.

    django-q2 reads ``Q_CLUSTER`` once at import, so the test process patches ``Conf`` (as django-q2's own
    tests do) while the subprocess gets the same choice through environment variables.
    """
    from django_q.conf import Conf

    monkeypatch.setattr(Conf, "SYNC", False)
    monkeypatch.setattr(Conf, "PREFIX", queue)
    monkeypatch.setattr(Conf, "CLUSTER_NAME", queue)
    if broker == "redis":
        monkeypatch.setattr(Conf, "ORM", None)
        monkeypatch.setattr(Conf, "REDIS", REDIS_URL)


class Cluster:
    """A running ``qcluster`` subprocess in a process group of its own.

    qcluster forks a sentinel, a pusher, a monitor and the workers; a crash test must kill all of them at once,
    as the kernel's OOM killer or a lost container would, and a group of its own lets :meth:`kill` do that
    without touching the test run.
    """

    def __init__(self, broker: str, queue: str, env: Mapping[str, str] | None = None) -> None:
        self.broker = broker
        self.queue = queue
        self.log_path = ROOT / f".qcluster-{queue}-{uuid.uuid4().hex[:6]}.log"
        full_env = {
            **os.environ,
            "DJANGO_SETTINGS_MODULE": "tests.settings",
            "KYC_TEST_DB_NAME": str(connection.settings_dict["NAME"]),
            "KYC_Q_SYNC": "0",
            "KYC_Q_NAME": queue,
            "KYC_Q_BROKER": broker,
            "PYTHONPATH": str(ROOT),
            **(env or {}),
        }
        with open(self.log_path, "wb") as log:
            self.process = subprocess.Popen(
                [sys.executable, "-m", "django", "qcluster"],
                cwd=ROOT,
                env=full_env,
                stdout=log,
                stderr=subprocess.STDOUT,
                start_new_session=True,  # its own process group: killpg reaches every qcluster process, and only those
            )
        self.pgid = self.process.pid

    def members(self) -> list[int]:
        """Live (non-zombie) processes of the cluster's group."""
        proc = Path("/proc")
        if not proc.is_dir():  # not Linux: a probe of the group, which also counts unreaped zombies
            try:
                os.killpg(self.pgid, 0)
            except ProcessLookupError:
                return []
            return [self.pgid]
        alive = []
        for entry in proc.iterdir():
            if not entry.name.isdigit():
                continue
            try:
                stat = (entry / "stat").read_text()
            except OSError:
                continue  # exited while we looked
            # "pid (comm) state ppid pgrp ...": comm may contain spaces and parentheses
            state, _ppid, pgrp = stat[stat.rindex(")") + 2 :].split()[:3]
            if int(pgrp) == self.pgid and state != "Z":
                alive.append(int(entry.name))
        return alive

    def stop(self) -> None:
        """Shut down cleanly with SIGINT (SIGTERM hangs in django-q2 1.11); SIGKILL the group if that stalls or
        if processes outlived their sentinel."""
        if self.process.poll() is None:
            self.process.send_signal(signal.SIGINT)
            with suppress(subprocess.TimeoutExpired):  # handled below
                self.process.wait(timeout=15)
        if self.process.poll() is None or self.members():
            self.kill()
        self.log_path.unlink(missing_ok=True)

    def kill(self, timeout: float = 10.0) -> None:
        """SIGKILL every process of the cluster at once; fail if any of them is still alive afterwards."""
        with suppress(ProcessLookupError):  # already gone
            os.killpg(self.pgid, signal.SIGKILL)
        self.process.wait(timeout=timeout)
        if not wait_for(lambda: not self.members(), timeout=timeout, interval=0.05):
            raise AssertionError(f"qcluster processes survived SIGKILL of their group: {self.members()}")

    def log_tail(self, lines: int = 40) -> str:
        """The end of the cluster's output, for assertion messages."""
        try:
            return "\n".join(self.log_path.read_text(errors="replace").splitlines()[-lines:])
        except OSError:
            return "(no log)"


def forget_queue(broker: str, queue: str) -> None:
    """Remove what a test queue left in Redis (the ORM broker's rows go with the test database)."""
    if broker == "redis":
        import redis

        client = redis.Redis.from_url(REDIS_URL)
        for key in client.scan_iter(f"*{queue}*"):
            client.delete(key)


def new_queue_name() -> str:
    return f"kyc-test-{uuid.uuid4().hex[:8]}"


@contextmanager
def qcluster(broker: str) -> Iterator[str]:
    """Run ``qcluster`` on the test database for the duration of the block; yields the queue name."""
    queue = new_queue_name()
    cluster = Cluster(broker, queue)
    try:
        yield queue
    finally:
        cluster.stop()
        forget_queue(broker, queue)


def wait_for(condition: Callable[[], bool], timeout: float = 60.0, interval: float = 0.2) -> bool:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if condition():
            return True
        time.sleep(interval)
    return condition()
