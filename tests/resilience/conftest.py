"""The resilience suite: opt-in (``--run-resilience``, ``make test-resilience``), on PostgreSQL.

Everything in this directory is marked ``resilience`` and skipped unless the option is given, so the default
run stays fast; the thread races need a real PostgreSQL and skip on another database (or fail in CI).
"""

from __future__ import annotations

from pathlib import Path

import pytest

HERE = Path(__file__).resolve().parent


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    run = config.getoption("--run-resilience")
    skip = pytest.mark.skip(reason="resilience suite runs with --run-resilience (make test-resilience)")
    for item in items:
        if HERE not in Path(str(item.fspath)).resolve().parents:
            continue
        item.add_marker(pytest.mark.resilience)
        if not run:
            item.add_marker(skip)


@pytest.fixture
def postgresql() -> None:
    """Row locks, unique constraints under concurrent load and ``pg_dump`` need the real thing."""
    from django.db import connection

    from tests.conftest import require_service

    require_service(
        "PostgreSQL", connection.vendor == "postgresql", "run with DATABASE_URL=postgres://… (make test-resilience)"
    )
