"""Sumsub's tables on their own: no HTTP, no database (but Django settings, for the reason catalogue)."""

from __future__ import annotations

from typing import Any

import pytest
from django.test import override_settings

from django_kyc.backends.sumsub import SumsubBackend, statuses
from django_kyc.backends.sumsub.countries import ALPHA2, ALPHA3, alpha3
from django_kyc.backends.sumsub.state import document_results, review_state
from django_kyc.reasons import reason_codes
from django_kyc.status import VerificationStatus

V = VerificationStatus


@pytest.fixture
def backend() -> SumsubBackend:
    return SumsubBackend("sumsub", {"APP_TOKEN": "t", "SECRET_KEY": "s", "WEBHOOK_SECRETS": "w", "LEVEL_NAME": "l"})


@pytest.mark.parametrize(
    ("review_status", "result", "expected"),
    [
        ("init", None, V.AWAITING_USER),
        ("awaitingUser", None, V.AWAITING_USER),
        ("pending", None, V.PROCESSING),
        ("prechecked", None, V.PROCESSING),
        ("queued", None, V.PROCESSING),
        ("awaitingService", {"reviewAnswer": "GREEN"}, V.PROCESSING),  # not an approval yet
        ("onHold", None, V.REVIEW),
        ("completed", {"reviewAnswer": "GREEN"}, V.APPROVED),
        ("completed", {"reviewAnswer": "green"}, V.APPROVED),
        ("completed", {"reviewAnswer": "RED", "reviewRejectType": "RETRY"}, V.RESUBMISSION_REQUESTED),
        ("completed", {"reviewAnswer": "RED", "reviewRejectType": "FINAL"}, V.DECLINED),
        # what Sumsub does not document goes to a person, raw value kept
        ("completed", {"reviewAnswer": "RED"}, V.REVIEW),
        ("completed", {"reviewAnswer": "RED", "reviewRejectType": "LATER"}, V.REVIEW),
        ("completed", None, V.REVIEW),
        ("completed", {"reviewAnswer": "YELLOW"}, V.REVIEW),
        ("somethingNew", None, V.REVIEW),
        ("", None, V.REVIEW),
    ],
)
def test_every_documented_review_maps(backend: SumsubBackend, review_status: str, result: Any, expected: str) -> None:
    verdict, reject_type = statuses.answer(result)
    assert backend.map_status(review_status, verdict, reject_type) == expected


def test_a_green_answer_ignores_a_stray_reject_type() -> None:
    assert statuses.answer({"reviewAnswer": "GREEN", "reviewRejectType": "FINAL"}) == ("GREEN", None)


@pytest.mark.parametrize(
    ("review", "provider_status"),
    [
        ({"reviewStatus": "pending"}, "pending"),
        ({"reviewStatus": "completed", "reviewResult": {"reviewAnswer": "GREEN"}}, "completed/GREEN"),
        (
            {"reviewStatus": "completed", "reviewResult": {"reviewAnswer": "RED", "reviewRejectType": "RETRY"}},
            "completed/RED/RETRY",
        ),
        ({"reviewStatus": "completed"}, "completed/(no answer)"),
        ({}, "(none)"),
    ],
)
def test_provider_status_keeps_answer_and_reject_type(
    backend: SumsubBackend, review: dict[str, Any], provider_status: str
) -> None:
    assert review_state(review, backend.map_status).provider_status == provider_status


def test_reject_labels_become_reasons_and_catalogue_codes(backend: SumsubBackend) -> None:
    review = {
        "reviewStatus": "completed",
        "reviewResult": {
            "reviewAnswer": "RED",
            "reviewRejectType": "FINAL",
            "rejectLabels": ["FORGERY", "SANCTIONS", "PEP", "forgery", "BRAND_NEW_LABEL"],
            "moderationComment": "shown to the person",
            "clientComment": "for us only",
        },
        "attemptCnt": 2,
    }
    state = review_state(review, backend.map_status)
    assert state.status == V.DECLINED
    assert list(state.reasons) == ["FORGERY", "SANCTIONS", "PEP", "BRAND_NEW_LABEL"]
    assert state.data["sumsub"]["reason_codes"] == ["SUSPECTED_FRAUD", "SANCTIONS_MATCH", "OTHER"]
    assert state.data["sumsub"]["reviewResult"]["clientComment"] == "for us only"
    assert state.data["sumsub"]["attemptCnt"] == 2


def test_labels_of_a_green_review_are_not_reasons(backend: SumsubBackend) -> None:
    review = {"reviewStatus": "completed", "reviewResult": {"reviewAnswer": "GREEN", "rejectLabels": ["FORGERY"]}}
    assert review_state(review, backend.map_status).reasons == ()


def test_reject_labels_tolerate_odd_shapes() -> None:
    assert statuses.reject_labels({"rejectLabels": "SCREENSHOTS"}) == ["SCREENSHOTS"]
    assert statuses.reject_labels({"rejectLabels": [None, 3, " spam "]}) == ["SPAM"]
    assert statuses.reject_labels(None) == []


def test_every_catalogue_code_exists() -> None:
    assert set(statuses.CATALOGUE_CODES.values()) <= set(reason_codes())


def test_the_sites_reason_map_wins() -> None:
    with override_settings(DJANGO_KYC={"PROVIDER_REASON_MAP": {"PEP": "OTHER"}}):
        assert statuses.catalogue_codes(["PEP", "SANCTIONS"]) == ["OTHER", "SANCTIONS_MATCH"]


def test_document_types() -> None:
    assert statuses.document_type("driving_licence") == "DRIVERS"
    assert statuses.document_type("other") is None
    assert statuses.document_type("other", {"other": "OTHER"}) == "OTHER"
    assert statuses.document_type("passport", {"passport": None}) is None
    assert {"ID_CARD", "DRIVERS", "RESIDENCE_PERMIT"} == statuses.TWO_SIDED


def test_countries_are_sent_in_alpha3() -> None:
    assert (alpha3("gb"), alpha3("DE"), alpha3("XX"), alpha3("")) == ("GBR", "DEU", "", "")
    assert len(ALPHA3) == len(ALPHA2) == 249


def test_step_results_name_our_documents_by_their_images() -> None:
    steps = {
        "IDENTITY": {
            "idDocType": "ID_CARD",
            "country": "DEU",
            "imageIds": [11, 12],
            "reviewResult": {"reviewAnswer": "RED", "reviewRejectType": "RETRY", "rejectLabels": ["SCREENSHOTS"]},
        },
        "SELFIE": None,
        "PROOF_OF_RESIDENCE": {"idDocType": "UTILITY_BILL", "country": "DEU", "imageIds": [13]},
    }
    results = document_results(steps, {"11": "doc-a", "12": "doc-a", "13": "doc-b"})
    assert [(r.document_id, r.status, tuple(r.reasons)) for r in results] == [
        ("doc-a", "resubmission_requested", ("SCREENSHOTS",)),
        ("doc-b", "submitted", ()),
    ]


def test_steps_with_images_we_never_sent_describe_the_document() -> None:
    steps = {
        "IDENTITY": {
            "idDocType": "RESIDENCE_PERMIT",
            "country": "ITA",
            "imageIds": [7],
            "reviewResult": {"reviewAnswer": "GREEN"},
        }
    }
    (result,) = document_results(steps, {})
    assert (result.provider_document_id, result.status) == ("7", "accepted")
    assert result.fields == {"type": "residence_permit", "issuing_country": "IT"}


@pytest.mark.parametrize(
    ("result", "status"),
    [
        ({"reviewAnswer": "GREEN"}, "accepted"),
        ({"reviewAnswer": "RED", "reviewRejectType": "RETRY"}, "resubmission_requested"),
        ({"reviewAnswer": "RED", "reviewRejectType": "FINAL"}, "rejected"),
        ({"reviewAnswer": "RED"}, "rejected"),
        (None, "submitted"),
    ],
)
def test_document_statuses(result: Any, status: str) -> None:
    assert statuses.document_status(result) == status
