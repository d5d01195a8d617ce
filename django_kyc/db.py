"""Transaction helpers shared by the services."""

from __future__ import annotations

import functools
from contextlib import AbstractContextManager, nullcontext
from dataclasses import dataclass
from typing import Any

from django.db import connections, router, transaction
from django.db.backends.base.base import BaseDatabaseWrapper
from django.db.models import Field, Model


def savepoint_if_nested(using: str | None = None) -> AbstractContextManager[Any]:
    """A savepoint inside a caller's transaction; nothing in autocommit.

    A single statement needs no transaction of its own: in autocommit a failed one leaves nothing behind, and
    BEGIN/COMMIT would be two more round trips on a hot path. Inside a caller's transaction, though, a failed
    statement must be rolled back to a savepoint, or it breaks that transaction.
    """
    return transaction.atomic(using=using) if transaction.get_connection(using).in_atomic_block else nullcontext()


def insert_unless_conflict(obj: Model, using: str | None = None) -> bool:
    """Insert ``obj`` in one statement that does nothing on a unique conflict; True when a row was inserted.

    ``INSERT ... ON CONFLICT DO NOTHING`` (PostgreSQL) or ``INSERT OR IGNORE`` (SQLite): a duplicate costs no
    error, no savepoint and no read before the insert. Django's ``bulk_create(ignore_conflicts=True)`` builds
    the same statement but does not say whether anything was inserted, which the row count does. The primary
    key must be set by the caller (a UUID default): nothing is read back.

    This is the webhook receipt's one statement, so it skips what the ORM would redo on every call: the SQL
    is built once per model and database (:func:`_insert_statement`), and each value is prepared the way
    Django's insert compiler prepares it (``pre_save``, then ``get_db_prep_save``) without building a query.
    A value that is an expression (``db_default``, ``F()``...) goes through the compiler, which knows how
    to render it.
    """
    model = type(obj)
    using = using or router.db_for_write(model)
    connection = connections[using]
    statement = _insert_statement(model, using, connection.vendor)
    values = [field.pre_save(obj, True) for field in statement.fields]
    if any(hasattr(value, "resolve_expression") for value in values):
        inserted = _insert_compiled(obj, statement.fields, connection)
    else:
        params = [
            field.get_db_prep_save(value, connection) for field, value in zip(statement.fields, values, strict=True)
        ]
        with _insert_cursor(connection) as cursor:
            cursor.execute(statement.sql, params)
            inserted = max(cursor.rowcount, 0)
    if inserted:
        obj._state.adding = False
        obj._state.db = using
    return inserted > 0


@dataclass(frozen=True)
class _InsertStatement:
    sql: str
    fields: tuple[Field[Any, Any], ...]


@functools.cache
def _insert_statement(model: type[Model], using: str, vendor: str) -> _InsertStatement:
    """The INSERT of every concrete column of ``model``, with the database's own words for "ignore a conflict".

    Keyed by the vendor as well as the alias so a test that points an alias elsewhere gets its own statement.
    """
    from django.db.models.constants import OnConflict

    connection = connections[using]
    opts = model._meta
    fields = tuple(field for field in opts.concrete_fields if field is not opts.auto_field and not field.generated)
    ops, quote = connection.ops, connection.ops.quote_name
    placeholders = []
    for field in fields:
        # a field that wraps its value in SQL of its own (GIS) says how; everything else is a plain parameter
        placeholder = getattr(field, "get_placeholder", None)
        placeholders.append(placeholder(None, None, connection) if placeholder else "%s")
    suffix = ops.on_conflict_suffix_sql(fields, OnConflict.IGNORE, None, None)
    sql = (
        f"{ops.insert_statement(on_conflict=OnConflict.IGNORE)} {quote(opts.db_table)} "
        f"({', '.join(quote(field.column) for field in fields)}) VALUES ({', '.join(placeholders)})"
        f"{' ' + suffix if suffix else ''}"
    )
    return _InsertStatement(sql=sql, fields=fields)


def _insert_compiled(obj: Model, fields: tuple[Field[Any, Any], ...], connection: BaseDatabaseWrapper) -> int:
    """The same statement through Django's insert compiler, for values that are SQL expressions."""
    from django.db.models.constants import OnConflict
    from django.db.models.sql import InsertQuery

    query = InsertQuery(type(obj), on_conflict=OnConflict.IGNORE)
    query.insert_values(list(fields), [obj])
    inserted = 0
    with connection.cursor() as cursor:
        for sql, params in query.get_compiler(connection=connection).as_sql():
            cursor.execute(sql, params)
            inserted += max(cursor.rowcount, 0)
    return inserted


def _insert_cursor(connection: BaseDatabaseWrapper) -> AbstractContextManager[Any]:
    """A cursor that lets PostgreSQL prepare the statement, where the site allows prepared statements.

    Django binds parameters on the client by default, so every execution sends the whole statement to be
    parsed and planned again; psycopg prepares a statement it has run ``prepare_threshold`` times, but only
    on a cursor that binds on the server. Django sets that threshold to ``None`` unless
    ``OPTIONS["prepare_threshold"]`` is given, because a connection pooler in transaction mode (PgBouncer
    before 1.21, or without ``max_prepared_statements``) cannot follow prepared statements; so this prepares
    nothing unless the site has opted in, and then only here. Wrapped like any Django cursor: the statement
    is logged, counted by ``assertNumQueries`` and its errors are Django's.

    The server-binding cursor is kept for the life of the database connection rather than opened and closed
    per receipt: in a web worker, between requests, setting one up and tearing it down cost more than the
    statement's own Python (see docs/benchmarks.md). A Django connection belongs to one thread, so its cursor
    does too; a new connection (after ``CONN_MAX_AGE``, an error, a fork) gets a new cursor.
    """
    if connection.vendor != "postgresql":
        return connection.cursor()
    connection.close_if_health_check_failed()
    connection.ensure_connection()
    raw = connection.connection
    # psycopg 2 has no such attribute, and no server-side binding
    if getattr(raw, "prepare_threshold", None) is None:
        return connection.cursor()
    import psycopg

    if not issubclass(raw.cursor_factory, psycopg.ClientCursor):
        return connection.cursor()  # OPTIONS["server_side_binding"]: Django's own cursor binds on the server
    kept: Any = getattr(connection, _KEPT_CURSOR, None)
    if kept is None or kept.connection is not raw or kept.closed:
        kept = psycopg.Cursor(raw)
        setattr(connection, _KEPT_CURSOR, kept)
    # not closed on the way out, unlike Django's cursors: the next receipt on this connection reuses it
    wrapped = connection.make_debug_cursor(kept) if connection.queries_logged else connection.make_cursor(kept)
    return nullcontext(wrapped)


#: where a database connection keeps its server-binding cursor (see :func:`_insert_cursor`)
_KEPT_CURSOR = "_django_kyc_insert_cursor"
