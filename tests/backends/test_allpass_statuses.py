"""Allpass's status tables and the pure helpers around them: no HTTP, no database."""

from __future__ import annotations

from typing import Any

import pytest

from django_kyc.backends.allpass import AllpassBackend
from django_kyc.backends.allpass.statuses import (
    EVENT_TABLE,
    PROGRESS_EVENTS,
    STATUS_MAP,
    reasons_from,
    status_for_event,
    strip_images,
    warnings_from,
)
from django_kyc.backends.allpass.webhooks import event_name, events_from
from django_kyc.status import VerificationStatus
from django_kyc.testing.allpass import EVENTS, UNKNOWN_STATUS

V = VerificationStatus
OPTIONS = {"PRIVATE_APP_KEY": "k", "BASE_URL": "https://allpass.invalid", "FLOW_NAME": "f"}


@pytest.fixture
def backend() -> AllpassBackend:
    return AllpassBackend("a", OPTIONS)


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        ("INIT", V.AWAITING_USER),
        ("INCOMPLETE", V.AWAITING_USER),
        ("IN_PROGRESS", V.PROCESSING),
        ("COMPLETED", V.PROCESSING),  # the flow is done and checks ran: not a decision
        ("IN_REVIEW", V.REVIEW),
        ("ON_HOLD", V.REVIEW),
        ("APPROVED", V.APPROVED),
        ("REJECTED", V.DECLINED),
        ("approved", V.APPROVED),  # the case Allpass writes them in is not ours to depend on
        ("In_Review", V.REVIEW),
        (UNKNOWN_STATUS, V.REVIEW),  # anything else goes to a person, never guessed into a decision
        ("", V.REVIEW),
    ],
)
def test_applicant_statuses(backend: AllpassBackend, raw: str, expected: str) -> None:
    assert backend.map_status(raw) == expected


def test_the_backend_uses_the_tables_and_the_base_lookup() -> None:
    assert AllpassBackend.STATUS_MAP is STATUS_MAP
    assert AllpassBackend.EVENT_TABLE is EVENT_TABLE
    assert "map_status" not in vars(AllpassBackend)  # the base convention, with upper-cased keys


def test_every_event_announces_a_mapped_status_and_the_fake_agrees() -> None:
    assert set(EVENT_TABLE.values()) == set(STATUS_MAP)
    for event, raw in EVENT_TABLE.items():
        assert status_for_event(event) == raw
        assert EVENTS[raw] == event
    assert status_for_event("applicantStepPassed") == ""
    assert "applicantStepPassed" in PROGRESS_EVENTS
    assert status_for_event("applicantFrozen") == ""


def test_reasons_come_from_the_review_then_failed_services() -> None:
    review = {"comment": " Document is expired ", "warnings": ["FACE_MISMATCH", "Document is expired", ""]}
    services: list[Any] = [
        {"service": "DOCUMENT_CAPTURE", "status": "rejected", "reason": "EXPIRED_DOCUMENT", "errorMessage": "Expired"},
        {"service": "LIVENESS", "status": "APPROVED", "reason": "ignored"},
        {"status": "ERROR", "errorMessage": "timeout"},
        "not a service",
    ]
    assert reasons_from(review, services) == [
        "Document is expired",
        "FACE_MISMATCH",
        "DOCUMENT_CAPTURE: EXPIRED_DOCUMENT",
        "DOCUMENT_CAPTURE: Expired",
        "service: timeout",
    ]
    assert reasons_from({"warnings": "ONE_WARNING"}) == ["ONE_WARNING"]
    assert reasons_from({"comment": "x" * 600}) == ["x" * 500]


def test_webhook_warnings_are_reasons() -> None:
    assert warnings_from(["DUPLICATE_FACE", "", None, 5]) == ["DUPLICATE_FACE", "5"]
    assert warnings_from("DUPLICATE_FACE") == []


def test_images_are_left_at_allpass() -> None:
    record = {"data": {"graphics": [{"image": "abcd", "fieldType": 201}, {"image": ""}]}, "image": None}
    assert strip_images(record) == {
        "data": {"graphics": [{"image": "(image omitted, 4 characters)", "fieldType": 201}, {"image": ""}]},
        "image": None,
    }


def test_state_from_an_applicant(backend: AllpassBackend) -> None:
    state = backend.state_from_applicant({"status": "rejected", "review": {"comment": "No"}, "servicesData": "x"})
    assert (state.status, state.provider_status, list(state.reasons)) == (V.DECLINED, "REJECTED", ["No"])
    assert state.data["allpass"]["servicesData"] == []
    empty = backend.state_from_applicant({})
    assert (empty.status, empty.provider_status) == (V.REVIEW, "(empty)")


def test_event_names_and_the_events_they_make(backend: AllpassBackend) -> None:
    assert event_name({"type": "applicantApproved", "event": "x"}) == "applicantApproved"
    assert event_name({"kind": "applicantApproved"}, "kind") == "applicantApproved"
    assert event_name({"type": ""}) == ""
    envelope = {"time": "2024-05-01T10:00:00.000Z"}
    (approved,) = events_from(envelope, {"id": "a1", "type": "applicantApproved"}, backend.map_status)
    assert approved.state is not None
    assert (approved.event_id, approved.state.status) == ("a1:applicantApproved:2024-05-01T10:00:00.000Z", V.APPROVED)
    (unknown,) = events_from(envelope, {"id": "a1", "type": "applicantFrozen"}, backend.map_status)
    assert unknown.state is not None
    assert (unknown.state.status, unknown.state.provider_status) == (V.REVIEW, "applicantFrozen")
    (step,) = events_from(envelope, {"id": "a1", "type": "applicantStepPassed"}, backend.map_status)
    assert step.state is None  # progress only: the applicant is read back
    (unnamed,) = events_from(envelope, {"id": "a1"}, backend.map_status)
    assert (unnamed.event_type, unnamed.state) == ("unnamed", None)
    assert events_from(envelope, {"type": "applicantApproved"}, backend.map_status) == []
