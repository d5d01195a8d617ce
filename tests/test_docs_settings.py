"""The README's settings table is ``django_kyc.conf.SETTINGS``: every key, its default, its description."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from django_kyc import conf
from django_kyc.docs import documented_settings, settings_table, with_settings_table

ROOT = Path(__file__).resolve().parents[1]
README = ROOT / "README.md"


def test_the_readme_table_is_the_declared_settings() -> None:
    table = documented_settings(README.read_text(encoding="utf-8"))
    assert table is not None, "README.md lost its settings table markers"
    assert table == settings_table(), "python -m django_kyc.docs settings --update README.md"
    listed = [line.split("`")[1] for line in table.splitlines()[2:]]
    assert listed == list(conf.DEFAULTS)


def test_every_setting_is_declared_once_with_a_description() -> None:
    names = [setting.name for setting in conf.SETTINGS]
    assert len(names) == len(set(names))
    assert all(setting.doc.strip() for setting in conf.SETTINGS)


def test_a_key_missing_from_the_readme_is_caught() -> None:
    """The check can fail: a table without one of the keys is not what the declarations render."""
    page = with_settings_table("# x\n<!-- settings (generated) -->\n<!-- /settings -->\n", settings_table())
    shortened = "\n".join(line for line in page.splitlines() if "`ENCRYPTION_KEYS`" not in line) + "\n"
    assert documented_settings(page) == settings_table()
    assert documented_settings(shortened) != settings_table()


@pytest.mark.parametrize("args", [[], ["--update", "README.md"]])
def test_the_generator_runs_without_django_settings(tmp_path: Path, args: list[str]) -> None:
    page = tmp_path / "README.md"
    page.write_text("# Settings\n\n<!-- settings (generated) -->\n| old |\n<!-- /settings -->\n\nThe rest.\n")
    env = {key: value for key, value in os.environ.items() if key != "DJANGO_SETTINGS_MODULE"}
    command = [sys.executable, "-m", "django_kyc.docs", "settings", *args]
    result = subprocess.run(command, cwd=tmp_path, env=env, capture_output=True, text=True, check=True)
    if args:
        assert page.read_text() == with_settings_table(page.read_text(), settings_table())
        assert page.read_text().endswith("<!-- /settings -->\n\nThe rest.\n")
        assert "| old |" not in page.read_text()
    else:
        assert result.stdout == settings_table()
