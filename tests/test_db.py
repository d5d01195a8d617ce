"""The one-statement insert the webhook receipt rests on (``django_kyc.db.insert_unless_conflict``).

It builds its SQL once and prepares values itself rather than through Django's insert compiler, so these
tests hold it to what the compiler would have stored, and to Django's behaviour around it: the statement is
one query that Django's tooling sees, its errors are Django's, and it joins the caller's transaction.
"""

from __future__ import annotations

import uuid
from collections.abc import Callable, Iterator
from datetime import UTC, datetime

import pytest
from django.db import DataError, connection, transaction
from django.db.models import Value
from django.test.utils import CaptureQueriesContext

from django_kyc.db import insert_unless_conflict, savepoint_if_nested
from django_kyc.models import WebhookEvent

pytestmark = pytest.mark.django_db


def event(**fields: object) -> WebhookEvent:
    values: dict[str, object] = {
        "backend": "sandbox",
        "event_id": f"evt_{uuid.uuid4().hex}",
        "event_type": "verification.updated",
        "provider_ref": "sbx_ver_1",
        "occurred_at": datetime(2026, 12, 4, 18, 4, 39, 458911, tzinfo=UTC),
        "headers": {"content-type": "application/json", "user-agent": "tests"},
        "body": b'{"status": "approved", "name": "J\xc3\xbcrgen"}',
    }
    values.update(fields)
    return WebhookEvent(**values)


def test_a_new_row_is_stored_as_the_orm_would_store_it() -> None:
    row = event()
    before = datetime.now(UTC)

    assert insert_unless_conflict(row) is True

    stored = WebhookEvent.objects.get(pk=row.pk)
    assert (stored.backend, stored.event_id, stored.event_type, stored.provider_ref) == (
        "sandbox",
        row.event_id,
        "verification.updated",
        "sbx_ver_1",
    )
    assert stored.occurred_at == row.occurred_at
    assert stored.headers == {"content-type": "application/json", "user-agent": "tests"}
    assert bytes(stored.body) == b'{"status": "approved", "name": "J\xc3\xbcrgen"}'
    assert (stored.state, stored.attempts, stored.note, stored.last_error) == ("received", 0, "", "")
    assert stored.next_attempt_at is None
    assert stored.processed_at is None
    assert stored.verification_id is None
    assert before <= stored.received_at <= datetime.now(UTC)  # auto_now_add, set on the way in
    assert row._state.adding is False
    assert row._state.db == "default"


def test_the_body_is_encrypted_in_the_column() -> None:
    row = event(body=b'{"name": "Ada Lovelace"}')
    insert_unless_conflict(row)
    with connection.cursor() as cursor:
        table = connection.ops.quote_name(WebhookEvent._meta.db_table)
        cursor.execute(f"SELECT body FROM {table} WHERE event_id = %s", [row.event_id])  # noqa: S608
        (column,) = cursor.fetchone()
    assert b"Lovelace" not in (column.encode() if isinstance(column, str) else bytes(column))


def test_a_repeat_of_the_same_event_inserts_nothing() -> None:
    first = event()
    repeat = event(event_id=first.event_id, body=b"another body")

    assert insert_unless_conflict(first) is True
    assert insert_unless_conflict(repeat) is False

    assert WebhookEvent.objects.filter(event_id=first.event_id).count() == 1
    assert bytes(WebhookEvent.objects.get(event_id=first.event_id).body) == bytes(first.body)
    assert repeat._state.adding is True  # nothing was stored for it


def test_each_insert_is_one_statement_that_django_sees() -> None:
    insert_unless_conflict(event())
    with CaptureQueriesContext(connection) as queries:
        insert_unless_conflict(event())
        insert_unless_conflict(event())
    assert len(queries) == 2
    assert all(query["sql"].startswith(("INSERT INTO", "INSERT OR IGNORE INTO")) for query in queries)


def test_a_value_that_is_an_expression_goes_through_the_compiler() -> None:
    row = event(note=Value("set by SQL"))

    assert insert_unless_conflict(row) is True

    assert WebhookEvent.objects.get(pk=row.pk).note == "set by SQL"


def test_inside_a_transaction_the_insert_is_rolled_back_with_it() -> None:
    row = event()

    def caller_that_fails_after_the_insert() -> None:
        with transaction.atomic():
            with savepoint_if_nested():
                assert insert_unless_conflict(row) is True
            raise RuntimeError("the caller fails after the insert")

    with pytest.raises(RuntimeError):
        caller_that_fails_after_the_insert()
    assert not WebhookEvent.objects.filter(pk=row.pk).exists()


# --- PostgreSQL: prepared statements, only where the site allows them ---------------------------------------


@pytest.fixture
def postgresql() -> None:
    if connection.vendor != "postgresql":
        pytest.skip("PostgreSQL pass only (make test-postgres)")


SetThreshold = Callable[[int | None], None]


@pytest.fixture
def prepare_threshold(postgresql: None) -> Iterator[SetThreshold]:
    """Set psycopg's threshold on this test's connection as ``OPTIONS["prepare_threshold"]`` would."""
    connection.ensure_connection()
    raw = connection.connection
    original = raw.prepare_threshold

    def set_threshold(value: int | None) -> None:
        raw.prepare_threshold = value

    yield set_threshold
    raw.prepare_threshold = original


def prepared_inserts() -> int:
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT count(*) FROM pg_prepared_statements WHERE statement LIKE %s",
            [f'INSERT INTO "{WebhookEvent._meta.db_table}"%'],
        )
        (count,) = cursor.fetchone()
    return int(count)


def test_postgresql_prepares_the_insert_when_the_site_allows_it(
    prepare_threshold: SetThreshold,
) -> None:
    prepare_threshold(1)
    for _ in range(3):
        insert_unless_conflict(event())
    assert prepared_inserts() == 1
    assert WebhookEvent.objects.count() == 3


def test_postgresql_prepares_nothing_by_default(prepare_threshold: SetThreshold) -> None:
    prepare_threshold(None)  # Django's default: connection poolers keep working
    for _ in range(3):
        insert_unless_conflict(event())
    assert prepared_inserts() == 0
    assert WebhookEvent.objects.count() == 3


@pytest.mark.parametrize("threshold", [None, 1])
def test_postgresql_errors_are_djangos_either_way(prepare_threshold: SetThreshold, threshold: int | None) -> None:
    prepare_threshold(threshold)
    insert_unless_conflict(event())
    with pytest.raises(DataError):
        insert_unless_conflict(event(event_type="NUL \x00 is refused by PostgreSQL"))


@pytest.mark.parametrize("threshold", [None, 1])
def test_postgresql_a_repeat_inserts_nothing_either_way(prepare_threshold: SetThreshold, threshold: int | None) -> None:
    prepare_threshold(threshold)
    first = event()
    assert insert_unless_conflict(first) is True
    assert insert_unless_conflict(event(event_id=first.event_id)) is False
    assert insert_unless_conflict(event(event_id=first.event_id)) is False
    assert WebhookEvent.objects.filter(event_id=first.event_id).count() == 1


def kept_cursor() -> object:
    return getattr(connection, "_django_kyc_insert_cursor", None)


@pytest.mark.django_db(transaction=True)
def test_postgresql_the_binding_cursor_lives_as_long_as_its_connection(prepare_threshold: SetThreshold) -> None:
    """Opening and closing a cursor per receipt cost more than the statement's own Python, so one is kept per
    connection; a new connection must not be handed the old one."""
    prepare_threshold(1)
    insert_unless_conflict(event())
    first = kept_cursor()
    with CaptureQueriesContext(connection) as queries:
        insert_unless_conflict(event())
    assert kept_cursor() is first
    assert not first.closed  # type: ignore[attr-defined]
    assert len(queries) == 1  # still seen by Django's tooling

    connection.close()
    insert_unless_conflict(event())
    assert kept_cursor() is not first
    assert kept_cursor().connection is connection.connection  # type: ignore[attr-defined]
    assert WebhookEvent.objects.count() == 3
