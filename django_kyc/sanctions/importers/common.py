"""What the importers share: safe XML parsing, element reading, partial dates, scripts and the raw record.

XML comes from the internet, so it is parsed with defusedxml (no entity expansion, no external entities). Any
problem with a file is a :class:`ListFormatError` naming the file and where in it, so an operator knows what
to fetch again; nothing is loaded from a file that fails.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Iterator
from datetime import date, datetime
from typing import Any
from xml.etree.ElementTree import Element, ParseError

import defusedxml.ElementTree as SafeET
from defusedxml import DefusedXmlException

from django_kyc.exceptions import ListFormatError
from django_kyc.sanctions.records import PartialDate


def parse_xml(data: bytes, file: str, root: str) -> Element:
    """The document's root element, which must be called ``root`` (namespace ignored)."""
    try:
        element = SafeET.fromstring(data)
    except ParseError as exc:
        line, column = getattr(exc, "position", (0, 0))
        raise ListFormatError(f"{file}: not well-formed XML at line {line}, column {column} ({exc}).") from exc
    except DefusedXmlException as exc:
        raise ListFormatError(f"{file}: refused unsafe XML ({exc}).") from exc
    if local(element.tag) != root:
        raise ListFormatError(f"{file}: the root element is <{local(element.tag)}>, expected <{root}>.")
    return element


def local(tag: Any) -> str:
    """A tag without its ``{namespace}``."""
    return str(tag).rsplit("}", 1)[-1]


def kids(element: Element | None, name: str) -> Iterator[Element]:
    """The direct children called ``name``, whatever their namespace."""
    if element is None:
        return iter(())
    return (child for child in element if local(child.tag) == name)


def descendants(element: Element | None, name: str) -> Iterator[Element]:
    if element is None:
        return iter(())
    return (child for child in element.iter() if local(child.tag) == name)


def child(element: Element | None, name: str) -> Element | None:
    return next(kids(element, name), None)


def text(element: Element | None, name: str = "") -> str:
    """The stripped text of ``element`` (or of its child ``name``); empty when absent."""
    target = child(element, name) if name else element
    return (target.text or "").strip() if target is not None else ""


def texts(element: Element | None, name: str) -> list[str]:
    """The non-empty texts of every descendant called ``name``."""
    return [value for value in (text(found) for found in descendants(element, name)) if value]


def as_raw(element: Element) -> Any:
    """An element as JSON: attributes as ``@name``, children by local name (lists when repeated), text."""
    value: dict[str, Any] = {f"@{key}": item for key, item in element.attrib.items()}
    for node in element:
        converted = as_raw(node)
        if converted in ("", {}, None):
            continue
        name = local(node.tag)
        if name in value:
            if not isinstance(value[name], list):
                value[name] = [value[name]]
            value[name].append(converted)
        else:
            value[name] = converted
    body = (element.text or "").strip()
    if not value:
        return body
    if body:
        value["#text"] = body
    return value


def record(element: Element, *unmapped: list[str]) -> dict[str, Any]:
    """The entry's original record (:func:`as_raw`) with the country wordings nothing mapped, so they stay
    readable to the reviewer."""
    raw = as_raw(element)
    raw = raw if isinstance(raw, dict) else {"#text": raw}
    wordings = unique([wording for group in unmapped for wording in group])
    if wordings:
        raw["unmapped_countries"] = wordings
    return raw


def iso_date(value: str) -> date | None:
    """``YYYY-MM-DD`` with anything after it (a time, a ``-05:00`` zone) ignored; ``None`` when not a date."""
    match = re.match(r"\s*(\d{4})-(\d{2})-(\d{2})", value or "")
    if not match:
        return None
    try:
        return date(int(match[1]), int(match[2]), int(match[3]))
    except ValueError:
        return None


def iso_datetime(value: str) -> datetime | None:
    try:
        return datetime.fromisoformat(value.strip().replace("Z", "+00:00")) if value and value.strip() else None
    except ValueError:
        day = iso_date(value)
        return datetime(day.year, day.month, day.day) if day else None


def partial(
    year: Any, month: Any = None, day: Any = None, *, circa: bool = False, year_to: Any = None
) -> PartialDate | None:
    """A :class:`PartialDate` from loose parts, or ``None`` when the year is missing or the parts impossible."""
    try:
        y = int(year)
        m = int(month) if month not in (None, "") else None
        d = int(day) if day not in (None, "") and m else None
        to = int(year_to) if year_to not in (None, "") else None
    except (TypeError, ValueError):
        return None
    if not 1800 <= y <= 2200 or (m is not None and not 1 <= m <= 12):
        return None
    if d is not None:
        try:
            date(y, m or 1, d)
        except ValueError:
            d = None
    return PartialDate(year=y, month=m, day=d, circa=circa, year_to=to if to and to > y else None)


def script_of(name: str) -> str:
    """The Unicode script of a name's first letter that is not Latin ("Arabic", "Cyrillic", "Han", …), or "Latin"."""
    for char in name:
        if char.isalpha():
            try:
                word = unicodedata.name(char).split()[0]
            except ValueError:
                continue
            if word != "LATIN":
                return {"CJK": "Han"}.get(word, word.title())
    return "Latin"


def unique(values: list[str]) -> list[str]:
    return list(dict.fromkeys(value for value in values if value))
