"""The status tables, checked pair by pair against the moves the design allows.

The expected moves are written out here independently of :mod:`django_kyc.status`, so an accidental edit of
a table (a new move, a lost move, a self-loop) fails a test that names the exact pair.
"""

from __future__ import annotations

import itertools

import pytest

from django_kyc.status import (
    AML_TRANSITIONS,
    APPLICANT_STATUS_FOR_VERIFICATION,
    DOCUMENT_TRANSITIONS,
    VERIFICATION_ACTIVE,
    VERIFICATION_OVERRIDES,
    VERIFICATION_RANK,
    VERIFICATION_TERMINAL,
    VERIFICATION_TRANSITIONS,
    AmlStatus,
    ApplicantStatus,
    DocumentStatus,
    VerificationStatus,
    verification_move,
)

V = VerificationStatus
D = DocumentStatus
A = AmlStatus

OUTCOMES = {V.REVIEW, V.APPROVED, V.DECLINED, V.RESUBMISSION_REQUESTED}

#: The verification moves of README.md ("Statuses and transitions"), written out by hand.
EXPECTED_VERIFICATION: dict[str, set[str]] = {
    V.PENDING: {V.AWAITING_USER, V.PROCESSING, V.CANCELLED, V.ERROR} | OUTCOMES,
    V.AWAITING_USER: {V.PROCESSING, V.EXPIRED, V.CANCELLED, V.ERROR} | OUTCOMES,
    V.PROCESSING: {V.EXPIRED, V.CANCELLED, V.ERROR} | OUTCOMES,
    V.REVIEW: {V.APPROVED, V.DECLINED, V.RESUBMISSION_REQUESTED, V.CANCELLED, V.ERROR},
    V.RESUBMISSION_REQUESTED: {
        V.AWAITING_USER,
        V.PROCESSING,
        V.REVIEW,
        V.APPROVED,
        V.DECLINED,
        V.EXPIRED,
        V.CANCELLED,
    },
    V.ERROR: {V.PENDING, V.AWAITING_USER, V.PROCESSING, V.CANCELLED} | OUTCOMES,
    V.APPROVED: set(),
    V.DECLINED: set(),
    V.EXPIRED: set(),
    V.CANCELLED: set(),
}
EXPECTED_OVERRIDES: dict[tuple[str, str], str] = {
    (V.APPROVED, V.DECLINED): "revoke",
    (V.DECLINED, V.APPROVED): "overturn",
    (V.DECLINED, V.REVIEW): "reopen",
    (V.APPROVED, V.REVIEW): "reopen",
}
EXPECTED_DOCUMENT: dict[str, set[str]] = {
    D.UPLOADED: {D.SUBMITTED, D.ACCEPTED, D.REJECTED, D.RESUBMISSION_REQUESTED, D.EXPIRED, D.PURGED},
    D.SUBMITTED: {D.ACCEPTED, D.REJECTED, D.RESUBMISSION_REQUESTED, D.EXPIRED, D.PURGED},
    D.RESUBMISSION_REQUESTED: {D.SUBMITTED, D.ACCEPTED, D.REJECTED, D.EXPIRED, D.PURGED},
    D.ACCEPTED: {D.REJECTED, D.EXPIRED, D.PURGED},
    D.REJECTED: {D.ACCEPTED, D.PURGED},
    D.EXPIRED: {D.PURGED},
    D.PURGED: set(),
}
EXPECTED_AML: dict[str, set[str]] = {
    A.PENDING: {A.RUNNING, A.CLEAR, A.POTENTIAL_MATCH, A.ERROR},
    A.RUNNING: {A.CLEAR, A.POTENTIAL_MATCH, A.ERROR},
    A.POTENTIAL_MATCH: {A.CONFIRMED_MATCH, A.FALSE_POSITIVE},
    A.ERROR: {A.PENDING, A.RUNNING},
    A.CLEAR: set(),
    A.CONFIRMED_MATCH: set(),
    A.FALSE_POSITIVE: set(),
}

VERIFICATION_PAIRS = list(itertools.product(V.values, V.values))
DOCUMENT_PAIRS = list(itertools.product(D.values, D.values))
AML_PAIRS = list(itertools.product(A.values, A.values))


def test_every_status_has_a_row() -> None:
    assert set(VERIFICATION_TRANSITIONS) == set(V.values)
    assert set(DOCUMENT_TRANSITIONS) == set(D.values)
    assert set(AML_TRANSITIONS) == set(A.values)
    assert set(VERIFICATION_RANK) == set(V.values)


@pytest.mark.parametrize(("from_status", "to_status"), VERIFICATION_PAIRS)
def test_verification_move(from_status: str, to_status: str) -> None:
    if to_status in EXPECTED_VERIFICATION[from_status]:
        expected: str | None = "normal"
    else:
        expected = EXPECTED_OVERRIDES.get((from_status, to_status))
    assert verification_move(from_status, to_status) == expected
    assert (to_status in VERIFICATION_TRANSITIONS[from_status]) == (expected == "normal")
    assert ((from_status, to_status) in VERIFICATION_OVERRIDES) == (expected not in (None, "normal"))


@pytest.mark.parametrize(("from_status", "to_status"), DOCUMENT_PAIRS)
def test_document_move(from_status: str, to_status: str) -> None:
    assert (to_status in DOCUMENT_TRANSITIONS[from_status]) == (to_status in EXPECTED_DOCUMENT[from_status])


@pytest.mark.parametrize(("from_status", "to_status"), AML_PAIRS)
def test_aml_move(from_status: str, to_status: str) -> None:
    assert (to_status in AML_TRANSITIONS[from_status]) == (to_status in EXPECTED_AML[from_status])


def test_no_table_lists_a_status_as_its_own_successor() -> None:
    """A "move" to the same status would write an audit row and send a signal for nothing."""
    for table in (VERIFICATION_TRANSITIONS, DOCUMENT_TRANSITIONS, AML_TRANSITIONS):
        assert [status for status, moves in table.items() if status in moves] == []


def test_unknown_status_has_no_moves() -> None:
    assert verification_move("bogus", V.APPROVED) is None
    assert verification_move(V.PENDING, "bogus") is None


def test_overrides_only_leave_terminal_decisions() -> None:
    assert {source for source, _ in VERIFICATION_OVERRIDES} == {V.APPROVED, V.DECLINED}
    assert all(source in VERIFICATION_TERMINAL for source, _ in VERIFICATION_OVERRIDES)


def test_terminal_and_active_sets() -> None:
    assert set(VERIFICATION_TERMINAL) == {V.APPROVED, V.DECLINED, V.EXPIRED, V.CANCELLED}
    assert set(VERIFICATION_ACTIVE) == {V.PENDING, V.AWAITING_USER, V.PROCESSING, V.REVIEW, V.ERROR}
    assert not set(VERIFICATION_ACTIVE) & set(VERIFICATION_TERMINAL)


def test_rank_orders_the_pipeline() -> None:
    """Equal-timestamp events are ordered by rank: later pipeline stages must rank strictly higher."""
    pipeline = [V.PENDING, V.AWAITING_USER, V.PROCESSING, V.REVIEW, V.APPROVED]
    ranks = [VERIFICATION_RANK[status] for status in pipeline]
    assert ranks == sorted(set(ranks))
    assert all(VERIFICATION_RANK[status] == VERIFICATION_RANK[V.APPROVED] for status in VERIFICATION_TERMINAL)


def test_applicant_aggregate_covers_every_status_it_can_see() -> None:
    """Cancelled and expired verifications are skipped when deriving the aggregate; every other maps."""
    assert set(APPLICANT_STATUS_FOR_VERIFICATION) == set(V.values) - {V.CANCELLED, V.EXPIRED}
    assert APPLICANT_STATUS_FOR_VERIFICATION[V.APPROVED] == ApplicantStatus.VERIFIED
    assert APPLICANT_STATUS_FOR_VERIFICATION[V.DECLINED] == ApplicantStatus.REJECTED
    assert APPLICANT_STATUS_FOR_VERIFICATION[V.RESUBMISSION_REQUESTED] == ApplicantStatus.ACTION_REQUIRED
    assert APPLICANT_STATUS_FOR_VERIFICATION[V.REVIEW] == ApplicantStatus.REVIEW
