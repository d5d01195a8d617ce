"""Veriff's tables and the pure functions over them: no HTTP, no database."""

from __future__ import annotations

import pytest

from django_kyc.backends.veriff import STATUS_MAP, VeriffBackend
from django_kyc.backends.veriff import statuses as s
from django_kyc.backends.veriff.state import decision_state, event_state
from django_kyc.reasons import BUILTIN_REASON_CODES
from django_kyc.status import VerificationStatus

V = VerificationStatus
map_status = VeriffBackend("veriff", {"API_KEY": "k", "SHARED_SECRETS": "s"}).map_status


@pytest.mark.parametrize(
    ("raw", "ours"),
    [
        ("created", V.AWAITING_USER),
        ("started", V.AWAITING_USER),
        ("submitted", V.PROCESSING),
        ("approved", V.APPROVED),
        ("declined", V.DECLINED),
        ("resubmission_requested", V.RESUBMISSION_REQUESTED),
        ("expired", V.EXPIRED),
        ("abandoned", V.EXPIRED),
        ("review", V.REVIEW),
        ("inflow_completed", V.REVIEW),
        ("", V.REVIEW),
    ],
)
def test_every_documented_status_is_mapped_on_its_string(raw: str, ours: str) -> None:
    assert map_status(raw) == ours


def test_the_map_holds_exactly_the_documented_statuses() -> None:
    assert set(STATUS_MAP) == {
        "created",
        "started",
        "submitted",
        "approved",
        "declined",
        "resubmission_requested",
        "expired",
        "abandoned",
        "review",
    }


def test_every_catalogue_code_exists() -> None:
    assert set(s.CATALOGUE_CODES.values()) <= set(BUILTIN_REASON_CODES)


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("code", "expected"),
    [(102, ["DOCUMENT_EDITED"]), ("204", ["DOCUMENT_UNREADABLE"]), (999, ["OTHER"]), (None, [])],
)
def test_reason_codes_are_normalised(code: object, expected: list[str]) -> None:
    assert s.catalogue_codes([s.reason_code(code)]) == expected


@pytest.mark.django_db
def test_a_decision_becomes_a_state_with_its_reason_and_time() -> None:
    answer = {
        "status": "success",
        "verification": {
            "id": "s-1",
            "attemptId": "a-1",
            "status": "resubmission_requested",
            "code": 9103,
            "reason": "Poor image quality",
            "reasonCode": 204,
            "decisionTime": "2026-05-01T10:00:00.000Z",
            "person": {"firstName": "JANE"},
        },
    }
    state = decision_state(answer, map_status, undecided=V.AWAITING_USER)
    assert (state.status, state.provider_status) == (V.RESUBMISSION_REQUESTED, "resubmission_requested")
    assert state.reasons == ("204: Poor image quality",)
    assert state.occurred_at is not None
    assert state.occurred_at.isoformat() == "2026-05-01T10:00:00+00:00"
    assert state.data["veriff"]["reason_codes"] == ["DOCUMENT_UNREADABLE"]
    assert "person" not in state.data["veriff"]  # Veriff keeps what it read; reviewers look there


def test_no_decision_yet_leaves_the_verification_where_it_is() -> None:
    answer = {"status": "success", "verification": None}
    assert decision_state(answer, map_status, undecided=V.PROCESSING).status == V.PROCESSING
    assert decision_state(answer, map_status, undecided=V.AWAITING_USER).provider_status == s.NO_DECISION


def test_an_event_becomes_an_untimed_state() -> None:
    state = event_state({"id": "s", "attemptId": "a", "action": "submitted", "code": 7002}, map_status)
    assert (state.status, state.provider_status, state.occurred_at) == (V.PROCESSING, "submitted", None)


@pytest.mark.parametrize(
    ("content_type", "size", "problem"),
    [
        ("image/jpeg", 1000, ""),
        ("image/heic", 1000, ""),
        ("application/pdf", 18_000_000, ""),  # a PDF must also fit the 24 MB of base64
        ("application/pdf", 20_000_001, "at most 20 MB"),
        ("image/png", 18_000_000, ""),
        ("image/png", 18_000_001, "24 MB"),
        ("image/gif", 10, "not image/gif"),
        ("", 10, "not this type"),
    ],
)
def test_veriffs_media_rules(content_type: str, size: int, problem: str) -> None:
    found = s.file_problem(content_type, size)
    assert (problem in found) if problem else found == ""


def test_base64_grows_by_a_third() -> None:
    assert [s.base64_length(n) for n in (0, 1, 2, 3, 4)] == [0, 4, 4, 4, 8]
