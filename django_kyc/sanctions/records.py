"""What an importer makes of one listed record, whatever the authority's format.

Importers produce :class:`ListedEntry` values and nothing else; :mod:`django_kyc.sanctions.store` writes them.
Keeping the records plain (frozen, JSON-able) means the content digest is stable across formats and a reload
of an unchanged file writes nothing.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Mapping, Sequence
from dataclasses import asdict, dataclass, field
from datetime import date, datetime
from typing import Any

from django_kyc.models.sanctions import NameType


@dataclass(frozen=True)
class ListedName:
    """One name of a listed entry. ``weak`` marks a low-quality alias (a nickname, a kunya), which may support a
    match but should not make one alone."""

    name: str
    name_type: str = NameType.PRIMARY
    weak: bool = False
    script: str = ""


@dataclass(frozen=True)
class PartialDate:
    """A date as lists give them: a full date, a month and year, a year, a range of years, or "circa"."""

    year: int
    month: int | None = None
    day: int | None = None
    year_to: int | None = None  # a range "1960 to 1962": year=1960, year_to=1962
    circa: bool = False

    def as_json(self) -> dict[str, Any]:
        return {key: value for key, value in asdict(self).items() if value not in (None, False)}

    @classmethod
    def from_json(cls, value: Mapping[str, Any]) -> PartialDate:
        return cls(
            year=int(value["year"]),
            month=value.get("month"),
            day=value.get("day"),
            year_to=value.get("year_to"),
            circa=bool(value.get("circa", False)),
        )

    def __str__(self) -> str:
        if self.year_to:
            return f"{self.year}..{self.year_to}"
        text = "-".join(
            f"{part:02d}" if index else str(part)
            for index, part in enumerate(p for p in (self.year, self.month, self.day) if p is not None)
        )
        return f"~{text}" if self.circa else text


@dataclass(frozen=True)
class ListedEntry:
    """One listed person, organisation, vessel or aircraft.

    ``nationalities`` and ``countries`` are ISO 3166-1 alpha-2 codes where the importer could map the
    authority's wording; what it could not map stays in ``raw``. ``raw`` is the original record (as parsed
    fields), kept for the reviewer and the audit trail.
    """

    source_id: str
    kind: str
    names: Sequence[ListedName]
    dobs: Sequence[PartialDate] = ()
    nationalities: Sequence[str] = ()
    countries: Sequence[str] = ()
    places_of_birth: Sequence[str] = ()
    documents: Sequence[str] = ()
    programmes: Sequence[str] = ()
    listed_on: date | None = None
    remarks: str = ""
    raw: Mapping[str, Any] = field(default_factory=dict)

    @property
    def caption(self) -> str:
        """The primary name (the first name given when the record marks none primary)."""
        for name in self.names:
            if name.name_type == NameType.PRIMARY:
                return name.name
        return self.names[0].name if self.names else ""

    def data(self) -> dict[str, Any]:
        """The structured facts matching reads (stored as ``ListEntry.data``)."""
        return {
            "dobs": [dob.as_json() for dob in self.dobs],
            "nationalities": list(self.nationalities),
            "countries": list(self.countries),
            "places_of_birth": list(self.places_of_birth),
            "documents": list(self.documents),
            "remarks": self.remarks,
        }

    def digest(self) -> str:
        """A hash of everything the record says: equal digests mean nothing to rewrite on reload."""
        content = {
            "kind": self.kind,
            "names": [asdict(name) for name in self.names],
            "data": self.data(),
            "programmes": list(self.programmes),
            "listed_on": self.listed_on.isoformat() if self.listed_on else None,
            "raw": self.raw,
        }
        canonical = json.dumps(content, sort_keys=True, ensure_ascii=False, separators=(",", ":"), default=str)
        return hashlib.sha256(canonical.encode()).hexdigest()


@dataclass(frozen=True)
class ParsedList:
    """A whole file, parsed and validated: only then does the store touch the database."""

    entries: Sequence[ListedEntry]
    published_at: datetime | None = None
