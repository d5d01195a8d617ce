"""The matcher against small lists loaded through the real loader (SQLite and PostgreSQL)."""

from __future__ import annotations

from datetime import date

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from django_kyc.models import SanctionsList
from django_kyc.models.sanctions import EntryKind, ListEntryName
from django_kyc.sanctions.matching import ALGORITHM_VERSION, Subject, screen
from django_kyc.sanctions.records import PartialDate
from tests.support.lists import load, person

pytestmark = pytest.mark.django_db
THRESHOLD = 0.85


@pytest.fixture
def lists() -> None:
    load(
        "ofac_sdn",
        [
            person(
                "1001",
                "Ivan Petrovich SOKOLOV",
                "Ivan Sokoloff",
                weak=["The Bear"],
                original=["Иван Петрович Соколов"],
                dobs=[PartialDate(1961, 5, 2)],
                nationalities=["RU"],
            ),
            person("1002", "José Luis NÚÑEZ PÉREZ", dobs=[PartialDate(1970, year_to=1972)], nationalities=["VE"]),
            person("1003", "XI Jinping", original=["习近平"], dobs=[PartialDate(1953)]),
            person("1004", "Ahmed Khalil MANSOUR", weak=["Abu Khalil"], dobs=[PartialDate(1980, circa=True)]),
            person("1005", "Mansour Trading Company", kind=EntryKind.ORGANISATION),
        ],
    )
    load("un_sc", [person("QDi.1", "Omar Abdullahi FARAH", "Omar Farah Abdullahi")])


def names(first: str = "", last: str = "", middle: str = "", **kwargs: object) -> list[str]:
    subject = Subject.person(first_name=first, last_name=last, middle_name=middle, **kwargs)  # type: ignore[arg-type]
    return [match.entry.source_id for match in screen(subject, THRESHOLD)]


@pytest.mark.parametrize(
    ("first", "middle", "last", "expected"),
    [
        ("Ivan", "", "Sokolov", "1001"),  # dropped middle name
        ("Ivan", "Petrovich", "Sokolov", "1001"),
        ("Sokolov", "", "Ivan", "1001"),  # name parts in another order
        ("I.", "", "Sokolov", "1001"),  # an initial
        ("Ivan", "", "Sokolof", "1001"),  # a one-letter typo
        ("Иван", "", "Соколов", "1001"),  # the original script
        ("Jose Luis", "", "Nunez Perez", "1002"),  # diacritics removed
        ("Dr. José Luis", "", "Núñez", "1002"),  # a title added, one of two surnames
        ("", "", "习近平", "1003"),  # Chinese characters against the pinyin name
        ("Jinping", "", "Xi", "1003"),
        ("Omar", "", "Farah Abdullahi", "QDi.1"),  # an alias, another list
    ],
)
def test_variations_are_found(lists: None, first: str, middle: str, last: str, expected: str) -> None:
    assert names(first, last, middle)[:1] == [expected]


@pytest.mark.parametrize(
    ("first", "last"),
    [("Pavel", "Sokolov"), ("Ivan", "Petrov"), ("John", "Smith"), ("Ahmed", "Farah")],
)
def test_close_clean_names_are_not_hits(lists: None, first: str, last: str) -> None:
    assert names(first, last) == []


def test_contradicting_date_of_birth_lowers_the_score(lists: None) -> None:
    same = screen(Subject.person("Ivan", "Sokolov", born=date(1961, 5, 2)), 0.0)[0]
    unknown = screen(Subject.person("Ivan", "Sokolov"), 0.0)[0]
    other = screen(Subject.person("Ivan", "Sokolov", born=date(1990, 1, 1)), 0.0)[0]
    assert same.score > unknown.score > other.score
    assert other.score < THRESHOLD
    assert other.details(THRESHOLD)["dob"] == {"verdict": "contradicts", "listed": "1961-05-02"}


def test_year_only_and_circa_dates_support(lists: None) -> None:
    match = screen(Subject.person("Ahmed", "Mansour", born=date(1981, 3, 3)), THRESHOLD)[0]
    assert match.dob.verdict == "range"


def test_weak_alias_alone_is_not_a_hit_but_corroborates(lists: None) -> None:
    assert names("Abu", "Khalil") == []
    assert names("The", "Bear") == []
    assert screen(Subject.person("Ahmed Khalil", "Mansour"), THRESHOLD)[0].weak_alias is None


def test_organisations_only_when_asked(lists: None) -> None:
    assert "1005" not in names("Mansour Trading", "Company")
    assert "1005" in names("Mansour Trading", "Company", include_organisations=True)


def test_removed_entries_are_not_matched(lists: None) -> None:
    load("ofac_sdn", [person("1002", "José Luis NÚÑEZ PÉREZ")])  # 1001 and the others leave the list
    assert names("Ivan", "Sokolov") == []
    assert names("Jose Luis", "Nunez Perez") == ["1002"]


def test_only_lists_with_a_version_in_use_are_matched(lists: None) -> None:
    SanctionsList.objects.filter(source="un_sc").update(current_version=None)
    assert names("Omar", "Farah") == []


def test_evidence(lists: None) -> None:
    match = screen(Subject.person("Ivan", "Sokolov", born=date(1961, 5, 2), nationality="RU"), THRESHOLD)[0]
    details = match.details(THRESHOLD)
    version = SanctionsList.objects.get(source="ofac_sdn").current_version
    assert details["list"] == "ofac_sdn"
    assert details["source_id"] == "1001"
    assert details["entity_digest"] == match.entry.digest
    assert details["list_version"] == version.pk
    assert details["list_loaded_at"] == version.loaded_at.isoformat()
    assert details["applicant_name"] == "Ivan Sokolov"
    assert details["matched_name"] in ("Ivan Sokoloff", "Ivan Petrovich SOKOLOV", "Иван Петрович Соколов")
    assert details["matched_name_weak"] is False
    assert details["scores"]["dob"] > 0
    assert details["scores"]["nationality"] > 0
    assert details["algorithm"] == ALGORITHM_VERSION
    assert details["threshold"] == THRESHOLD


def test_a_screening_is_two_queries_and_one_more_when_something_matched(lists: None) -> None:
    # the keys' frequencies, then the ranked candidates' names in one query; the matched entries only on a match
    with CaptureQueriesContext(connection) as queries:
        assert names("Ivan", "Sokolov") == ["1001"]
    assert len(queries) == 3
    with CaptureQueriesContext(connection) as queries:
        assert names("Ivan", "Marlowe") == []  # a candidate (Ivan), not a match
    assert len(queries) == 2
    with CaptureQueriesContext(connection) as queries:
        assert names("Quentin", "Marlowe") == []  # no key in the index: nothing to rank
    assert len(queries) == 1
    with CaptureQueriesContext(connection) as queries:
        match = screen(Subject.person("Ivan", "Sokolov"), THRESHOLD)[0]
        match.details(THRESHOLD)
        assert match.entry.entity_id == "ofac_sdn:1001"
    assert len(queries) == 3  # the evidence reads what the third query brought, nothing more


def test_the_matched_names_are_the_stored_ones(lists: None) -> None:
    match = screen(Subject.person("Ahmed", "Mansour", middle_name="Khalil"), THRESHOLD)[0]
    stored = ListEntryName.objects.get(pk=match.matched.pk)
    assert (match.matched.name, match.matched.name_type, match.matched.weak, match.matched.entry_id) == (
        stored.name,
        stored.name_type,
        stored.weak,
        stored.entry_id,
    )
    assert match.matched.normalised == stored.normalised


def test_a_weak_alias_is_carried_as_its_stored_name(lists: None) -> None:
    match = screen(Subject.person("Ivan", "Sokolov"), THRESHOLD)[0]
    assert match.weak_alias is None  # "The Bear" does not look like Ivan Sokolov
    subject = Subject(names=("Ahmed Khalil Mansour", "Abu Khalil"))
    (found,) = screen(subject, THRESHOLD)
    assert found.weak_alias is not None
    assert found.weak_alias.name == "Abu Khalil"
    assert found.weak_alias.weak is True
    assert found.details(THRESHOLD)["weak_alias"] == "Abu Khalil"


def test_only_the_listed_kinds_asked_for_are_candidates(lists: None) -> None:
    assert names("Mansour Trading", "Company") == []
    subject = Subject.person("Mansour Trading", "Company", include_organisations=True)
    assert [match.entry.source_id for match in screen(subject, THRESHOLD)] == ["1005"]


def test_only_the_lists_asked_for_are_screened(lists: None) -> None:
    subject = Subject.person("Omar", "Farah")
    assert [match.entry.source_id for match in screen(subject, THRESHOLD, sources=("un_sc",))] == ["QDi.1"]
    assert screen(subject, THRESHOLD, sources=("ofac_sdn",)) == []
