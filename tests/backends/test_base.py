"""The conventions on :class:`KycBackend`: one status map, the HTTP timeouts, and no model writes."""

from __future__ import annotations

import ast
from collections.abc import Hashable, Iterable
from pathlib import Path
from typing import Any

import pytest
from django.test import override_settings

from django_kyc.backends.base import KycBackend
from django_kyc.backends.passportreader import PassportReaderBackend
from django_kyc.backends.provide import ProvideBackend
from django_kyc.backends.sandbox import SandboxBackend
from django_kyc.services.retry import provider_call_lease
from django_kyc.status import VerificationStatus
from tests.support.kyc_settings import kyc_settings_with, suite_backends

V = VerificationStatus
BACKENDS = Path(__file__).resolve().parents[2] / "django_kyc" / "backends"


# --- one status map -----------------------------------------------------------------------------------------


def test_the_status_map_maps_and_anything_else_goes_to_a_person() -> None:
    sandbox = SandboxBackend("s", {})
    assert sandbox.map_status("approved") == V.APPROVED
    assert sandbox.map_status("something_new") == V.REVIEW == KycBackend.UNKNOWN_STATUS
    provide = ProvideBackend("p", {"TOKEN": "t"})
    assert provide.map_status("remediate") == V.RESUBMISSION_REQUESTED
    assert PassportReaderBackend("r", {"PUBLIC_KEY": "p", "SECRET": "s"}).map_status("ABORTED") == (
        V.RESUBMISSION_REQUESTED
    )


class KeyedByVerdict(KycBackend):
    """A table keyed on (status, verdict) where only a final status must match its verdict exactly."""

    STATUS_MAP = {
        ("done", True): V.APPROVED,
        ("done", False): V.DECLINED,
        ("waiting", None): V.PROCESSING,
    }

    def status_keys(self, raw: str, *qualifiers: Any) -> Iterable[Hashable]:
        verdict = qualifiers[0] if qualifiers else None
        return ((raw, verdict),) if raw == "done" else ((raw, verdict), (raw, None))


class UpperCase(KycBackend):
    """A provider whose statuses are one word in any case."""

    STATUS_MAP = {"APPROVED": V.APPROVED, "REJECTED": V.DECLINED}

    def status_keys(self, raw: str, *qualifiers: Any) -> Iterable[Hashable]:
        return (raw.upper(),)


@pytest.mark.parametrize(
    ("status", "verdict", "expected"),
    [
        ("done", True, V.APPROVED),
        ("done", False, V.DECLINED),
        ("done", None, V.REVIEW),  # a final status without a verdict is never guessed
        ("waiting", None, V.PROCESSING),
        ("waiting", True, V.PROCESSING),  # the verdict-less key is tried second
        ("unheard_of", True, V.REVIEW),
    ],
)
def test_status_keys_are_tried_in_order_then_the_fallback(status: str, verdict: bool | None, expected: str) -> None:
    assert KeyedByVerdict("k", {}).map_status(status, verdict) == expected


@pytest.mark.parametrize(
    ("raw", "expected"), [("approved", V.APPROVED), ("Rejected", V.DECLINED), ("PAUSED", V.REVIEW)]
)
def test_status_keys_can_normalise_the_raw_status(raw: str, expected: str) -> None:
    assert UpperCase("u", {}).map_status(raw) == expected


# --- timeouts, read through the declaration -------------------------------------------------------------------


@pytest.mark.parametrize(
    ("options", "expected"),
    [
        ({}, (10.0, 60.0)),  # the provider's guidance
        ({"READ_TIMEOUT": 20}, (10.0, 20.0)),
        ({"CONNECT_TIMEOUT": "2", "READ_TIMEOUT": 3}, (2.0, 3.0)),
    ],
)
def test_timeouts_come_from_the_options_then_the_providers_guidance(
    options: dict[str, Any], expected: tuple[float, float]
) -> None:
    backend = PassportReaderBackend("r", {"PUBLIC_KEY": "p", "SECRET": "s", **options})
    assert backend.timeouts() == expected
    assert backend.client.timeout == expected
    assert PassportReaderBackend.timeouts_for({"PUBLIC_KEY": "p", **options}) == expected


def test_without_guidance_or_options_the_global_timeouts_apply() -> None:
    sandbox = SandboxBackend("s", {})
    assert sandbox.timeouts() is None
    assert sandbox.http_client("https://example.invalid")._timeout() == (5.0, 10.0)  # DJANGO_KYC, tests/settings.py
    # one of the two set: the other comes from DJANGO_KYC, not from a constant
    with override_settings(DJANGO_KYC=kyc_settings_with(HTTP_CONNECT_TIMEOUT=7)):
        assert SandboxBackend("s", {"READ_TIMEOUT": 2}).timeouts() == (7.0, 2.0)


def test_the_lease_covers_the_configured_timeouts() -> None:
    """A site that lets a provider take 120 s gets a lease longer than two such calls."""
    slow = {"CLASS": "django_kyc.backends.sandbox.SandboxBackend", "OPTIONS": {"READ_TIMEOUT": 120}}
    with override_settings(DJANGO_KYC=kyc_settings_with(BACKENDS=suite_backends(slow=slow))):
        assert provider_call_lease("slow").total_seconds() >= 2 * (5 + 120)
        assert provider_call_lease("sandbox").total_seconds() < 2 * (5 + 120)


# --- backends take and return values; the services persist ------------------------------------------------------

WRITES = {"update", "create", "save", "delete", "bulk_create", "bulk_update", "get_or_create", "update_or_create"}


def model_writes() -> set[tuple[str, str, str]]:
    """(module, function, method) of every ORM write in ``django_kyc/backends``: a call of a write method on
    ``<Model>.objects…`` or on a locked row."""
    found = set()
    for path in BACKENDS.rglob("*.py"):
        tree = ast.parse(path.read_text(encoding="utf-8"))
        for function in ast.walk(tree):
            if not isinstance(function, ast.FunctionDef):
                continue
            for node in ast.walk(function):
                if not (isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute)):
                    continue
                chain = ast.unparse(node.func)
                if ".objects" in chain and (node.func.attr in WRITES or node.func.attr == "select_for_update"):
                    found.add((path.relative_to(BACKENDS).as_posix(), function.name, node.func.attr))
    return found


def test_backends_write_no_model_rows() -> None:
    """Provider ids go through ``remember*`` (:mod:`django_kyc.services.checkpoints` writes them) and states
    through the transition service; reads (``.filter().exists()``) are fine."""
    assert model_writes() == set()


def test_no_backend_reads_the_audit_trail() -> None:
    """A backend that needs a reviewer's words gets them with the decision (``push_decision(…, reason=…)``)."""
    for path in BACKENDS.rglob("*.py"):
        assert "AuditEvent" not in path.read_text(encoding="utf-8"), path.name


def test_no_backend_changes_a_status() -> None:
    """Statuses change in the transition service only; a backend returns what the provider said instead."""
    for path in BACKENDS.rglob("*.py"):
        tree = ast.parse(path.read_text(encoding="utf-8"))
        imported = {
            alias.name if isinstance(node, ast.Import) else f"{node.module}.{alias.name}"
            for node in ast.walk(tree)
            if isinstance(node, ast.Import | ast.ImportFrom)
            for alias in node.names
        }
        assert not any("transitions" in name for name in imported), path.relative_to(BACKENDS)
