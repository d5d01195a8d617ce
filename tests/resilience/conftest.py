"""The resilience suite: opt-in (``--run-resilience``, ``make test-resilience``), on PostgreSQL.

Everything in this directory is marked ``resilience`` and skipped unless the option is given, so the default
run stays fast; the thread races need a real PostgreSQL and skip on another database (or fail in CI). The API
fuzzing needs the schemathesis and hypothesis pytest plugins, which are off unless ``-p`` turns them on.
"""

from __future__ import annotations

from pathlib import Path

import pytest

HERE = Path(__file__).resolve().parent


#: The pytest plugins the API fuzzing needs; pyproject.toml turns them off for every other run (start-up time).
FUZZ_PLUGINS = ("schemathesis", "hypothesispytest")


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    run = config.getoption("--run-resilience")
    skip = pytest.mark.skip(reason="resilience suite runs with --run-resilience (make test-resilience)")
    fuzzing = False
    for item in items:
        if HERE not in Path(str(item.fspath)).resolve().parents:
            continue
        item.add_marker(pytest.mark.resilience)
        fuzzing = fuzzing or Path(str(item.fspath)).name == "test_api_fuzz.py"
        if not run:
            item.add_marker(skip)
    missing = [name for name in FUZZ_PLUGINS if not config.pluginmanager.has_plugin(name)]
    if run and fuzzing and missing:
        flags = " ".join(f"-p {name}" for name in missing)
        raise pytest.UsageError(f"tests/resilience/test_api_fuzz.py needs {flags} (make test-resilience adds it)")


@pytest.fixture
def postgresql() -> None:
    """Row locks, unique constraints under concurrent load and ``pg_dump`` need the real thing."""
    from django.db import connection

    from tests.support.services import require_service

    require_service(
        "PostgreSQL", connection.vendor == "postgresql", "run with DATABASE_URL=postgres://… (make test-resilience)"
    )
