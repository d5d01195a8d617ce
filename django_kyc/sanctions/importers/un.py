"""The UN Security Council consolidated list, ``consolidated.xml`` (no namespace).

Keyed on ``DATAID``. The primary name is ``FIRST_NAME`` … ``FOURTH_NAME`` in the order given (not
given/family: Arabic names come in natural order). Alias ``QUALITY``: ``Good`` and ``a.k.a.`` are strong,
``Low`` weak, ``f.k.a.`` a former name; an alias element may be an empty placeholder, and one ``ALIAS_NAME``
may hold several names joined by ``; ``. Dates may carry a zone suffix (``1960-01-01-05:00``) or read
"Invalid date".
"""

from __future__ import annotations

from collections.abc import Mapping
from xml.etree.ElementTree import Element

from django_kyc.exceptions import ListFormatError
from django_kyc.models.sanctions import EntryKind, ListSource, NameType
from django_kyc.sanctions.countries import map_countries
from django_kyc.sanctions.importers import Importer
from django_kyc.sanctions.importers.common import (
    child,
    iso_date,
    iso_datetime,
    kids,
    parse_xml,
    partial,
    record,
    script_of,
    text,
    texts,
    unique,
)
from django_kyc.sanctions.records import ListedEntry, ListedName, ParsedList, PartialDate

FILE = "consolidated.xml"
URL = "https://scsanctions.un.org/resources/xml/en/consolidated.xml"
QUALITY = {
    "good": (NameType.ALIAS, False),
    "a.k.a.": (NameType.ALIAS, False),
    "low": (NameType.ALIAS, True),
    "f.k.a.": (NameType.FORMER, False),
}


def parse(files: Mapping[str, bytes]) -> ParsedList:
    root = parse_xml(files[FILE], FILE, "CONSOLIDATED_LIST")
    entries = []
    for group, tag, kind in (
        ("INDIVIDUALS", "INDIVIDUAL", EntryKind.PERSON),
        ("ENTITIES", "ENTITY", EntryKind.ORGANISATION),
    ):
        for index, element in enumerate(kids(child(root, group), tag), start=1):
            dataid = text(element, "DATAID")
            if not dataid:
                raise ListFormatError(f"{FILE}: <{tag}> number {index} has no DATAID.")
            entries.append(_entry(element, dataid, kind, tag))
    return ParsedList(entries=entries, published_at=iso_datetime(root.get("dateGenerated", "")))


def _names(element: Element, tag: str) -> list[ListedName]:
    primary = " ".join(text(element, part) for part in ("FIRST_NAME", "SECOND_NAME", "THIRD_NAME", "FOURTH_NAME"))
    names = [ListedName(" ".join(primary.split()))] if primary.strip() else []
    original = text(element, "NAME_ORIGINAL_SCRIPT")
    if original:
        names.append(ListedName(original, NameType.ORIGINAL_SCRIPT, script=script_of(original)))
    for alias in kids(element, f"{tag}_ALIAS"):
        name_type, weak = QUALITY.get(text(alias, "QUALITY").lower(), (NameType.ALIAS, False))
        for name in text(alias, "ALIAS_NAME").split(";"):
            if name.strip():
                script = script_of(name)
                names.append(ListedName(name.strip(), name_type, weak, "" if script == "Latin" else script))
    return names


def _dob(element: Element) -> PartialDate | None:
    kind = text(element, "TYPE_OF_DATE").upper()
    circa = kind.startswith("APPROX")
    if text(element, "FROM_YEAR"):
        return partial(text(element, "FROM_YEAR"), year_to=text(element, "TO_YEAR"), circa=circa)
    day = iso_date(text(element, "DATE"))
    if day:
        return partial(day.year, day.month, day.day, circa=circa)
    return partial(text(element, "YEAR"), circa=circa)


def _entry(element: Element, dataid: str, kind: str, tag: str) -> ListedEntry:
    names = _names(element, tag)
    if not names:
        raise ListFormatError(f"{FILE}: <{tag}> with DATAID {dataid} has no name.")
    places = [
        ", ".join(part for part in (text(place, "CITY"), text(place, "STATE_PROVINCE"), text(place, "COUNTRY")) if part)
        for place in kids(element, f"{tag}_PLACE_OF_BIRTH")
    ]
    nationalities, unmapped = map_countries(texts(child(element, "NATIONALITY"), "VALUE"))
    countries, unmapped_addresses = map_countries(
        [
            text(address, "COUNTRY")
            for address in kids(element, f"{tag}_ADDRESS")
            if text(address, "COUNTRY") not in ("", "-")
        ]
    )
    documents = [
        " ".join(
            part for part in (text(doc, "TYPE_OF_DOCUMENT"), text(doc, "NUMBER"), text(doc, "ISSUING_COUNTRY")) if part
        )
        for doc in kids(element, f"{tag}_DOCUMENT")
    ]
    raw = record(element, unmapped, unmapped_addresses)
    return ListedEntry(
        source_id=dataid,
        kind=kind,
        names=names,
        dobs=[dob for dob in (_dob(item) for item in kids(element, f"{tag}_DATE_OF_BIRTH")) if dob],
        nationalities=nationalities,
        countries=countries,
        places_of_birth=[place for place in places if place],
        documents=[doc for doc in documents if doc],
        programmes=unique([text(element, "UN_LIST_TYPE")]),
        listed_on=iso_date(text(element, "LISTED_ON")),
        remarks=text(element, "COMMENTS1"),
        raw=raw,
    )


IMPORTERS = (Importer(ListSource.UN_SC, {FILE: URL}, parse),)
