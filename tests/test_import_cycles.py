"""The package's import graph has no cycle, function-level imports included (``scripts/check_import_cycles.py``)."""

from __future__ import annotations

import importlib.util
from pathlib import Path
from types import ModuleType

import pytest

ROOT = Path(__file__).resolve().parents[1]


def checker() -> ModuleType:
    spec = importlib.util.spec_from_file_location("check_import_cycles", ROOT / "scripts" / "check_import_cycles.py")
    assert spec is not None
    assert spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def write(root: Path, files: dict[str, str]) -> Path:
    for name, text in files.items():
        path = root / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text, encoding="utf-8")
    return root / "pkg"


def test_django_kyc_has_no_import_cycle(capsys: pytest.CaptureFixture[str]) -> None:
    assert checker().main(["check", str(ROOT / "django_kyc")]) == 0
    assert capsys.readouterr().out.startswith("import cycles: none")


def test_a_lazy_import_closing_a_cycle_is_found(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    """The two cycles the review found were both closed by imports inside functions."""
    package = write(
        tmp_path,
        {
            "pkg/__init__.py": "",
            "pkg/models.py": "def save():\n    from pkg.services import rule\n",
            "pkg/services.py": "from pkg import models\n\ndef rule():\n    return models\n",
        },
    )
    assert checker().main(["check", str(package)]) == 1
    out = capsys.readouterr().out
    assert "cycle 1: 2 modules" in out
    assert "pkg.models -> pkg.services" in out
    assert "pkg.services -> pkg.models" in out


def test_type_checking_imports_and_relative_imports(tmp_path: Path) -> None:
    package = write(
        tmp_path,
        {
            "pkg/__init__.py": "",
            "pkg/a.py": "from typing import TYPE_CHECKING\nif TYPE_CHECKING:\n    from pkg import b\n",
            "pkg/b.py": "from . import a\nfrom .sub import c\n",
            "pkg/sub/__init__.py": "",
            "pkg/sub/c.py": "from ..b import thing\n",
        },
    )
    module = checker()
    graph, _ = module.build_graph(package)
    assert graph["pkg.a"] == set()  # annotations only: never imported at run time
    assert graph["pkg.b"] == {"pkg.a", "pkg.sub.c"}
    assert graph["pkg.sub.c"] == {"pkg.b"}
    assert module.cycles(graph) == [["pkg.b", "pkg.sub.c"]]
