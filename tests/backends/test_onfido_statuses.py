"""Onfido's status tables and the pure functions over them: no HTTP, no database."""

from __future__ import annotations

import pytest

from django_kyc.backends.onfido.statuses import (
    CHECK_STATUS,
    REPORT_STATUS,
    RESULT,
    SUB_RESULT,
    WORKFLOW_RUN_STATUS,
    check_status,
    report_status,
    workflow_run_status,
)
from django_kyc.status import VerificationStatus

V = VerificationStatus

#: The enums of Onfido's OpenAPI specification (v3.6), verbatim: every value has a row.
SPEC_RUN_STATUSES = {
    "processing",
    "awaiting_input",
    "awaiting_client_input",
    "approved",
    "declined",
    "review",
    "abandoned",
    "error",
}
SPEC_CHECK_STATUSES = {"in_progress", "awaiting_applicant", "complete", "withdrawn", "paused", "reopened"}
SPEC_REPORT_STATUSES = {"awaiting_data", "awaiting_approval", "cancelled", "complete", "withdrawn"}
SPEC_REPORT_RESULTS = {"clear", "consider", "unidentified"}
SPEC_SUB_RESULTS = {"clear", "rejected", "suspected", "caution"}


def test_every_documented_value_has_a_row() -> None:
    assert set(WORKFLOW_RUN_STATUS) == SPEC_RUN_STATUSES
    assert set(CHECK_STATUS) | {"complete"} == SPEC_CHECK_STATUSES
    assert set(REPORT_STATUS) | {"complete"} == SPEC_REPORT_STATUSES
    assert set(RESULT) == SPEC_REPORT_RESULTS
    assert set(SUB_RESULT) == SPEC_SUB_RESULTS
    every = [*WORKFLOW_RUN_STATUS.values(), *CHECK_STATUS.values(), *REPORT_STATUS.values(), *RESULT.values()]
    assert set(every) <= set(V.values)


@pytest.mark.parametrize(
    ("status", "result", "expected"),
    [
        ("in_progress", None, V.PROCESSING),
        ("awaiting_applicant", None, V.AWAITING_USER),
        ("complete", "clear", V.APPROVED),
        ("complete", "consider", V.REVIEW),  # Onfido never declines: a person decides
        ("withdrawn", None, V.CANCELLED),
        ("paused", None, V.REVIEW),
        ("reopened", "consider", V.REVIEW),
        ("in_progress", "clear", V.PROCESSING),  # a result counts only once the check is complete
        ("complete", None, V.REVIEW),  # complete without a result: nobody decided
        ("complete", "unidentified", V.REVIEW),
        ("complete", "maybe", V.REVIEW),
        ("archived", None, V.REVIEW),  # a status Onfido adds later
        ("", None, V.REVIEW),
    ],
)
def test_check_status(status: str, result: str | None, expected: str) -> None:
    assert check_status(status, result) == expected


@pytest.mark.parametrize(
    ("status", "result", "sub_result", "expected"),
    [
        ("awaiting_data", None, None, V.PROCESSING),
        ("awaiting_approval", None, None, V.REVIEW),
        ("cancelled", None, None, V.CANCELLED),
        ("withdrawn", None, None, V.CANCELLED),
        ("complete", "clear", None, V.APPROVED),
        ("complete", "consider", None, V.REVIEW),
        ("complete", "unidentified", None, V.REVIEW),
        ("complete", "clear", "clear", V.APPROVED),
        ("complete", "consider", "rejected", V.RESUBMISSION_REQUESTED),  # an unreadable picture: try again
        ("complete", "consider", "suspected", V.REVIEW),
        ("complete", "consider", "caution", V.REVIEW),
        ("complete", "consider", "clear", V.REVIEW),  # a contradiction: the result wins
        ("complete", "consider", "new_sub_result", V.REVIEW),
        ("complete", None, None, V.REVIEW),
        ("awaiting_data", "clear", "clear", V.PROCESSING),
        ("queued", None, None, V.REVIEW),
    ],
)
def test_report_status(status: str, result: str | None, sub_result: str | None, expected: str) -> None:
    assert report_status(status, result, sub_result) == expected


@pytest.mark.parametrize(
    ("status", "expected"),
    [
        ("awaiting_input", V.AWAITING_USER),
        ("awaiting_client_input", V.PROCESSING),  # the integrator's task, not the person's
        ("processing", V.PROCESSING),
        ("review", V.REVIEW),
        ("approved", V.APPROVED),
        ("declined", V.DECLINED),
        ("abandoned", V.EXPIRED),
        ("error", V.ERROR),
        ("paused_forever", V.REVIEW),
    ],
)
def test_workflow_run_status(status: str, expected: str) -> None:
    assert workflow_run_status(status) == expected
