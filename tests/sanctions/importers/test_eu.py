"""The EU Financial Sanctions Files XML 1.1 importer (namespaced)."""

from __future__ import annotations

import pytest

from django_kyc.exceptions import ListFormatError
from django_kyc.models.sanctions import EntryKind, NameType
from django_kyc.sanctions.importers import get_importer
from django_kyc.sanctions.records import PartialDate
from tests.sanctions.conftest import sample_files

NS = "http://eu.europa.ec/fpi/fsd/export"


def parse(body: str) -> list:
    xml = f'<export xmlns="{NS}" generationDate="2026-01-01T00:00:00">{body}</export>'
    return list(get_importer("eu_fsf").parse({"xmlFullSanctionsList_1_1.xml": xml.encode()}).entries)


def test_the_sample() -> None:
    entries = {e.source_id: e for e in get_importer("eu_fsf").parse(sample_files("eu_fsf")).entries}
    person = entries["90001"]
    assert person.kind == EntryKind.PERSON
    assert person.caption == "Dmitra Oleska Vorontsyna"
    assert (person.names[1].name_type, person.names[1].script) == (NameType.ORIGINAL_SCRIPT, "Cyrillic")
    assert (person.names[2].name, person.names[2].weak) == ("Dima Voron", True)  # strong="false"
    assert person.dobs == [PartialDate(1968, 7, 21), PartialDate(1969)]  # year only
    assert person.nationalities == ["RU"]
    assert person.programmes == ["RUS"]
    assert str(person.listed_on) == "2022-03-15"
    assert person.raw["@euReferenceNumber"] == "EU.9001.01"
    company = entries["90002"]
    assert company.kind == EntryKind.ORGANISATION
    assert company.countries == ["RU"]
    assert entries["90003"].dobs == [PartialDate(1955, circa=True)]


def test_ranges_unknown_countries_and_names_from_parts() -> None:
    (entry,) = parse(
        '<sanctionEntity logicalId="7"><subjectType code="person"/>'
        '<nameAlias firstName="Ana" lastName="Bel" wholeName="" strong="true"/>'
        '<birthdate yearRangeFrom="1950" yearRangeTo="1952"/>'
        '<citizenship countryIso2Code="00" countryDescription="UNKNOWN"/><unexpected a="b"/></sanctionEntity>'
    )
    assert entry.caption == "Ana Bel"
    assert entry.dobs == [PartialDate(1950, year_to=1952)]
    assert entry.nationalities == []


@pytest.mark.parametrize(
    ("body", "message"),
    [
        ('<sanctionEntity><nameAlias wholeName="X"/></sanctionEntity>', "number 1 has no logicalId"),
        ('<sanctionEntity logicalId="3"/>', "logicalId=3> has no name"),
    ],
)
def test_malformed_entries_are_refused(body: str, message: str) -> None:
    with pytest.raises(ListFormatError, match=message):
        parse(body)


def test_a_truncated_file_is_refused() -> None:
    content = (sample_files("eu_fsf")["xmlFullSanctionsList_1_1.xml"])[:1500]
    with pytest.raises(ListFormatError, match=r"xmlFullSanctionsList_1_1\.xml: not well-formed XML at line"):
        get_importer("eu_fsf").parse({"xmlFullSanctionsList_1_1.xml": content})
