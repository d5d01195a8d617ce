"""PassportReader's state table and chip mapping on their own: no HTTP, no database."""

from __future__ import annotations

from datetime import date

import pytest

from django_kyc.backends.passportreader import PassportReaderBackend, statuses
from django_kyc.status import DocumentStatus, VerificationStatus

V = VerificationStatus

#: docs/providers/passportreader.md, "Statuses"
TABLE = {
    "CREATED": V.AWAITING_USER,
    "INITIATED": V.AWAITING_USER,
    "COMPLETED": V.PROCESSING,
    "APPROVED": V.APPROVED,
    "REJECTED": V.DECLINED,
    "FAILED": V.RESUBMISSION_REQUESTED,
    "ABORTED": V.RESUBMISSION_REQUESTED,
}


def backend() -> PassportReaderBackend:
    return PassportReaderBackend("pr", {"PUBLIC_KEY": "p", "SECRET": "s"})


def test_the_table_is_the_documented_one() -> None:
    assert dict(statuses.STATUS_MAP) == TABLE
    assert PassportReaderBackend.STATUS_MAP is statuses.STATUS_MAP


@pytest.mark.parametrize(("raw", "expected"), TABLE.items())
def test_each_state_maps_through_the_base_lookup(raw: str, expected: str) -> None:
    assert backend().map_status(raw) == expected


@pytest.mark.parametrize("raw", ["ON_HOLD", "approved", "", "EXPIRED"])
def test_an_unknown_state_goes_to_a_person(raw: str) -> None:
    """Case matters (the vendor sends upper case); anything not in the table is never a decision."""
    assert backend().map_status(raw) == V.REVIEW == PassportReaderBackend.UNKNOWN_STATUS


def test_only_sessions_over_without_a_result_carry_reasons() -> None:
    assert statuses.reasons_for("FAILED") == ("SESSION_FAILED",)
    assert statuses.reasons_for("ABORTED") == ("SESSION_ABORTED",)
    assert all(statuses.reasons_for(raw) == () for raw in TABLE if raw not in statuses.DEAD_STATES)


def test_the_state_groups_split_the_table() -> None:
    """Open (the token still works), decided (chip data to read), dead (a new session is needed) and
    COMPLETED (chip read, decision pending) cover every known state once."""
    groups = [statuses.OPEN_STATES, statuses.DECIDED_STATES, statuses.DEAD_STATES, frozenset({"COMPLETED"})]
    assert sorted(raw for group in groups for raw in group) == sorted(TABLE)
    assert {TABLE[raw] for raw in statuses.OPEN_STATES} == {V.AWAITING_USER}
    assert {TABLE[raw] for raw in statuses.DEAD_STATES} == {V.RESUBMISSION_REQUESTED}


def test_an_empty_state_stays_visible() -> None:
    assert statuses.shown("") == "(empty)"
    assert statuses.shown("APPROVED") == "APPROVED"


# --- chip data -------------------------------------------------------------------------------------------------

SESSION = {
    "id": 5731012934821983,
    "given_names": "ANNA  MARIA",
    "surname": "DE  VRIES",
    "date_of_birth": "1985-03-10",
    "nationality": "NLD",
    "issuing_country": "NL",
    "document_type": "identity_card",
    "document_number": " " + "X" * 70 + " ",
    "expiry_date": "2030-01-31",
    "sex": "FEMALE",
    "issuer": "Burg. van Stad en Dorp",
    "personal_number": "999999990",
    "portrait": "/9j/4AAQ",
    "user_ip": "192.0.2.10",
}


@pytest.mark.parametrize(
    ("value", "expected"), [("nl", "NL"), (" gb ", "GB"), ("NLD", ""), ("D<<", ""), (None, ""), (12, "")]
)
def test_only_two_letter_country_codes_are_copied(value: object, expected: str) -> None:
    assert statuses.country(value) == expected


def test_applicant_data_keeps_the_chip_spelling() -> None:
    assert statuses.applicant_data(SESSION) == {
        "first_name": "ANNA",
        "middle_name": "MARIA",
        "last_name": "DE VRIES",
        "date_of_birth": date(1985, 3, 10),
        "nationality": "",  # a three-letter code is not guessed into two letters
    }
    assert statuses.applicant_data({})["first_name"] == ""


def test_document_fields_map_the_type_and_bound_the_number() -> None:
    fields = statuses.document_fields(SESSION)
    assert fields == {
        "type": "id_card",
        "number": "X" * statuses.NUMBER_LENGTH,
        "issuing_country": "NL",
        "expiry_date": date(2030, 1, 31),
    }
    assert statuses.document_type({"document_type": "VISA"}) == "other"
    assert statuses.provider_document_id(SESSION) == "passportreader-session-5731012934821983"
    assert PassportReaderBackend.DOCUMENT_TYPES is statuses.DOCUMENT_TYPES


def test_a_decision_accepts_or_rejects_the_document() -> None:
    assert statuses.document_status("APPROVED") == DocumentStatus.ACCEPTED
    assert statuses.document_status("REJECTED") == DocumentStatus.REJECTED


def test_what_reviewers_see_leaves_out_the_personal_extras() -> None:
    data = statuses.passport_data(SESSION)
    assert data["portrait_returned"] is True
    assert data["face_returned"] is False
    assert (data["nationality"], data["issuing_country"]) == ("NLD", "NL")  # raw, for the reviewer
    kept = repr(data)
    for dropped in ("/9j/4AAQ", "999999990", "192.0.2.10"):
        assert dropped not in kept
