"""ARGOS's status tables and the pure rules over them, on plain dicts: no HTTP, no database."""

from __future__ import annotations

from datetime import datetime, timezone
from typing import Any

import pytest

from django_kyc.backends.argos import ArgosBackend
from django_kyc.backends.argos.state import build_state, no_submission
from django_kyc.backends.argos.statuses import (
    AML_STATUS_MAP,
    DECISION_MAP,
    NO_SUBMISSION,
    RETRY_STATUS,
    STATUS_MAP,
    TRIGGERS,
    aml_status,
    event_type,
    latest_update,
    parse_timestamp,
    pick_submission,
    result_of,
    retry_requested,
)
from django_kyc.status import AmlStatus, DocumentStatus, VerificationStatus

V = VerificationStatus


def backend() -> ArgosBackend:
    return ArgosBackend("argos", {"API_KEY": "k", "PROJECT_ID": "p"})


def submission(result: str, created: str = "2024-05-01-10-00-00-000", **fields: Any) -> dict[str, Any]:
    return {"submission_id": f"s-{result}-{created}", "created_at": created, "kyc": {"result": result}, **fields}


@pytest.mark.parametrize(
    ("result", "status"),
    [("approved", V.APPROVED), ("rejected", V.DECLINED), ("pending", V.REVIEW), ("incomplete", V.AWAITING_USER)],
)
def test_every_documented_result_has_a_status(result: str, status: str) -> None:
    assert STATUS_MAP[result] == status
    assert backend().map_status(result) == status


@pytest.mark.parametrize("result", ["on_hold", "", "Approved", "deleted"])
def test_a_result_we_do_not_know_goes_to_a_person(result: str) -> None:
    assert backend().map_status(result) == V.REVIEW == ArgosBackend.UNKNOWN_STATUS


def test_the_backend_table_is_the_statuses_table() -> None:
    assert ArgosBackend.STATUS_MAP == STATUS_MAP


@pytest.mark.parametrize(
    ("attempts", "expected"),
    [
        ([], False),
        ([{"attemptCnt": 1, "verificationResult": "fail"}], True),
        ([{"attemptCnt": 1, "retryCode": ["liveness_error"]}], True),
        ([{"attemptCnt": 1, "retryCode": "liveness_error"}], True),  # a string on the field table
        ([{"attemptCnt": 1, "retryCode": ["x"]}, {"attemptCnt": 2, "verificationResult": "success"}], False),
        ([{}], False),
    ],
)
def test_an_incomplete_submission_whose_last_attempt_failed_asks_for_a_retry(
    attempts: list[dict[str, Any]], expected: bool
) -> None:
    item = submission("incomplete", kyc={"result": "incomplete", "attempts": attempts})
    assert retry_requested(item) is expected
    assert build_state(item, [item], backend().map_status).status == (RETRY_STATUS if expected else V.AWAITING_USER)


def test_only_incomplete_submissions_ask_for_a_retry() -> None:
    failed = [{"attemptCnt": 1, "verificationResult": "fail"}]
    assert not retry_requested({"kyc": {"result": "rejected", "attempts": failed}})


def test_the_retry_state_gives_the_retry_codes_as_reasons() -> None:
    attempts = [{"attemptCnt": 1, "retryCode": ["liveness_error"], "livenessScore": 0.21}]
    item = submission("incomplete", kyc={"result": "incomplete", "attempts": attempts})
    state = build_state(item, [], backend().map_status)
    assert (state.status, state.provider_status) == (V.RESUBMISSION_REQUESTED, "incomplete")
    assert state.reasons == ("liveness_error", "liveness_score:0.21")


def test_no_submission_waits_for_the_person() -> None:
    state = no_submission()
    assert (state.status, state.provider_status) == (V.AWAITING_USER, NO_SUBMISSION)


def test_the_most_recent_approved_submission_wins_over_later_ones() -> None:
    approved = submission("approved", "2024-05-01-10-00-00-000")
    later_reject = submission("rejected", "2024-05-02-10-00-00-000")
    older_approval = submission("approved", "2024-04-01-10-00-00-000")
    assert pick_submission([older_approval, later_reject, approved]) is approved
    pending = submission("pending", "2024-05-03-10-00-00-000")
    assert pick_submission([later_reject, pending]) is pending  # no approval: the most recent


def test_result_of_tolerates_a_missing_or_odd_kyc_block() -> None:
    assert result_of({}) == ""
    assert result_of({"kyc": None}) == ""
    assert result_of({"kyc": {"result": "approved"}}) == "approved"


def test_an_approval_keeps_the_document_and_the_birth_date() -> None:
    item = submission(
        "approved",
        data={"documentNumber": " 925076473 ", "idType": "government_id", "date_of_birth": "1990-02-03"},
        updated_at="2024-05-01-11-00-00-000",
    )
    state = build_state(item, [item], backend().map_status)
    (document,) = state.documents
    assert (document.status, document.fields["type"], document.fields["number"]) == (
        DocumentStatus.ACCEPTED,
        "id_card",
        "925076473",
    )
    assert str(state.applicant_data["date_of_birth"]) == "1990-02-03"
    assert state.occurred_at == datetime(2024, 5, 1, 11, tzinfo=timezone.utc)
    assert state.data["argos"]["submissions"][0]["updated_at"] == "2024-05-01T11:00:00+00:00"


def test_a_state_without_a_result_says_so() -> None:
    assert build_state({"submission_id": "s"}, [], backend().map_status).provider_status == "(empty)"


@pytest.mark.parametrize(("trigger", "expected"), [*TRIGGERS.items(), ("new_trigger", "argos.new_trigger")])
def test_every_trigger_has_an_event_type(trigger: str, expected: str) -> None:
    assert event_type(trigger) == expected


def test_decisions_map_to_the_two_review_statuses() -> None:
    assert DECISION_MAP == {V.APPROVED: "approved", V.DECLINED: "rejected"}


@pytest.mark.parametrize(
    ("current", "status"),
    [
        ("Not Screened", AmlStatus.CLEAR),
        ("Red Flag", AmlStatus.POTENTIAL_MATCH),
        ("Screening", AmlStatus.POTENTIAL_MATCH),
    ],
)
def test_aml_statuses_and_unknown_ones_go_to_a_person(current: str, status: str) -> None:
    assert aml_status(current) == status
    assert set(AML_STATUS_MAP) == {"Not Screened", "Red Flag"}


def test_timestamps_in_argos_format_and_iso() -> None:
    assert parse_timestamp("2024-05-01-12-30-45-123") == datetime(2024, 5, 1, 12, 30, 45, 123000, tzinfo=timezone.utc)
    assert parse_timestamp("2024-05-01T12:30:45Z") == datetime(2024, 5, 1, 12, 30, 45, tzinfo=timezone.utc)
    assert parse_timestamp("yesterday") is None


@pytest.mark.parametrize("value", ["2024-13-01-00-00-00-000", "", None, 20240501, "2024-05-01-12-30"])
def test_unusable_timestamps_are_none(value: Any) -> None:
    assert parse_timestamp(value) is None


def test_latest_update_reads_every_time_field() -> None:
    items = [
        {"created_at": "2024-05-01-10-00-00-000"},
        {"kyc_result_at": "2024-05-03-10-00-00-000", "updated_at": "garbage"},
        {"kyc": {"updated_at": "2024-05-02T10:00:00Z"}},
    ]
    assert latest_update(items) == datetime(2024, 5, 3, 10, tzinfo=timezone.utc)
    assert latest_update([]) is None
