"""The docs tables that come from declarations: each provider page's options, and the README's matrix."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest
from django.utils.module_loading import import_string

from django_kyc.backends.capabilities import SHIPPED_BACKENDS
from django_kyc.backends.docs import capability_matrix, documented_matrix, documented_options, options_table

ROOT = Path(__file__).resolve().parents[2]
PAGES = sorted((ROOT / "docs" / "providers").glob("*.md"))
REGENERATE = "python -m django_kyc.backends.docs options {path} --update {page}"


def documented() -> dict[str, tuple[Path, str]]:
    tables = {}
    for page in PAGES:
        for path, table in documented_options(page.read_text(encoding="utf-8")).items():
            tables[path] = (page, table)
    return tables


@pytest.mark.parametrize("path", SHIPPED_BACKENDS)
def test_each_provider_page_lists_exactly_the_declared_options(path: str) -> None:
    tables = documented()
    assert path in tables, f"no docs page carries the options table of {path}"
    page, table = tables[path]
    cls = import_string(path)
    assert table == options_table(cls.declared_options.values()), REGENERATE.format(
        path=path, page=page.relative_to(ROOT)
    )
    listed = [line.split("`")[1] for line in table.splitlines()[2:]]
    assert listed == list(cls.declared_options)


def test_the_readme_matrix_is_the_backends_declarations() -> None:
    table = documented_matrix((ROOT / "README.md").read_text(encoding="utf-8"))
    assert table is not None, "README.md lost its capability matrix markers"
    expected = capability_matrix(SHIPPED_BACKENDS)
    assert table == expected, "python -m django_kyc.backends.docs matrix --update README.md"


def test_the_generator_runs_without_django_settings(tmp_path: Path) -> None:
    """A contributor regenerates a page from a shell, no settings module around; and ``--update`` rewrites
    only the table between the markers."""
    path = "django_kyc.backends.provide.ProvideBackend"
    page = tmp_path / "provide.md"
    page.write_text(
        f"# Provide\n\n<!-- options: {path} (generated) -->\n| old |\n<!-- /options -->\n\nThe rest.\n",
        encoding="utf-8",
    )
    env = {key: value for key, value in os.environ.items() if key != "DJANGO_SETTINGS_MODULE"}
    command = [sys.executable, "-W", "error::RuntimeWarning", "-m", "django_kyc.backends.docs", "options", path]
    printed = subprocess.run(command, cwd=ROOT, env=env, capture_output=True, text=True, check=True)
    assert printed.stdout == options_table(import_string(path).declared_options.values())
    subprocess.run([*command, "--update", str(page)], cwd=ROOT, env=env, capture_output=True, text=True, check=True)
    text = page.read_text(encoding="utf-8")
    assert text.startswith("# Provide\n\n<!-- options: ")
    assert text.endswith("<!-- /options -->\n\nThe rest.\n")
    assert documented_options(text) == {path: printed.stdout}
