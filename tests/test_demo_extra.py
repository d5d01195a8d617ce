"""``make demo`` installs the package with its ``demo`` extra only: that must be everything the example
project imports (the browser smoke check, run by hand with Playwright, aside)."""

from __future__ import annotations

import ast
import re
import sys
from importlib.metadata import packages_distributions
from pathlib import Path

import pytest

tomllib = pytest.importorskip("tomllib")  # Python 3.11+

ROOT = Path(__file__).resolve().parents[1]
#: Run by hand next to a running demo, with Playwright installed on purpose (README, Development).
MANUAL = {ROOT / "example_project" / "browser_check.py"}


def requirement_name(requirement: str) -> str:
    return re.split(r"[\s<>=!~\[;]", requirement, maxsplit=1)[0].lower().replace("_", "-")


def imported_distributions() -> set[str]:
    distributions = packages_distributions()
    found = set()
    for path in [*(ROOT / "example_project").rglob("*.py"), ROOT / "manage.py"]:
        if path in MANUAL:
            continue
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if isinstance(node, ast.Import):
                modules = [alias.name for alias in node.names]
            elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
                modules = [node.module]
            else:
                continue
            for module in modules:
                top = module.split(".")[0]
                if top in sys.stdlib_module_names or top in ("django_kyc", "example_project"):
                    continue
                found.update(name.lower().replace("_", "-") for name in distributions.get(top, [top]))
    return found


def test_the_demo_extra_covers_what_the_example_project_imports() -> None:
    project = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))["project"]
    installed = {requirement_name(r) for r in project["dependencies"] + project["optional-dependencies"]["demo"]}
    assert "django-environ" in imported_distributions()  # the check sees third-party imports
    assert imported_distributions() <= installed


def test_the_demo_extra_leaves_out_the_development_toolchain() -> None:
    demo = {
        requirement_name(r)
        for r in tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]["optional-dependencies"]["demo"]
    }
    assert not demo & {"pytest", "playwright", "mypy", "ruff", "schemathesis", "django-kyc"}


def test_the_demo_checks_clean_without_encryption_keys_in_the_environment() -> None:
    """The demo sets development keys in its own settings (DEBUG on), so ``make demo`` prints no W020/W021 (one
    copy per process: migrate, runserver and qcluster each printed them before)."""
    import os
    import subprocess

    environment = {
        name: value
        for name, value in os.environ.items()
        if not name.startswith(("KYC_", "DJANGO_")) and name not in ("DEBUG", "DATABASE_URL", "REDIS_URL")
    }
    environment["DJANGO_SETTINGS_MODULE"] = "example_project.settings"
    result = subprocess.run(
        [sys.executable, "manage.py", "check"], cwd=ROOT, env=environment, capture_output=True, text=True, timeout=120
    )
    output = result.stdout + result.stderr
    assert result.returncode == 0, output
    assert "W020" not in output
    assert "W021" not in output
    assert "System check identified no issues" in output
