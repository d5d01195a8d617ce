"""The EU Financial Sanctions Files consolidated list, XML 1.1 (``xmlFullSanctionsList_1_1``, namespaced).

Keyed on the entity's ``logicalId``. Every name, primary or alias, is a ``nameAlias``: the first one is taken
as primary, ``strong="false"`` marks a weak alias, and a ``wholeName`` in a non-Latin script is recorded as
the original-script name. A ``birthdate`` may give a whole date, a year only, or a range, and ``circa``.
"""

from __future__ import annotations

from collections.abc import Mapping
from xml.etree.ElementTree import Element

from django_kyc.exceptions import ListFormatError
from django_kyc.models.sanctions import EntryKind, ListSource, NameType
from django_kyc.sanctions.countries import map_countries
from django_kyc.sanctions.importers import Importer
from django_kyc.sanctions.importers.common import (
    iso_date,
    iso_datetime,
    kids,
    parse_xml,
    partial,
    record,
    script_of,
    unique,
)
from django_kyc.sanctions.records import ListedEntry, ListedName, ParsedList, PartialDate

FILE = "xmlFullSanctionsList_1_1.xml"
URL = "https://webgate.ec.europa.eu/fsd/fsf/public/files/xmlFullSanctionsList_1_1/content?token=dG9rZW4tMjAxNw"
UNKNOWN_COUNTRY = {"", "00"}


def parse(files: Mapping[str, bytes]) -> ParsedList:
    root = parse_xml(files[FILE], FILE, "export")
    entries = []
    for index, element in enumerate(kids(root, "sanctionEntity"), start=1):
        logical_id = element.get("logicalId", "").strip()
        if not logical_id:
            raise ListFormatError(f"{FILE}: <sanctionEntity> number {index} has no logicalId.")
        entries.append(_entry(element, logical_id))
    return ParsedList(entries=entries, published_at=iso_datetime(root.get("generationDate", "")))


def _names(element: Element) -> list[ListedName]:
    names: list[ListedName] = []
    for alias in kids(element, "nameAlias"):
        whole = alias.get("wholeName", "").strip() or " ".join(
            alias.get(part, "").strip()
            for part in ("firstName", "middleName", "lastName")
            if alias.get(part, "").strip()
        )
        if not whole:
            continue
        weak = alias.get("strong", "true").strip().lower() == "false"
        script = script_of(whole)
        if script != "Latin":
            names.append(ListedName(whole, NameType.ORIGINAL_SCRIPT, weak, script))
        else:
            names.append(ListedName(whole, NameType.ALIAS if names else NameType.PRIMARY, weak))
    if names and all(name.name_type != NameType.PRIMARY for name in names):
        first = names[0]
        names[0] = ListedName(first.name, NameType.PRIMARY, first.weak, first.script)
    return names


def _dob(element: Element) -> PartialDate | None:
    circa = element.get("circa", "").lower() == "true"
    if element.get("yearRangeFrom"):
        return partial(element.get("yearRangeFrom"), year_to=element.get("yearRangeTo"), circa=circa)
    day = iso_date(element.get("birthdate", ""))
    if day:
        return partial(day.year, day.month, day.day, circa=circa)
    return partial(element.get("year"), element.get("monthOfYear"), element.get("dayOfMonth"), circa=circa)


def _country(element: Element) -> str:
    code = element.get("countryIso2Code", "").strip().upper()
    return code if code not in UNKNOWN_COUNTRY else element.get("countryDescription", "").strip()


def _country_name(element: Element) -> str:
    return (
        "" if element.get("countryIso2Code", "").strip() in UNKNOWN_COUNTRY else element.get("countryDescription", "")
    )


def _entry(element: Element, logical_id: str) -> ListedEntry:
    names = _names(element)
    if not names:
        raise ListFormatError(f"{FILE}: <sanctionEntity logicalId={logical_id}> has no name.")
    subject = next(kids(element, "subjectType"), None)
    code = subject.get("code", "").lower() if subject is not None else ""
    kind = EntryKind.PERSON if code == "person" else EntryKind.ORGANISATION
    births = list(kids(element, "birthdate"))
    nationalities, unmapped = map_countries([_country(item) for item in kids(element, "citizenship")])
    countries, unmapped_addresses = map_countries([_country(item) for item in kids(element, "address")])
    places = [
        ", ".join(p for p in (b.get("city", ""), b.get("place", ""), _country_name(b)) if p.strip()) for b in births
    ]
    documents = [
        " ".join(
            p
            for p in (doc.get("identificationTypeCode", ""), doc.get("number", ""), doc.get("countryIso2Code", ""))
            if p
        )
        for doc in kids(element, "identification")
    ]
    regulations = list(kids(element, "regulation"))
    dates = [
        day
        for day in (iso_date(r.get("entryIntoForceDate", "") or r.get("publicationDate", "")) for r in regulations)
        if day
    ]
    listed_on = iso_date(element.get("designationDate", "")) or (min(dates) if dates else None)
    raw = record(element, unmapped, unmapped_addresses)
    return ListedEntry(
        source_id=logical_id,
        kind=kind,
        names=names,
        dobs=[dob for dob in (_dob(item) for item in births) if dob],
        nationalities=nationalities,
        countries=countries,
        places_of_birth=[place for place in places if place],
        documents=[doc for doc in documents if doc.strip()],
        programmes=unique([r.get("programme", "").strip() for r in regulations]),
        listed_on=listed_on,
        remarks="\n".join(text for text in ((r.text or "").strip() for r in kids(element, "remark")) if text),
        raw=raw,
    )


IMPORTERS = (Importer(ListSource.EU_FSF, {FILE: URL}, parse),)
