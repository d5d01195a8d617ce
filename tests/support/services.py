"""Real services a test needs (PostgreSQL, Redis, Chromium): skipped locally when missing, a failure in CI."""

from __future__ import annotations

import os

import pytest

IN_CI = os.environ.get("CI", "").lower() == "true"
#: The one Redis URL of the test suite (the broker of the Redis-broker tests, the shared caches, the wake-up
#: markers): ``REDIS_URL`` from the environment, read here only; tests/settings.py uses it too. Parallel runs on
#: one machine each pick their own database number (CONTRIBUTING.md).
REDIS_URL = os.environ.get("REDIS_URL", "redis://127.0.0.1:6379/15")


def require_service(name: str, available: bool, detail: str = "") -> None:
    """Skip locally when a real service is missing, but fail in CI, where it must be there."""
    if available:
        return
    message = f"{name} is not available{': ' + detail if detail else ''}"
    if IN_CI:
        pytest.fail(f"{message} (CI=true: services are required, not optional)")
    pytest.skip(message)


def redis_available() -> bool:
    try:
        import redis

        return bool(redis.Redis.from_url(REDIS_URL, socket_connect_timeout=1).ping())
    except Exception:
        return False
