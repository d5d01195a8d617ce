"""The capability vocabulary is closed, and every word of it changes what the core does."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest
from django.utils.module_loading import import_string

from django_kyc.backends.base import KycBackend
from django_kyc.backends.capabilities import SHIPPED_BACKENDS, Capability, as_capabilities

PACKAGE = Path(__file__).resolve().parents[2] / "django_kyc"


def core_reads() -> dict[str, set[str]]:
    """``Capability.X`` references outside the backends (and the fake servers), by member name → modules."""
    found: dict[str, set[str]] = {}
    for path in PACKAGE.rglob("*.py"):
        relative = path.relative_to(PACKAGE).as_posix()
        if relative.startswith(("backends/", "testing/", "migrations/")):
            continue
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if isinstance(node, ast.Attribute) and isinstance(node.value, ast.Name) and node.value.id == "Capability":
                found.setdefault(node.attr, set()).add(relative)
    return found


@pytest.mark.parametrize("member", list(Capability), ids=lambda member: member.value)
def test_every_capability_is_read_by_the_core(member: Capability) -> None:
    """A capability nothing reads would be a promise the core never checks: each one is asked about by a
    module outside ``backends/`` before the core relies on it."""
    assert core_reads().get(member.name), f"Capability.{member.name} is read nowhere outside django_kyc/backends"


def test_the_core_reads_no_capability_by_a_bare_string() -> None:
    """``supports("polling")`` still works (a Capability is a str), but the core spells members, so a search for
    ``Capability.POLLING`` finds every reader."""
    values = {member.value for member in Capability}
    offenders = []
    for path in PACKAGE.rglob("*.py"):
        relative = path.relative_to(PACKAGE).as_posix()
        if relative.startswith(("backends/", "testing/", "migrations/")):
            continue
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if (
                isinstance(node, ast.Call)
                and isinstance(node.func, ast.Attribute)
                and node.func.attr == "supports"
                and any(isinstance(arg, ast.Constant) and arg.value in values for arg in node.args)
            ):
                offenders.append(f"{relative}:{node.lineno}")
    assert offenders == [], offenders


@pytest.mark.parametrize("path", SHIPPED_BACKENDS)
def test_shipped_backends_declare_members(path: str) -> None:
    cls = import_string(path)
    assert cls.capabilities, path
    assert all(isinstance(capability, Capability) for capability in cls.capabilities)
    assert set(cls.capability_notes) <= cls.capabilities


def test_a_declaration_in_strings_becomes_members() -> None:
    class Strings(KycBackend):
        capabilities = frozenset({"polling", "hosted_flow"})

    assert Strings.capabilities == {Capability.POLLING, Capability.HOSTED_FLOW}
    backend = Strings("s", {})
    assert backend.supports(Capability.POLLING)
    assert backend.supports("polling")
    assert not backend.supports(Capability.WEBHOOKS)


def test_an_unknown_capability_fails_when_the_class_is_defined() -> None:
    """``document_crud`` and ``restore`` were declared but read by nothing; they are gone from the vocabulary."""
    with pytest.raises(ValueError, match="'restore' is not a valid Capability; a backend's capabilities are among"):
        as_capabilities({"polling", "restore"})
