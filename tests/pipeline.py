"""Helpers for tests that run a real ``qcluster`` process against the test database."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
import uuid
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest
from django.db import connection

ROOT = Path(__file__).resolve().parent.parent
REDIS_URL = os.environ.get("REDIS_URL", "redis://127.0.0.1:6379/15")


def redis_available() -> bool:
    try:
        import redis

        return bool(redis.Redis.from_url(REDIS_URL, socket_connect_timeout=1).ping())
    except Exception:
        return False


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


@contextmanager
def qcluster(broker: str) -> Iterator[str]:
    """Run ``qcluster`` on the test database; stop it with SIGINT (SIGTERM hangs in django-q2 1.11)."""
    queue = f"kyc-test-{uuid.uuid4().hex[:8]}"
    env = {
        **os.environ,
        "DJANGO_SETTINGS_MODULE": "tests.settings",
        "KYC_TEST_DB_NAME": str(connection.settings_dict["NAME"]),
        "KYC_Q_SYNC": "0",
        "KYC_Q_NAME": queue,
        "KYC_Q_BROKER": broker,
        "PYTHONPATH": str(ROOT),
    }
    log = open(ROOT / f".qcluster-{queue}.log", "wb")  # noqa: SIM115 - closed in finally
    process = subprocess.Popen(
        [sys.executable, "-m", "django", "qcluster"], cwd=ROOT, env=env, stdout=log, stderr=subprocess.STDOUT
    )
    try:
        yield queue
    finally:
        process.send_signal(signal.SIGINT)
        try:
            process.wait(timeout=15)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()
        log.close()
        if broker == "redis":
            import redis

            client = redis.Redis.from_url(REDIS_URL)
            for key in client.scan_iter(f"*{queue}*"):
                client.delete(key)
        (ROOT / f".qcluster-{queue}.log").unlink(missing_ok=True)


def wait_for(condition: Callable[[], bool], timeout: float = 60.0, interval: float = 0.2) -> bool:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if condition():
            return True
        time.sleep(interval)
    return condition()
