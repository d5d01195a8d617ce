"""``unstorable``: what a database cannot store, found anywhere in a parsed event, and named by its path."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta, timezone

import pytest

from django_kyc.backends.values import DocumentResult, ProviderEvent, ProviderState, unstorable

EAST = timezone(timedelta(hours=5))


def event(**state: object) -> ProviderEvent:
    values: dict[str, object] = {"status": "approved", "provider_status": "GREEN"}
    values.update(state)
    return ProviderEvent(event_id="evt_1", event_type="verification.updated", state=ProviderState(**values))  # type: ignore[arg-type]


def test_an_ordinary_event_is_storable() -> None:
    storable = event(
        reasons=("DOCUMENT_EXPIRED",),
        occurred_at=datetime(2026, 12, 4, tzinfo=UTC),
        data={"score": 0.9, "checks": [1, 2.5, True, None], "nested": {"name": "Jürgen"}},
        documents=(DocumentResult(status="verified", document_id="doc_1"),),
    )
    assert unstorable(storable, "event") is None
    assert unstorable({"content-type": "application/json"}, "a kept header") is None


@pytest.mark.parametrize(
    ("value", "where"),
    [
        (event(provider_status="GREEN\x00"), "event.state.provider_status"),
        (event(reasons=("ok", "bad \ud800")), "event.state.reasons"),
        (event(data={"deep": [{"deeper": ["\x00"]}]}), "event.state.data"),
        (event(data={"key \x00": 1}), "event.state.data"),  # keys too
        (event(occurred_at=datetime(1, 1, 1, tzinfo=EAST)), "event.state.occurred_at"),  # year 0 in UTC
        (event(documents=(DocumentResult(status="ok\x00"),)), "event.state.documents.status"),
        (ProviderEvent(event_id="evt_\x00", event_type="x"), "event.event_id"),
        ({"x-request-id": "a\x00b"}, "event"),
        ("\x00", "event"),
    ],
)
def test_the_unstorable_value_is_named_by_its_dataclass_path(value: object, where: str) -> None:
    assert unstorable(value, "event") == where


def test_a_naive_datetime_or_a_type_is_not_walked_into() -> None:
    assert unstorable(datetime(1, 1, 1), "event") is None  # naive: nothing to convert
    assert unstorable(ProviderState, "event") is None  # the class, not an instance


def test_depth_is_no_problem() -> None:
    deep: object = "\x00"
    for _ in range(5000):
        deep = [deep]
    assert unstorable(deep, "event") == "event"
