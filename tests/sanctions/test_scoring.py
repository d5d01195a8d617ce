from __future__ import annotations

from datetime import date

from django_kyc.sanctions import scoring
from django_kyc.sanctions.names import name_tokens


def similarity(left: str, right: str) -> float:
    return scoring.name_similarity(name_tokens(left), name_tokens(right))


def test_order_initials_middle_names_and_typos() -> None:
    assert similarity("Ivan Sokolov", "Sokolov Ivan") == 1.0
    assert similarity("I. Sokolov", "Ivan Sokolov") >= 0.9
    assert similarity("Ivan Sokolov", "Ivan Petrovich Sokolov") >= 0.85
    assert similarity("Ivan Sokolof", "Ivan Sokolov") >= 0.9
    assert similarity("Xi Jinping", "习近平") >= 0.95


def test_different_given_name_or_surname_is_far() -> None:
    assert similarity("Peter Sokolov", "Ivan Sokolov") < 0.6
    assert similarity("Ivan Petrov", "Ivan Sokolov") < 0.6
    assert similarity("Sokolov", "Ivan Sokolov") <= 0.8


def test_date_of_birth_evidence() -> None:
    born = date(1961, 5, 2)
    assert scoring.dob_evidence(born, [{"year": 1961, "month": 5, "day": 2}]).verdict == "match"
    assert scoring.dob_evidence(born, [{"year": 1961}]).verdict == "year"
    assert scoring.dob_evidence(born, [{"year": 1959, "year_to": 1962}]).verdict == "range"
    assert scoring.dob_evidence(born, [{"year": 1963, "circa": True}]).verdict == "range"
    assert scoring.dob_evidence(born, [{"year": 1975}]).delta < 0
    assert scoring.dob_evidence(None, [{"year": 1975}]).verdict == "unknown"
    # the closest of several listed dates counts
    assert scoring.dob_evidence(born, [{"year": 1975}, {"year": 1961}]).verdict == "year"


def test_nationality_evidence() -> None:
    assert scoring.nationality_evidence("ru", ["RU", "UA"]).delta > 0
    assert scoring.nationality_evidence("FR", ["RU"]).delta < 0
    assert scoring.nationality_evidence("", ["RU"]).delta == 0
