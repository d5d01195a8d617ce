"""Tolerant readers for values in provider payloads.

Providers send timestamps with ``Z`` or an offset (sometimes none), dates with or without a time part, and
null where an object or a string is expected. Backends read them through these helpers so a surprising value
becomes ``None`` / empty, never an exception halfway through applying an event.
"""

from __future__ import annotations

import uuid
from collections.abc import Mapping
from datetime import date, datetime
from datetime import timezone as dt_timezone
from typing import Any


def iso_datetime(value: Any) -> datetime | None:
    """ISO 8601 with ``Z`` or an offset; a value without one is taken as UTC. ``None`` if unusable."""
    if not isinstance(value, str) or not value.strip():
        return None
    try:
        parsed = datetime.fromisoformat(value.strip().replace("Z", "+00:00"))
    except ValueError:
        return None
    return parsed if parsed.tzinfo else parsed.replace(tzinfo=dt_timezone.utc)


def iso_date(value: Any) -> date | None:
    """The date part of an ISO value (``2024-05-01`` or ``2024-05-01T…``); ``None`` if unusable."""
    if not value:
        return None
    try:
        return date.fromisoformat(str(value)[:10])
    except ValueError:
        return None


def text(value: Any) -> str:
    return "" if value is None else str(value)


def mapping(value: Any) -> Mapping[str, Any]:
    return value if isinstance(value, Mapping) else {}


def uuid_text(value: Any) -> str:
    """``value`` as a canonical UUID string (our verification ids echoed back by a provider); ``""`` if it is
    none, so a provider's own id in the same field is told apart without an exception."""
    try:
        return str(uuid.UUID(str(value)))
    except ValueError:
        return ""


def number(value: Any) -> float | None:
    """A score or amount sent as a number or a numeric string; ``None`` for anything else (booleans included)."""
    if isinstance(value, bool) or not isinstance(value, int | float | str):
        return None
    try:
        return float(value)
    except ValueError:
        return None


def string_list(value: Any) -> list[str]:
    """A field documented as a list in one place and as a string in another: either way, a list of the
    non-empty strings."""
    if value is None or value == "":
        return []
    items = value if isinstance(value, list | tuple) else [value]
    return [str(item) for item in items if item not in (None, "")]
