"""The OFAC legacy CSV importer on files in OFAC's layout (no header, ``-0- `` nulls, SUB byte at the end)."""

from __future__ import annotations

import pytest

from django_kyc.exceptions import ListFormatError
from django_kyc.models.sanctions import EntryKind, NameType
from django_kyc.sanctions.importers import get_importer
from django_kyc.sanctions.importers.ofac import parse_date, read_remarks
from django_kyc.sanctions.records import PartialDate
from tests.sanctions.conftest import sample_files


def csv(*lines: str) -> bytes:
    return ("\r\n".join(lines) + "\r\n").encode() + b"\x1a"


def test_the_sdn_sample_joins_its_four_files() -> None:
    parsed = get_importer("ofac_sdn").parse(sample_files("ofac_sdn"))
    entries = {entry.source_id: entry for entry in parsed.entries}
    assert len(entries) == 5
    person = entries["1001"]
    assert person.kind == EntryKind.PERSON
    assert person.caption == "Tessaly Quint VELMORA"  # "LAST, First" turned round
    assert [(n.name, n.name_type, n.weak) for n in person.names[1:]] == [
        ("Tess VELMORA", NameType.ALIAS, False),  # ALT.CSV: strong
        ("THE HERON", NameType.ALIAS, True),  # only in the remarks: weak
    ]
    assert person.dobs == [PartialDate(1971, 3, 12), PartialDate(1972)]
    assert person.nationalities == ["IQ"]
    assert person.raw["unmapped_countries"] == ["Ruritanian"]
    assert person.countries == ["IQ"]  # ADD.CSV
    assert person.programmes == ["SDGT", "ILLICIT-NET"]  # "] [" joiner
    assert person.places_of_birth == ["Port Arvel, Ruritania"]
    assert person.documents == ["Passport ZZ0000001 (Ruritania)"]
    assert entries["1002"].kind == EntryKind.ORGANISATION  # a null SDN_Type
    assert entries["1002"].names[1].name_type == NameType.FORMER
    assert entries["1004"].kind == EntryKind.VESSEL
    # the comments file carries the whole remark here
    assert entries["1005"].remarks.endswith("Gender Male.")
    assert entries["1005"].dobs == [PartialDate(1960, year_to=1962)]


def test_the_consolidated_non_sdn_files_use_the_same_reader() -> None:
    parsed = get_importer("ofac_cons").parse(sample_files("ofac_cons"))
    bank = next(entry for entry in parsed.entries if entry.source_id == "2001")
    assert bank.programmes == ["NS-MBS", "CMIC"]
    assert [name.name for name in bank.names if name.weak] == ["HCB"]
    assert next(entry for entry in parsed.entries if entry.source_id == "2002").dobs == [PartialDate(1980, 7)]


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("10 Dec 1948", PartialDate(1948, 12, 10)),
        ("Mar 1960", PartialDate(1960, 3)),
        ("1961", PartialDate(1961)),
        ("circa 1958", PartialDate(1958, circa=True)),
        ("1960 to 1962", PartialDate(1960, year_to=1962)),
        ("31 Feb 1970", PartialDate(1970, 2)),  # an impossible day is dropped, the month kept
        ("sometime", None),
    ],
)
def test_remark_dates(text: str, expected: PartialDate | None) -> None:
    assert parse_date(text) == expected


def test_the_remarks_grammar() -> None:
    facts = read_remarks(
        "DOB 10 Dec 1948; alt. DOB 1949; POB Tunis, Tunisia; nationality Palestinian; alt. nationality Jordan; "
        "citizen Iraq; Gender Male; a.k.a. 'BNC'; a.k.a. 'ABU X'; National ID No. 123 (Iraq)."
    )
    assert facts["dob"] == ["10 Dec 1948", "1949"]
    assert facts["pob"] == ["Tunis, Tunisia"]
    assert facts["nationality"] == ["Palestinian", "Jordan"]
    assert facts["citizen"] == ["Iraq"]
    assert facts["aka"] == ["BNC", "ABU X"]
    assert facts["documents"] == ["National ID No. 123 (Iraq)"]


def test_an_alias_of_an_unknown_entry_and_missing_optional_files_are_tolerated() -> None:
    files = {
        "SDN.CSV": csv('7,"SOLO, Han","individual","X",-0- ,-0- ,-0- ,-0- ,-0- ,-0- ,-0- ,-0- '),
        "ALT.CSV": csv('99,1,"aka","NOBODY",-0- '),
        "ADD.CSV": b"",
    }
    (entry,) = get_importer("ofac_sdn").parse(files).entries
    assert entry.caption == "Han SOLO"
    assert entry.remarks == ""


@pytest.mark.parametrize(
    ("content", "message"),
    [
        (csv('1,"CUT OFF","individual","X",-0- ,-0- '), "SDN.CSV: line 1 has 6 field(s), expected 12"),
        (b'1,"UNTERMINATED,individual', "SDN.CSV: line 1"),
        (csv('X1,"A","individual","X",-0- ,-0- ,-0- ,-0- ,-0- ,-0- ,-0- ,-0- '), "ent_num 'X1'"),
        (b"", "hold no entries"),
    ],
)
def test_malformed_and_truncated_files_are_refused_with_where(content: bytes, message: str) -> None:
    with pytest.raises(ListFormatError, match=message.replace("(", r"\(").replace(")", r"\)")):
        get_importer("ofac_sdn").parse({"SDN.CSV": content, "ALT.CSV": b"", "ADD.CSV": b""})


def test_a_missing_required_file_is_named() -> None:
    with pytest.raises(ListFormatError, match=r"missing file.*ALT\.CSV"):
        get_importer("ofac_sdn").parse({"SDN.CSV": b"", "ADD.CSV": b""})
