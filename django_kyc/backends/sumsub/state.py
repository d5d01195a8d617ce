"""Sumsub's review (``GET /resources/applicants/{id}/status``, or an applicant's ``review``) as our
:class:`ProviderState`. No HTTP, no database: the backend fetches, this reads."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any

from django_kyc.backends.base import DocumentResult, ProviderState
from django_kyc.backends.parsing import mapping, text
from django_kyc.backends.sumsub import statuses
from django_kyc.backends.sumsub.countries import ALPHA2

MapStatus = Callable[..., str]

#: The review fields kept for reviewers (``provider_data["sumsub"]``); ``clientComment`` is Sumsub's note to us,
#: never to be shown to the person, and stays in the admin like the rest of ``provider_data``.
KEPT = ("reviewId", "attemptId", "attemptCnt", "levelName", "createDate", "reviewDate", "elapsedSincePendingMs")
KEPT_RESULT = ("reviewAnswer", "reviewRejectType", "rejectLabels", "moderationComment", "clientComment", "buttonIds")


def review_state(
    review: Mapping[str, Any], map_status: MapStatus, *, applicant: Mapping[str, Any] | None = None
) -> ProviderState:
    """A review as our state. The reasons are Sumsub's rejection labels; ``data["sumsub"]["reason_codes"]`` holds
    them as codes of our reviewer catalogue. ``applicant`` (an applicant object) adds whether Sumsub shows it as
    deactivated."""
    status = text(review.get("reviewStatus")).strip()
    result = mapping(review.get("reviewResult"))
    verdict, reject_type = statuses.answer(result)
    labels = statuses.reject_labels(result) if verdict == "RED" else []
    data: dict[str, Any] = {
        "sumsub": {
            "reviewStatus": status,
            **{key: review.get(key) for key in KEPT if key in review},
            "reviewResult": {key: result.get(key) for key in KEPT_RESULT if key in result},
            "reason_codes": statuses.catalogue_codes(labels),
        }
    }
    if applicant is not None:
        data["sumsub"]["deactivated"] = applicant.get("deleted") is True
    return ProviderState(
        status=map_status(status, verdict, reject_type),
        provider_status=statuses.provider_status(status, verdict, reject_type),
        reasons=tuple(labels),
        occurred_at=None,  # a fetched state is the current one; the transition service's rank rule orders it
        data=data,
    )


def document_results(steps: Mapping[str, Any], ours: Mapping[str, str]) -> list[DocumentResult]:
    """Each verification step of ``GET …/requiredIdDocsStatus`` as results for the documents in it.

    ``ours`` maps the image ids Sumsub gave our uploads to our document ids, so a step reports on the documents
    whose images it holds. A step holding only images we never sent (captured in the WebSDK) reports one
    document, made from what Sumsub read: its type and issuing country, keyed by its first image id.
    """
    results: dict[str, DocumentResult] = {}
    for name, step in steps.items():
        if not isinstance(step, Mapping):
            continue  # a step nothing was sent for is null
        result = mapping(step.get("reviewResult"))
        status = statuses.document_status(result)
        verdict, _ = statuses.answer(result)
        reasons = tuple(statuses.reject_labels(result)) if verdict == "RED" else ()
        raw_ids = step.get("imageIds")
        image_ids = [text(image) for image in raw_ids if image is not None] if isinstance(raw_ids, list) else []
        matched = {ours[image] for image in image_ids if image in ours}
        for document_id in sorted(matched):
            results[document_id] = DocumentResult(status=status, document_id=document_id, reasons=reasons)
        if not matched and image_ids:
            id_doc_type = text(step.get("idDocType")).upper()
            fields = {
                "type": statuses.OUR_DOCUMENT_TYPES.get(id_doc_type, "other"),
                "issuing_country": ALPHA2.get(text(step.get("country")).upper(), ""),
            }
            results[f"{name}:{image_ids[0]}"] = DocumentResult(
                status=status,
                provider_document_id=image_ids[0],
                reasons=reasons,
                fields={key: value for key, value in fields.items() if value},
            )
    return list(results.values())
