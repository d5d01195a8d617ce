"""Reading ARGOS's enrolment answer leniently: the documented shape and the plausible others."""

from __future__ import annotations

from typing import Any

import pytest

from django_kyc.backends.argos.monitoring import ENROLLED, NOT_ENROLLED, read_enrolment

SUB = "sub-1"


@pytest.mark.parametrize(
    ("answer", "state", "records"),
    [
        pytest.param(
            {
                "success": True,
                "successCount": 1,
                "failedCount": 0,
                "successResults": [{"submissionId": SUB, "recordIds": ["r1"], "status": "success"}],
                "failedResults": [],
            },
            ENROLLED,
            ["r1"],
            id="documented",
        ),
        pytest.param(
            {
                "success": False,
                "successCount": 0,
                "failedCount": 1,
                "successResults": [],
                "failedResults": [{"submissionId": SUB, "recordIds": [], "status": "failed", "error": "not approved"}],
            },
            NOT_ENROLLED,
            [],
            id="documented-failure",
        ),
        pytest.param({"results": [{"submissionId": SUB, "recordId": "r2"}]}, ENROLLED, ["r2"], id="results-recordId"),
        pytest.param(
            {"results": [{"submission_id": SUB, "status": "FAILED", "message": "x"}]},
            NOT_ENROLLED,
            [],
            id="results-fail",
        ),
        pytest.param({"summary": {"successCount": 1, "failedCount": 0}}, ENROLLED, [], id="summary"),
        pytest.param({"summary": {"successCount": 0, "failedCount": 1}}, NOT_ENROLLED, [], id="summary-failed"),
        pytest.param([{"submissionId": SUB, "recordIds": ["r3"]}], ENROLLED, ["r3"], id="bare-list"),
        pytest.param({"success": False}, NOT_ENROLLED, [], id="success-false"),
        pytest.param({}, ENROLLED, [], id="empty-2xx"),
        pytest.param("OK", ENROLLED, [], id="not-json-object"),
    ],
)
def test_enrolment_answers(answer: Any, state: str, records: list[str]) -> None:
    enrolment = read_enrolment(answer, SUB)
    assert (enrolment.state, list(enrolment.record_ids)) == (state, records)
    assert enrolment.enrolled == (state == ENROLLED)


def test_items_of_other_submissions_are_not_ours() -> None:
    answer = {
        "successResults": [{"submissionId": "other", "recordIds": ["x"], "status": "success"}],
        "failedResults": [{"submissionId": SUB, "status": "failed", "error": "no birth date"}],
    }
    assert read_enrolment(answer, SUB).state == NOT_ENROLLED
    assert read_enrolment(answer, SUB).error == "no birth date"
