"""Sumsub's review (``GET /resources/applicants/{id}/status``, or an applicant's ``review``) as our
:class:`ProviderState`. No HTTP, no database: the backend fetches, this reads."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any

from django_kyc.backends.base import ProviderState
from django_kyc.backends.parsing import mapping, text
from django_kyc.backends.sumsub import statuses

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
