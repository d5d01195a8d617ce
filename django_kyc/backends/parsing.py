"""Tolerant readers for values in provider payloads.

Providers send timestamps with ``Z`` or an offset (sometimes none), dates with or without a time part, and
null where an object or a string is expected. Backends read them through these helpers so a surprising value
becomes ``None`` / empty, never an exception halfway through applying an event.
"""

from __future__ import annotations

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
