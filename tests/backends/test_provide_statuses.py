"""Provide's status tables on their own: no HTTP, no database."""

from __future__ import annotations

import pytest

from django_kyc.backends.provide import ProvideBackend
from django_kyc.status import VerificationStatus

V = VerificationStatus

#: docs/providers/provide.md, "Statuses"
TABLE = {
    "pending": V.PROCESSING,
    "submitted": V.PROCESSING,
    "review": V.REVIEW,
    "remediate": V.RESUBMISSION_REQUESTED,
    "accepted": V.APPROVED,
    "rejected": V.DECLINED,
    "failed": V.ERROR,
}


def backend() -> ProvideBackend:
    return ProvideBackend("provide", {"TOKEN": "t"})


def test_the_table_is_the_documented_one() -> None:
    assert dict(ProvideBackend.STATUS_MAP) == TABLE


@pytest.mark.parametrize(("raw", "expected"), TABLE.items())
def test_each_status_maps_through_the_base_lookup(raw: str, expected: str) -> None:
    assert backend().map_status(raw) == expected


@pytest.mark.parametrize("raw", ["escalated", "ACCEPTED", "", "completed"])
def test_an_unknown_status_goes_to_a_person(raw: str) -> None:
    assert backend().map_status(raw) == V.REVIEW == ProvideBackend.UNKNOWN_STATUS


def test_pushed_decisions_map_back_to_themselves() -> None:
    """Each decision a reviewer can push is a Provide status that reads back as that same decision, so a
    fetch after the push never moves the verification elsewhere."""
    assert set(ProvideBackend.DECISION_MAP) == {V.APPROVED, V.DECLINED, V.RESUBMISSION_REQUESTED}
    for ours, theirs in ProvideBackend.DECISION_MAP.items():
        assert backend().map_status(theirs) == ours


def test_state_from_keeps_the_raw_status_and_the_description() -> None:
    state = backend().state_from(
        {"id": "a", "status": "remediate", "description": "document photo unreadable", "params": {"x": 1}}
    )
    assert (state.status, state.provider_status) == (V.RESUBMISSION_REQUESTED, "remediate")
    assert list(state.reasons) == ["document photo unreadable"]
    assert state.data["provide"]["status"] == "remediate"
    assert "params" not in state.data["provide"]  # what we sent (photos included) is never echoed into storage
    unknown = backend().state_from({"status": "escalated"})
    assert (unknown.status, unknown.provider_status, list(unknown.reasons)) == (V.REVIEW, "escalated", [])
