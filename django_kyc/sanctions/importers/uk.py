"""The FCDO's UK Sanctions List, ``UK-Sanctions-List.xml`` (no namespace); since 28 January 2026 the only
official UK list.

Keyed on ``UniqueID``. A name is ``Name1`` (given) … ``Name6`` (family, or the whole name of an entity or
ship); ``NameType`` tells a primary name from its spelling variations and aliases, ``AliasStrength`` marks low
quality ones (weak). Non-Latin names sit under ``NonLatinNames`` (nesting differs between files, so any
``NameNonLatinScript`` below it is read). Dates are ``dd/mm/yyyy`` with unknown parts written literally
``dd`` / ``mm``.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from datetime import date, datetime, timezone
from xml.etree.ElementTree import Element

from django_kyc.exceptions import ListFormatError
from django_kyc.models.sanctions import EntryKind, ListSource, NameType
from django_kyc.sanctions.countries import map_countries
from django_kyc.sanctions.importers import Importer
from django_kyc.sanctions.importers.common import (
    child,
    descendants,
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

FILE = "UK-Sanctions-List.xml"
URL = "https://sanctionslist.fcdo.gov.uk/docs/UK-Sanctions-List.xml"
KINDS = {"individual": EntryKind.PERSON, "entity": EntryKind.ORGANISATION, "ship": EntryKind.VESSEL}
NAME_TYPES = {"primary name": NameType.PRIMARY, "primary name variation": NameType.VARIATION, "alias": NameType.ALIAS}
DMY = re.compile(r"^\s*(dd|\d{1,2})/(mm|\d{1,2})/(\d{4})\s*$", re.IGNORECASE)


def uk_date(value: str) -> PartialDate | None:
    """``31/12/1960``, ``dd/07/1955`` (month and year), ``dd/mm/1950`` (year only)."""
    match = DMY.match(value or "")
    if not match:
        return None
    day, month, year = (None if part.isalpha() else part for part in match.groups())
    return partial(year, month, day)


def full_date(value: str) -> date | None:
    found = uk_date(value)
    return date(found.year, found.month, found.day) if found and found.month and found.day else None


def parse(files: Mapping[str, bytes]) -> ParsedList:
    root = parse_xml(files[FILE], FILE, "Designations")
    entries = []
    for index, element in enumerate(kids(root, "Designation"), start=1):
        unique_id = text(element, "UniqueID")
        if not unique_id:
            raise ListFormatError(f"{FILE}: <Designation> number {index} has no UniqueID.")
        entries.append(_entry(element, unique_id))
    generated = full_date(text(root, "DateGenerated"))
    published = datetime(generated.year, generated.month, generated.day, tzinfo=timezone.utc) if generated else None
    return ParsedList(entries=entries, published_at=published)


def _names(element: Element) -> list[ListedName]:
    names: list[ListedName] = []
    for name in kids(child(element, "Names"), "Name"):
        parts = [text(name, f"Name{number}") for number in range(1, 7)]
        whole = " ".join(part for part in parts if part)
        if not whole:
            continue
        name_type = NAME_TYPES.get(text(name, "NameType").lower(), NameType.PRIMARY if not names else NameType.ALIAS)
        weak = text(name, "AliasStrength").lower().startswith("low")
        names.append(ListedName(whole, name_type, weak))
    for original in descendants(child(element, "NonLatinNames"), "NameNonLatinScript"):
        value = (original.text or "").strip()
        if value:
            names.append(ListedName(value, NameType.ORIGINAL_SCRIPT, script=script_of(value)))
    return names


def _entry(element: Element, unique_id: str) -> ListedEntry:
    names = _names(element)
    if not names:
        raise ListFormatError(f"{FILE}: <Designation> {unique_id} has no name.")
    details = child(element, "IndividualDetails")
    nationalities, unmapped = map_countries(texts(details, "Nationality"))
    countries, unmapped_addresses = map_countries(texts(child(element, "Addresses"), "AddressCountry"))
    places = [
        ", ".join(part for part in (text(place, "TownOfBirth"), text(place, "CountryOfBirth")) if part)
        for place in descendants(details, "Location")
    ]
    documents = (
        texts(element, "PassportNumber") + texts(element, "NationalIdentifierNumber") + texts(element, "IMONumber")
    )
    raw = record(element, unmapped, unmapped_addresses)
    return ListedEntry(
        source_id=unique_id,
        kind=KINDS.get(text(element, "IndividualEntityShip").lower(), EntryKind.ORGANISATION),
        names=names,
        dobs=[dob for dob in (uk_date(value) for value in texts(details, "DOB")) if dob],
        nationalities=nationalities,
        countries=countries,
        places_of_birth=[place for place in places if place],
        documents=documents,
        programmes=unique([text(element, "RegimeName")]),
        listed_on=full_date(text(element, "DateDesignated")),
        remarks=text(element, "OtherInformation"),
        raw=raw,
    )


IMPORTERS = (Importer(ListSource.UK_SL, {FILE: URL}, parse),)
