"""The FCDO UK Sanctions List XML importer."""

from __future__ import annotations

import pytest

from django_kyc.exceptions import ListFormatError
from django_kyc.models.sanctions import EntryKind, NameType
from django_kyc.sanctions.importers import get_importer
from django_kyc.sanctions.importers.uk import uk_date
from django_kyc.sanctions.records import PartialDate
from tests.sanctions.conftest import sample_files


def test_the_sample() -> None:
    parsed = get_importer("uk_sl").parse(sample_files("uk_sl"))
    entries = {e.source_id: e for e in parsed.entries}
    boris = entries["RUS9001"]
    assert boris.caption == "Boris Ilyich KESTRELOV"  # Name1, Name2 … Name6
    types = [(n.name, n.name_type, n.weak) for n in boris.names]
    assert ("Borys KESTRELOV", NameType.VARIATION, False) in types
    assert ("The Falconer", NameType.ALIAS, True) in types  # Low quality a.k.a
    assert boris.names[-1].name_type == NameType.ORIGINAL_SCRIPT
    assert boris.names[-1].script == "Cyrillic"
    assert boris.dobs == [PartialDate(1966), PartialDate(1967, 7)]  # dd/mm/1966, dd/07/1967
    assert boris.nationalities == ["RU"]
    assert boris.places_of_birth == ["Perm, Russia"]
    assert boris.programmes == ["The Russia (Sanctions) (EU Exit) Regulations 2019"]
    assert entries["CYB9002"].kind == EntryKind.ORGANISATION
    assert entries["CYB9002"].raw["unmapped_countries"] == ["Narnia"]
    assert entries["RUS9003"].kind == EntryKind.VESSEL
    assert entries["RUS9003"].documents == ["0000002"]
    assert parsed.published_at is not None
    assert parsed.published_at.day == 30


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("31/12/1960", PartialDate(1960, 12, 31)),
        ("dd/07/1955", PartialDate(1955, 7)),
        ("dd/mm/1950", PartialDate(1950)),
        ("", None),
        ("1950", None),
    ],
)
def test_dates(text: str, expected: PartialDate | None) -> None:
    assert uk_date(text) == expected


def test_a_designation_without_id_is_refused() -> None:
    xml = b"<Designations><Designation><Names><Name><Name6>X</Name6></Name></Names></Designation></Designations>"
    with pytest.raises(ListFormatError, match=r"UK-Sanctions-List\.xml: <Designation> number 1 has no UniqueID"):
        get_importer("uk_sl").parse({"UK-Sanctions-List.xml": xml})
