"""OFAC's legacy CSV files: the SDN list (``SDN.CSV`` + ``ALT.CSV`` + ``ADD.CSV`` + ``SDN_COMMENTS.CSV``) and
the consolidated non-SDN list (``CONS_PRIM`` / ``CONS_ALT`` / ``CONS_ADD`` / ``CONS_COMMENTS``), joined on
``ent_num``.

The files have no header; nulls are ``-0-`` (often with a trailing space); the last record is followed by a SUB
byte (0x1A). Names of individuals are written ``LAST, First``. Everything beyond name, type and programme is
in the free-text Remarks: dates and places of birth, nationalities, documents, and the weak a.k.a.s
(``a.k.a. 'NAME'``), which appear nowhere else (the strong ones are rows of the alias file).
"""

from __future__ import annotations

import csv
import io
import re
from collections.abc import Mapping
from functools import partial as bind

from django_kyc.exceptions import ListFormatError
from django_kyc.models.sanctions import EntryKind, ListSource, NameType
from django_kyc.sanctions.countries import map_countries
from django_kyc.sanctions.importers import Importer
from django_kyc.sanctions.importers.common import partial, unique
from django_kyc.sanctions.records import ListedEntry, ListedName, ParsedList, PartialDate

SLS = "https://sanctionslistservice.ofac.treas.gov/api/PublicationPreview/exports/"
PRIMARY_COLUMNS = 12
KINDS = {"individual": EntryKind.PERSON, "vessel": EntryKind.VESSEL, "aircraft": EntryKind.AIRCRAFT}
ALT_TYPES = {"aka": NameType.ALIAS, "fka": NameType.FORMER, "nka": NameType.ALIAS}
MONTHS = {
    month: number
    for number, month in enumerate(
        ["jan", "feb", "mar", "apr", "may", "jun", "jul", "aug", "sep", "oct", "nov", "dec"], start=1
    )
}
DOCUMENT_LABELS = re.compile(
    r"^(passport|national id|tax id|registration|identification|cedula|c\.u\.r\.p|ssn|driver|nit|rfc|d\.n\.i|"
    r"residency|personal id|id no|vessel registration|imo|aircraft)",
    re.IGNORECASE,
)
#: ``a.k.a. 'NAME'``, with straight or typographic quotes (U+2018/U+2019)
WEAK_ALIAS = re.compile(r"^(?:alt\.\s+)?([af])\.k\.a\.?,?\s+['\u2018\"](.+?)['\u2019\"]\.?$", re.IGNORECASE)


def rows(data: bytes, file: str, columns: int) -> list[list[str]]:
    """The records of one file with nulls as empty strings. A record with fewer than ``columns`` fields or an
    unterminated quote (a truncated file) is refused with its line number."""
    try:
        content = data.decode("utf-8")
    except UnicodeDecodeError:
        content = data.decode("cp1252", errors="replace")
    content = content.rstrip("\x1a \r\n\t")
    reader = csv.reader(io.StringIO(content, newline=""), strict=True)
    found: list[list[str]] = []
    try:
        for record in reader:
            if not record or all(not field.strip() for field in record):
                continue
            if len(record) < columns:
                raise ListFormatError(
                    f"{file}: line {reader.line_num} has {len(record)} field(s), expected {columns} "
                    "(truncated or not an OFAC legacy CSV file)."
                )
            found.append([_null(field) for field in record])
    except csv.Error as exc:
        raise ListFormatError(f"{file}: line {reader.line_num}: {exc} (truncated file?).") from exc
    return found


def _null(value: str) -> str:
    value = value.strip()
    return "" if value == "-0-" else value


def reorder(name: str, person: bool) -> str:
    """``LAST, First Middle`` → ``First Middle LAST`` for individuals; other names as written."""
    if person and name.count(",") == 1:
        last, first = (part.strip() for part in name.split(","))
        if first and last:
            return f"{first} {last}"
    return name


def parse_date(value: str) -> PartialDate | None:
    """``10 Dec 1948``, ``Dec 1948``, ``1948``, ``circa 1958``, ``1960 to 1962`` (also ``1960-1962``)."""
    value = value.strip().rstrip(".")
    circa = bool(re.match(r"(circa|approximately|about)\s+", value, re.IGNORECASE))
    value = re.sub(r"^(circa|approximately|about)\s+", "", value, flags=re.IGNORECASE)
    span = re.fullmatch(r"(\d{4})\s*(?:to|-|\u2013)\s*(\d{4})", value)
    if span:
        return partial(span[1], year_to=span[2], circa=circa)
    full = re.fullmatch(r"(?:(\d{1,2})\s+)?([A-Za-z]{3})[a-z]*\.?\s+(\d{4})", value)
    if full and full[2].lower() in MONTHS:
        return partial(full[3], MONTHS[full[2].lower()], full[1], circa=circa)
    year = re.fullmatch(r"(\d{4})", value)
    return partial(year[1], circa=circa) if year else None


def read_remarks(remarks: str) -> dict[str, list[str]]:
    """The remarks mini-grammar: ``; ``-separated clauses, each led by its label (``DOB``, ``alt. POB``, …)."""
    facts: dict[str, list[str]] = {}
    for clause in re.split(r";\s+", remarks.strip().rstrip(".")):
        clause = clause.strip()
        weak = WEAK_ALIAS.match(clause)
        if weak:
            facts.setdefault("fka" if weak[1].lower() == "f" else "aka", []).append(weak[2].strip())
            continue
        label = re.match(r"(?:alt\.\s+)?(DOB|POB|nationality|citizen|Gender)\s+(.+)$", clause, re.IGNORECASE)
        if label:
            facts.setdefault(label[1].lower(), []).append(label[2].strip())
        elif DOCUMENT_LABELS.match(clause):
            facts.setdefault("documents", []).append(clause)
    return facts


def _parse(files: Mapping[str, bytes], *, prefix: str) -> ParsedList:
    main, alt, add, comments = (f"{prefix}{suffix}" for suffix in ("PRIM.CSV", "ALT.CSV", "ADD.CSV", "COMMENTS.CSV"))
    if prefix == "SDN_":
        main, alt, add, comments = "SDN.CSV", "ALT.CSV", "ADD.CSV", "SDN_COMMENTS.CSV"
    aliases: dict[str, list[list[str]]] = {}
    for record in rows(files.get(alt, b""), alt, 4):
        aliases.setdefault(record[0], []).append(record)
    addresses: dict[str, list[list[str]]] = {}
    for record in rows(files.get(add, b""), add, 5):
        addresses.setdefault(record[0], []).append(record)
    extended = {record[0]: record[1] for record in rows(files.get(comments, b""), comments, 2)}
    entries = []
    for line, record in enumerate(rows(files[main], main, PRIMARY_COLUMNS), start=1):
        if not record[0].isdigit():
            raise ListFormatError(f"{main}: record {line} has ent_num {record[0]!r}, expected a number.")
        entries.append(
            _entry(record, aliases.get(record[0], []), addresses.get(record[0], []), extended.get(record[0], ""))
        )
    return ParsedList(entries=entries)


def _entry(record: list[str], aliases: list[list[str]], addresses: list[list[str]], extended: str) -> ListedEntry:
    ent_num, sdn_name, sdn_type, program, title = record[:5]
    remarks = record[11]
    if extended:  # the overflow: some files repeat the whole remark, others only its remainder
        remarks = extended if extended.startswith(remarks.rstrip(". ")) else f"{remarks} {extended}".strip()
    kind = KINDS.get(sdn_type.lower(), EntryKind.ORGANISATION)
    person = kind == EntryKind.PERSON
    facts = read_remarks(remarks)
    names = [ListedName(reorder(sdn_name, person))]
    for alias in aliases:
        if alias[3]:
            names.append(ListedName(reorder(alias[3], person), ALT_TYPES.get(alias[2].lower(), NameType.ALIAS)))
    names += [ListedName(name, NameType.ALIAS, weak=True) for name in facts.get("aka", [])]
    names += [ListedName(name, NameType.FORMER, weak=True) for name in facts.get("fka", [])]
    nationalities, unmapped = map_countries(facts.get("nationality", []) + facts.get("citizen", []))
    countries, unmapped_countries = map_countries([address[4] for address in addresses if address[4]])
    dobs = [dob for dob in (parse_date(value) for value in facts.get("dob", [])) if dob]
    raw = {
        "ent_num": ent_num,
        "name": sdn_name,
        "type": sdn_type,
        "program": program,
        "title": title,
        "vessel": list(record[5:11]),
        "remarks": remarks,
        "aliases": [alias[1:] for alias in aliases],
        "addresses": [address[1:] for address in addresses],
        "unmapped_countries": unique(unmapped + unmapped_countries),
    }
    return ListedEntry(
        source_id=ent_num,
        kind=kind,
        names=names,
        dobs=dobs,
        nationalities=nationalities,
        countries=countries,
        places_of_birth=facts.get("pob", []),
        documents=facts.get("documents", []),
        programmes=[part.strip("[] ") for part in program.split("] [") if part.strip("[] ")],
        remarks=remarks,
        raw={key: value for key, value in raw.items() if value},
    )


IMPORTERS = (
    Importer(
        ListSource.OFAC_SDN,
        {name: SLS + name for name in ("SDN.CSV", "ALT.CSV", "ADD.CSV", "SDN_COMMENTS.CSV")},
        bind(_parse, prefix="SDN_"),
        optional=frozenset({"SDN_COMMENTS.CSV"}),
    ),
    Importer(
        ListSource.OFAC_CONS,
        {name: SLS + name for name in ("CONS_PRIM.CSV", "CONS_ALT.CSV", "CONS_ADD.CSV", "CONS_COMMENTS.CSV")},
        bind(_parse, prefix="CONS_"),
        optional=frozenset({"CONS_COMMENTS.CSV"}),
    ),
)
