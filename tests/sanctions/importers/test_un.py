"""The UN Security Council consolidated.xml importer."""

from __future__ import annotations

import pytest

from django_kyc.exceptions import ListFormatError
from django_kyc.models.sanctions import EntryKind, NameType
from django_kyc.sanctions.importers import get_importer
from django_kyc.sanctions.records import PartialDate
from tests.sanctions.conftest import sample_files


def parse(xml: str) -> list:
    return list(get_importer("un_sc").parse({"consolidated.xml": xml.encode()}).entries)


def test_the_sample() -> None:
    parsed = get_importer("un_sc").parse(sample_files("un_sc"))
    assert parsed.published_at is not None
    assert parsed.published_at.year == 2026
    entries = {entry.source_id: entry for entry in parsed.entries}
    karim = entries["9000001"]
    assert karim.caption == "KARIM FENWARD AL-QUORVAN"
    names = [(n.name, n.name_type, n.weak) for n in karim.names]
    assert ("Karim Fenwardi", NameType.ALIAS, False) in names  # Good
    assert ("Abu Fenward", NameType.ALIAS, True) in names
    assert (
        "The Quorvani",
        NameType.ALIAS,
        True,
    ) in names
    assert ("Karim Quorvan", NameType.FORMER, False) in names  # f.k.a.
    assert karim.names[1].name_type == NameType.ORIGINAL_SCRIPT
    assert karim.names[1].script == "Arabic"
    # a TZ-suffixed date, an approximate year, and "Invalid date" skipped
    assert karim.dobs == [PartialDate(1969, 2, 1), PartialDate(1970, circa=True)]
    assert karim.nationalities == ["IQ", "ET"]  # "Possibly Ethiopian"
    assert karim.programmes == ["Al-Qaida"]
    assert str(karim.listed_on) == "2011-05-04"
    assert karim.raw["REFERENCE_NUMBER"] == "QDi.900"
    mira = entries["9000002"]
    assert [n.name for n in mira.names] == ["MIRA SOLVANG"]  # the empty placeholder alias adds nothing
    assert mira.dobs == [PartialDate(1975, year_to=1977)]
    assert mira.nationalities == ["KP"]
    assert entries["9000101"].kind == EntryKind.ORGANISATION


def test_unknown_elements_and_values_are_skipped() -> None:
    (entry,) = parse(
        "<CONSOLIDATED_LIST><INDIVIDUALS><INDIVIDUAL><DATAID>5</DATAID><FIRST_NAME>A</FIRST_NAME>"
        "<SECOND_NAME>B</SECOND_NAME><NEW_ELEMENT>x</NEW_ELEMENT>"
        "<INDIVIDUAL_ALIAS><QUALITY>Weird</QUALITY><ALIAS_NAME>C D</ALIAS_NAME></INDIVIDUAL_ALIAS>"
        "<NATIONALITY><VALUE>Atlantis</VALUE></NATIONALITY></INDIVIDUAL></INDIVIDUALS><ENTITIES/></CONSOLIDATED_LIST>"
    )
    assert entry.caption == "A B"
    assert entry.names[1].name_type == NameType.ALIAS
    assert entry.nationalities == []
    assert entry.raw["unmapped_countries"] == ["Atlantis"]


@pytest.mark.parametrize(
    ("xml", "message"),
    [
        ("<CONSOLIDATED_LIST><INDIVIDUALS><INDIVIDUAL><DATAID>1</DATAID>", "not well-formed XML at line 1"),
        ("<OTHER/>", "root element is <OTHER>"),
        (
            "<CONSOLIDATED_LIST><INDIVIDUALS><INDIVIDUAL><FIRST_NAME>A</FIRST_NAME></INDIVIDUAL></INDIVIDUALS></CONSOLIDATED_LIST>",
            "number 1 has no DATAID",
        ),
        ('<!DOCTYPE x [<!ENTITY a "aaaa">]><CONSOLIDATED_LIST/>', "unsafe XML"),
    ],
)
def test_malformed_files_are_refused(xml: str, message: str) -> None:
    with pytest.raises(ListFormatError, match=message):
        parse(xml)
