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

from django_kyc.db import _KEPT_CURSOR, _insert_statement, insert_unless_conflict, savepoint_if_nested
from django_kyc.models import DocumentFile, WebhookEvent

pytestmark = pytest.mark.django_db


def event(**fields: object) -> dict[str, object]:
    values: dict[str, object] = {
        "id": uuid.uuid4(),
        "backend": "sandbox",
        "event_id": f"evt_{uuid.uuid4().hex}",
        "event_type": "verification.updated",
        "provider_ref": "sbx_ver_1",
        "occurred_at": datetime(2026, 12, 4, 18, 4, 39, 458911, tzinfo=UTC),
        "headers": {"content-type": "application/json", "user-agent": "tests"},
        "body": b'{"status": "approved", "name": "J\xc3\xbcrgen"}',
    }
    values.update(fields)
    return values


def insert(**fields: object) -> tuple[bool, dict[str, object]]:
    values = event(**fields)
    return insert_unless_conflict(WebhookEvent, values), values


def test_a_new_row_is_stored_as_the_orm_would_store_it() -> None:
    before = datetime.now(UTC)

    inserted, values = insert()

    assert inserted is True
    stored = WebhookEvent.objects.get(pk=values["id"])
    assert (stored.backend, stored.event_id, stored.event_type, stored.provider_ref) == (
        "sandbox",
        values["event_id"],
        "verification.updated",
        "sbx_ver_1",
    )
    assert stored.occurred_at == values["occurred_at"]
    assert stored.headers == {"content-type": "application/json", "user-agent": "tests"}
    assert bytes(stored.body) == b'{"status": "approved", "name": "J\xc3\xbcrgen"}'
    assert before <= stored.received_at <= datetime.now(UTC)  # auto_now_add, set on the way in


def test_fields_left_out_get_what_the_model_would_give_them() -> None:
    """No instance is built, so each default is worked out here: they must be the model's own."""
    values = event()
    del values["id"]
    insert_unless_conflict(WebhookEvent, values)

    stored = WebhookEvent.objects.get(event_id=values["event_id"])
    expected = WebhookEvent(**values)
    for field in WebhookEvent._meta.concrete_fields:
        if field.name not in ("id", "received_at", "body"):
            assert getattr(stored, field.attname) == getattr(expected, field.attname), field.name
    assert isinstance(stored.pk, uuid.UUID)  # the default's, not a value left empty
    assert (stored.state, stored.attempts, stored.note, stored.last_error) == ("received", 0, "", "")
    assert stored.holds_event_id is True
    assert stored.next_attempt_at is stored.processed_at is stored.verification_id is None


def test_an_auto_now_add_date_is_stamped_even_over_a_value_given() -> None:
    long_ago = datetime(2001, 1, 1, tzinfo=UTC)
    _, values = insert(received_at=long_ago)
    assert WebhookEvent.objects.get(pk=values["id"]).received_at > long_ago  # as save() would


def test_a_name_that_is_no_field_is_refused() -> None:
    with pytest.raises(TypeError, match="'verification'"):
        insert(verification=None)  # a foreign key goes by its attribute, verification_id
    assert not WebhookEvent.objects.exists()


def test_the_body_is_encrypted_in_the_column() -> None:
    _, values = insert(body=b'{"name": "Ada Lovelace"}')
    with connection.cursor() as cursor:
        table = connection.ops.quote_name(WebhookEvent._meta.db_table)
        cursor.execute(f"SELECT body FROM {table} WHERE event_id = %s", [values["event_id"]])  # noqa: S608
        (column,) = cursor.fetchone()
    assert b"Lovelace" not in (column.encode() if isinstance(column, str) else bytes(column))


def test_a_repeat_of_the_same_event_inserts_nothing() -> None:
    first, values = insert()
    repeat, _ = insert(event_id=values["event_id"], body=b"another body")

    assert (first, repeat) == (True, False)
    assert WebhookEvent.objects.filter(event_id=values["event_id"]).count() == 1
    assert bytes(WebhookEvent.objects.get(event_id=values["event_id"]).body) == values["body"]


def test_each_insert_is_one_statement_that_django_sees() -> None:
    insert()
    with CaptureQueriesContext(connection) as queries:
        insert()
        insert()
    assert len(queries) == 2
    assert all(query["sql"].startswith(("INSERT INTO", "INSERT OR IGNORE INTO")) for query in queries)


def test_a_value_that_is_an_expression_goes_through_the_compiler() -> None:
    inserted, values = insert(note=Value("set by SQL"))

    assert inserted is True
    assert WebhookEvent.objects.get(pk=values["id"]).note == "set by SQL"


def test_a_field_that_prepares_its_own_value_goes_through_an_instance() -> None:
    """A file field's ``pre_save`` saves the file: only a model instance can give it what it needs."""
    statement = _insert_statement(DocumentFile, "default", connection.vendor)
    assert statement.needs_instance
    assert not _insert_statement(WebhookEvent, "default", connection.vendor).needs_instance


def test_inside_a_transaction_the_insert_is_rolled_back_with_it() -> None:
    values = event()

    def caller_that_fails_after_the_insert() -> None:
        with transaction.atomic():
            with savepoint_if_nested():
                assert insert_unless_conflict(WebhookEvent, values) is True
            raise RuntimeError("the caller fails after the insert")

    with pytest.raises(RuntimeError):
        caller_that_fails_after_the_insert()
    assert not WebhookEvent.objects.filter(pk=values["id"]).exists()


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
        insert()
    assert prepared_inserts() == 1
    assert WebhookEvent.objects.count() == 3


def test_postgresql_prepares_nothing_by_default(prepare_threshold: SetThreshold) -> None:
    prepare_threshold(None)  # Django's default: connection poolers keep working
    for _ in range(3):
        insert()
    assert prepared_inserts() == 0
    assert WebhookEvent.objects.count() == 3


@pytest.mark.parametrize("threshold", [None, 1])
def test_postgresql_errors_are_djangos_either_way(prepare_threshold: SetThreshold, threshold: int | None) -> None:
    prepare_threshold(threshold)
    insert()
    with pytest.raises(DataError):
        insert(event_type="NUL \x00 is refused by PostgreSQL")


@pytest.mark.parametrize("threshold", [None, 1])
def test_postgresql_a_repeat_inserts_nothing_either_way(prepare_threshold: SetThreshold, threshold: int | None) -> None:
    prepare_threshold(threshold)
    inserted, first = insert()
    assert inserted is True
    assert insert(event_id=first["event_id"])[0] is False
    assert insert(event_id=first["event_id"])[0] is False
    assert WebhookEvent.objects.filter(event_id=first["event_id"]).count() == 1


def kept_cursor() -> object:
    return getattr(connection, _KEPT_CURSOR, None)


@pytest.mark.django_db(transaction=True)
def test_postgresql_the_binding_cursor_lives_as_long_as_its_connection(prepare_threshold: SetThreshold) -> None:
    """Opening and closing a cursor per receipt cost more than the statement's own Python, so one is kept per
    connection; a new connection must not be handed the old one."""
    prepare_threshold(1)
    insert()
    first = kept_cursor()
    with CaptureQueriesContext(connection) as queries:
        insert()
    assert kept_cursor() is first
    assert not first.closed  # type: ignore[attr-defined]
    assert len(queries) == 1  # still seen by Django's tooling

    connection.close()
    insert()
    assert kept_cursor() is not first
    assert kept_cursor().connection is connection.connection  # type: ignore[attr-defined]
    assert WebhookEvent.objects.count() == 3
