"""A verification's state from its ARGOS submissions: the chosen submission's status and reasons, what is kept
for reviewers (``provider_data["argos"]``), and the document and birth date an approval establishes. Pure: the
submissions come in as read from ``GET /submission`` (the fields: ``docs/providers/argos.md``, "Statuses").

Kept for reviewers: the result, comment codes, reviewer, each attempt's retry codes and liveness /
face-similarity scores, and the list of the user's submissions. Not kept: images, identity numbers, IP
addresses (data minimisation).
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from datetime import datetime
from typing import Any

from django_kyc.backends.argos.statuses import (
    DOCUMENT_TYPES,
    NO_SUBMISSION,
    RETRY_STATUS,
    attempts_of,
    latest_update,
    result_of,
    retry_requested,
    sort_key,
)
from django_kyc.backends.parsing import iso_date, mapping, number, string_list
from django_kyc.backends.values import DocumentResult, ProviderState
from django_kyc.status import DocumentStatus, VerificationStatus


def no_submission() -> ProviderState:
    """The person has not started on the Liveform: nothing exists at ARGOS yet."""
    return ProviderState(status=VerificationStatus.AWAITING_USER, provider_status=NO_SUBMISSION)


def build_state(
    submission: Mapping[str, Any],
    submissions: Sequence[Mapping[str, Any]],
    map_status: Callable[[str], str],
) -> ProviderState:
    """The state of ``submission``, the one :func:`~.statuses.pick_submission` chose among ``submissions`` (all
    of the verification's); ``map_status`` is the backend's, so a subclass's table applies."""
    raw = result_of(submission)
    kyc = mapping(submission.get("kyc"))
    attempts = attempts_of(submission)
    last = attempts[-1] if attempts else {}
    status = map_status(raw)
    reasons = string_list(kyc.get("commentCode"))
    if retry_requested(submission):
        status = RETRY_STATUS
        reasons = reasons or string_list(last.get("retryCode"))
    liveness = number(last.get("livenessScore"))
    if liveness is None and isinstance(last.get("liveness"), Mapping):
        liveness = number(last["liveness"].get("score"))
    similarity = number(last.get("faceSimilarityScore"))
    if liveness is not None:
        reasons.append(f"liveness_score:{liveness:g}")
    if similarity is not None:
        reasons.append(f"face_similarity_score:{similarity:g}")
    every = submissions or [submission]
    argos = {
        "submission_id": str(submission.get("submission_id") or ""),
        "applicant_id": str(submission.get("applicant_id") or ""),
        "result": raw,
        "comment": string_list(kyc.get("comment")),
        "comment_code": string_list(kyc.get("commentCode")),
        "reviewer": str(submission.get("reviewer") or ""),
        "attempts": [_attempt(item) for item in attempts],
        "liveness_score": liveness,
        "face_similarity_score": similarity,
        "submissions": [_listed(item) for item in sorted(every, key=sort_key)],
    }
    data = mapping(submission.get("data"))
    document = document_result(submission, data, raw) if raw in ("approved", "rejected") else None
    birth_date = iso_date(data.get("date_of_birth")) if raw == "approved" else None
    return ProviderState(
        status=status,
        provider_status=raw or "(empty)",
        reasons=tuple(reasons),
        occurred_at=latest_update(every),
        documents=(document,) if document else (),
        data={"argos": argos},
        applicant_data={"date_of_birth": birth_date} if birth_date else {},
    )


def _attempt(item: Mapping[str, Any]) -> dict[str, Any]:
    return {
        "attempt": item.get("attemptCnt"),
        "verification_result": item.get("verificationResult"),
        "retry_code": string_list(item.get("retryCode")),
        "error_code": string_list(item.get("errorCode")),
        "liveness_score": number(item.get("livenessScore")),
        "face_similarity_score": number(item.get("faceSimilarityScore")),
    }


def _listed(item: Mapping[str, Any]) -> dict[str, Any]:
    return {
        "submission_id": str(item.get("submission_id") or ""),
        "result": result_of(item),
        "created_at": item.get("created_at"),
        "updated_at": _isoformat(latest_update([item])),
    }


def _isoformat(moment: datetime | None) -> str:
    return moment.isoformat() if moment else ""


def document_result(submission: Mapping[str, Any], data: Mapping[str, Any], raw: str) -> DocumentResult | None:
    """The ID the person showed, as a document of ours (accepted with an approval, rejected with a rejection);
    ``None`` when ARGOS holds no document number."""
    number_text = str(data.get("documentNumber") or "").strip()
    if not number_text:
        return None
    return DocumentResult(
        status=DocumentStatus.ACCEPTED if raw == "approved" else DocumentStatus.REJECTED,
        provider_document_id=f"argos-{submission.get('submission_id')}",
        fields={
            "type": DOCUMENT_TYPES.get(str(data.get("idType") or ""), "other"),
            "number": number_text[:64],
            "issue_date": iso_date(data.get("idcard_issueDate")),
            "expiry_date": iso_date(data.get("idcard_expireDate")),
        },
    )
