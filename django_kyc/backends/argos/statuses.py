"""ARGOS's vocabulary and the pure rules over it: ``kyc.result`` → our statuses, ``webhook_trigger`` → our event
types, ``aml.currentstatus`` → AML statuses, and which of a person's several submissions counts. No HTTP and no
database, so every rule here is tested on plain dicts (``tests/backends/test_argos_statuses.py``). The vendor's
pages behind each table are listed in ``docs/providers/argos.md``.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from datetime import datetime
from datetime import timezone as dt_timezone
from typing import Any

from django_kyc.backends.parsing import iso_datetime, mapping, string_list
from django_kyc.status import AmlStatus, VerificationStatus

V = VerificationStatus

#: ``provider_status`` of a verification whose person has not started on the Liveform yet.
NO_SUBMISSION = "no_submission"

#: ``kyc.result`` → our statuses. ``pending`` waits for a person (ARGOS's agents, or ours when the project's
#: reviewer is "Client"); ``incomplete`` means the person stopped mid-flow (ARGOS turns it into ``rejected``
#: after about 24 h). A result we do not know is kept raw and goes to a person (the backend's ``UNKNOWN_STATUS``).
STATUS_MAP: Mapping[str, str] = {
    "approved": V.APPROVED,
    "rejected": V.DECLINED,
    "pending": V.REVIEW,
    "incomplete": V.AWAITING_USER,
}
#: An ``incomplete`` submission whose last attempt failed: what the ``retry`` webhook announces, the person has
#: to try again. ARGOS has no result value of its own for it, so it is read from the attempts.
RETRY_STATUS = V.RESUBMISSION_REQUESTED

#: ``webhook_trigger`` → our event types. None of them carries a state we apply: each one makes the processing
#: task fetch the submissions (fetch-on-notify). What the fetch then finds: ``created`` → ``incomplete``,
#: ``retry`` → :data:`RETRY_STATUS`, ``submit`` → ``pending``, ``approved`` / ``rejected`` → the decision;
#: ``updated`` / ``injection`` / ``delete`` / ``aml`` / ``aml_monitor`` / ``token_expired`` leave the KYC result as
#: it is (AML results are read by AML checks).
TRIGGERS: Mapping[str, str] = {
    "created": "submission.created",
    "retry": "submission.retry",
    "submit": "submission.pending",
    "approved": "submission.approved",
    "rejected": "submission.rejected",
    "updated": "submission.updated",
    "delete": "submission.deleted",
    "injection": "submission.injection",
    "aml": "aml.screened",
    "aml_monitor": "aml.monitoring",
    "token_expired": "token.expired",
}
#: Our decisions as ARGOS review statuses (``POST /submission/review`` knows only these two).
DECISION_MAP: Mapping[str, str] = {V.APPROVED: "approved", V.DECLINED: "rejected"}
#: ``data.idType`` → our document types (anything else is ``other``).
DOCUMENT_TYPES: Mapping[str, str] = {
    "passport": "passport",
    "government_id": "id_card",
    "drivers_license": "driving_licence",
    "residence_permit": "residence_permit",
}
#: ``aml.currentstatus``: ``Not Screened`` is ARGOS's "no red flag raised" (clear), ``Red Flag`` a match. Any
#: other value is a potential match, so a person looks (:func:`aml_status`).
AML_STATUS_MAP: Mapping[str, str] = {
    "Not Screened": AmlStatus.CLEAR,
    "Red Flag": AmlStatus.POTENTIAL_MATCH,
}


def event_type(trigger: str) -> str:
    """Our event type for a ``webhook_trigger``; one ARGOS adds later is kept recognisable, not refused."""
    return TRIGGERS.get(trigger, f"argos.{trigger}")[:128]


def aml_status(current: str) -> str:
    return AML_STATUS_MAP.get(current, AmlStatus.POTENTIAL_MATCH)


def parse_timestamp(value: Any) -> datetime | None:
    """ARGOS's ``YYYY-MM-DD-HH-MM-SS-mmm`` (UTC, as on the GET page) or ISO 8601; ``None`` otherwise."""
    if not isinstance(value, str) or not value.strip():
        return None
    text = value.strip()
    parts = text.split("-")
    if len(parts) in (6, 7) and all(part.isdigit() for part in parts):
        numbers = [int(part) for part in parts]
        millis = numbers[6] if len(numbers) == 7 else 0
        try:
            year, month, day, hour, minute, second = numbers[:6]
            return datetime(year, month, day, hour, minute, second, millis * 1000, tzinfo=dt_timezone.utc)
        except ValueError:
            return None
    return iso_datetime(text)


def result_of(submission: Mapping[str, Any]) -> str:
    """The submission's ``kyc.result`` (``""`` when there is none)."""
    kyc = submission.get("kyc")
    return str(kyc.get("result") or "") if isinstance(kyc, Mapping) else ""


def attempts_of(submission: Mapping[str, Any]) -> list[Mapping[str, Any]]:
    return [item for item in mapping(submission.get("kyc")).get("attempts") or [] if isinstance(item, Mapping)]


def retry_requested(submission: Mapping[str, Any]) -> bool:
    """``incomplete`` with a last attempt that failed (a ``retryCode`` or ``verificationResult: fail``)."""
    attempts = attempts_of(submission)
    if result_of(submission) != "incomplete" or not attempts:
        return False
    last = attempts[-1]
    return bool(string_list(last.get("retryCode"))) or last.get("verificationResult") == "fail"


def sort_key(submission: Mapping[str, Any]) -> tuple[datetime, str]:
    moment = parse_timestamp(submission.get("created_at")) or datetime.min.replace(tzinfo=dt_timezone.utc)
    return moment, str(submission.get("submission_id") or "")


def pick_submission(submissions: Sequence[Mapping[str, Any]]) -> Mapping[str, Any]:
    """ARGOS's FAQ rule: the most recent **approved** submission, else the most recent one. An older
    submission (a late reject of an abandoned attempt) can therefore never displace an approval."""
    approved = [item for item in submissions if result_of(item) == "approved"]
    return max(approved or submissions, key=sort_key)


def latest_update(submissions: Iterable[Mapping[str, Any]]) -> datetime | None:
    """The latest of the submissions' update, decision and creation times (the state's time)."""
    moments = []
    for item in submissions:
        kyc = mapping(item.get("kyc"))
        for value in (item.get("updated_at"), item.get("kyc_result_at"), item.get("created_at"), kyc.get("updated_at")):
            moment = parse_timestamp(value)
            if moment:
                moments.append(moment)
    return max(moments) if moments else None
