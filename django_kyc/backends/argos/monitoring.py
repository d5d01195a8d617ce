"""Reading ARGOS's answer to an ongoing-monitoring enrolment (``POST /submission/aml/monitor/{worklistId}``).

ARGOS's page documents ``{"success", "successCount", "failedCount", "successResults": [{"submissionId",
"recordIds", "status"}], "failedResults": [{..., "error"}]}`` and answers a batch in which every submission
failed with HTTP 500 ``all_submissions_failed``. An answer of another shape must not turn an enrolled
submission into "not enrolled" (a later AML check would then enrol it a second time), so the answer is read
leniently: per-submission items under any of the list keys below, with record ids as ``recordIds`` or
``recordId``, and otherwise the counts (top level or under ``summary``). The backend sends one submission per
request, so a 2xx answer that says nothing readable about it means it was registered: ARGOS reports a batch
with no registration as an error. The page and the shapes read: ``docs/providers/argos.md`` ("AML").
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

ENROLLED = "enrolled"
NOT_ENROLLED = "not_enrolled"
#: The enrolment call got no answer (a timeout, a reset, a 5xx): ARGOS may or may not have registered it.
UNKNOWN = "unknown"

#: Where per-submission items may sit; the first two are the documented ones (success and failure lists).
ITEM_LISTS: tuple[tuple[str, bool | None], ...] = (
    ("successResults", True),
    ("failedResults", False),
    ("results", None),
    ("records", None),
    ("items", None),
    ("data", None),
)
SUCCESS_WORDS = frozenset({"success", "succeeded", "successful", "registered", "enrolled", "ok", "created"})
FAILURE_WORDS = frozenset({"failed", "fail", "failure", "error", "rejected"})


@dataclass(frozen=True)
class Enrolment:
    state: str
    record_ids: Sequence[str] = field(default_factory=tuple)
    error: str = ""

    @property
    def enrolled(self) -> bool:
        return self.state == ENROLLED


def _record_ids(item: Mapping[str, Any]) -> list[str]:
    ids = item.get("recordIds")
    if isinstance(ids, list):
        return [str(value) for value in ids if value not in (None, "")]
    single = item.get("recordId") or item.get("record_id")
    return [str(single)] if single else []


def _item_outcome(item: Mapping[str, Any], listed_as: bool | None) -> bool | None:
    status = str(item.get("status") or "").strip().lower()
    if status in SUCCESS_WORDS:
        return True
    if status in FAILURE_WORDS or item.get("error"):
        return False
    if listed_as is not None:
        return listed_as
    return True if _record_ids(item) else None


def _count(answer: Mapping[str, Any], name: str) -> int | None:
    for source in (answer, answer.get("summary")):
        if isinstance(source, Mapping):
            value = source.get(name)
            if isinstance(value, int) and not isinstance(value, bool):
                return value
    return None


def read_enrolment(answer: Any, submission_id: str) -> Enrolment:
    """What a 2xx enrolment answer says about ``submission_id``."""
    if isinstance(answer, list):
        answer = {"results": answer}
    if not isinstance(answer, Mapping):
        return Enrolment(ENROLLED, error="answer unreadable; a 2xx means ARGOS registered the submission")
    for key, listed_as in ITEM_LISTS:
        items = answer.get(key)
        if not isinstance(items, list):
            continue
        for item in items:
            if not isinstance(item, Mapping):
                continue
            named = str(item.get("submissionId") or item.get("submission_id") or "")
            if named and named != submission_id:
                continue
            outcome = _item_outcome(item, listed_as)
            if outcome is True:
                return Enrolment(ENROLLED, tuple(_record_ids(item)))
            if outcome is False:
                return Enrolment(NOT_ENROLLED, error=str(item.get("error") or item.get("message") or "not enrolled"))
    succeeded, failed = _count(answer, "successCount"), _count(answer, "failedCount")
    if succeeded:
        return Enrolment(ENROLLED)
    if failed or answer.get("success") is False:
        message = answer.get("error") or answer.get("message") or "not enrolled"
        return Enrolment(NOT_ENROLLED, error=str(message))
    return Enrolment(ENROLLED, error="answer names no result; a 2xx means ARGOS registered the submission")
