"""Transaction helpers shared by the services."""

from __future__ import annotations

import functools
from collections.abc import Mapping
from contextlib import AbstractContextManager, nullcontext
from dataclasses import dataclass
from types import SimpleNamespace
from typing import Any, NamedTuple, cast

from django.db import connections, router, transaction
from django.db.backends.base.base import BaseDatabaseWrapper
from django.db.models import DateField, DateTimeField, Field, Model, TimeField


def savepoint_if_nested(using: str | None = None) -> AbstractContextManager[Any]:
    """A savepoint inside a caller's transaction; nothing in autocommit.

    A single statement needs no transaction of its own: in autocommit a failed one leaves nothing behind, and
    BEGIN/COMMIT would be two more round trips on a hot path. Inside a caller's transaction, though, a failed
    statement must be rolled back to a savepoint, or it breaks that transaction.
    """
    return transaction.atomic(using=using) if transaction.get_connection(using).in_atomic_block else nullcontext()


def insert_unless_conflict(model: type[Model], values: Mapping[str, Any], using: str | None = None) -> bool:
    """Insert one row of ``model`` in one statement that does nothing on a unique conflict; True when a row
    was inserted.

    ``values`` holds field values by attribute name (``verification_id`` for a foreign key); a field left out
    gets its default, and an ``auto_now``/``auto_now_add`` date the current time, just as
    ``model(**values).save()`` would store them. The primary key needs a default (a UUID) or a value: nothing
    is read back.

    ``INSERT ... ON CONFLICT DO NOTHING`` (PostgreSQL) or ``INSERT OR IGNORE`` (SQLite): a duplicate costs no
    error, no savepoint and no read before the insert. Django's ``bulk_create(ignore_conflicts=True)`` builds
    the same statement but does not say whether anything was inserted, which the row count does.

    This is the webhook receipt's one statement, so it skips what the ORM would redo on every call: the SQL
    is built once per model and database (:func:`_insert_statement`), no model instance is built (in a web
    worker, between requests, building one cost more than preparing all its values), and each value is
    prepared as Django's insert compiler prepares it (``get_db_prep_save``). A value that is an expression
    (``db_default``, ``F()``...) or a field that prepares its own value on save (a file field) takes the
    compiler's way, through an instance.
    """
    using = using or router.db_for_write(model)
    connection = connections[using]
    statement = _insert_statement(model, using, connection.vendor)
    unknown = values.keys() - statement.attnames
    if unknown:
        raise TypeError(f"{model.__name__} has no field {sorted(unknown)[0]!r}")
    params = _prepared_params(statement, values, connection)
    if params is None:
        return _insert_compiled(model(**values), statement.fields, connection) > 0
    with _insert_cursor(connection) as cursor:
        cursor.execute(statement.sql, params)
        return cursor.rowcount > 0


def _prepared_params(
    statement: _InsertStatement, values: Mapping[str, Any], connection: BaseDatabaseWrapper
) -> list[Any] | None:
    """The statement's parameters for ``values``, or ``None`` when only Django's compiler can render the row:
    a field whose ``pre_save`` needs an instance, or a value that is an expression."""
    if statement.needs_instance:
        return None
    row = _column_values(statement, values)
    if any(hasattr(value, "resolve_expression") for value in row):
        return None
    return [
        column.field.get_db_prep_save(value, connection) for column, value in zip(statement.columns, row, strict=True)
    ]


def _column_values(statement: _InsertStatement, values: Mapping[str, Any]) -> list[Any]:
    """Each column's value as ``model(**values).save()`` would store it, before the database's preparation."""
    row = []
    for field, attname, stamped in statement.columns:
        if stamped:
            # the time save() stamps, even over a given value; these pre_saves only set it on what they are given
            row.append(field.pre_save(cast(Model, SimpleNamespace()), True))
        elif attname in values:
            row.append(values[attname])
        else:
            row.append(field.get_default())
    return row


class _Column(NamedTuple):
    field: Field[Any, Any]
    attname: str
    #: an ``auto_now``/``auto_now_add`` date, whose ``pre_save`` gives the value
    stamped: bool


#: ``pre_save`` methods that stamp the time on ``auto_now``/``auto_now_add`` dates, and otherwise read the value
_STAMPING_PRE_SAVE = frozenset({DateField.pre_save, DateTimeField.pre_save, TimeField.pre_save})
#: ``pre_save`` methods that need no model instance: those, and the plain reading one
_INSTANCE_FREE_PRE_SAVE = _STAMPING_PRE_SAVE | {Field.pre_save}


@dataclass(frozen=True)
class _InsertStatement:
    sql: str
    #: in the statement's order; plain tuples, as a field's own hash is Python code run per lookup
    columns: tuple[_Column, ...]

    @functools.cached_property
    def attnames(self) -> frozenset[str]:
        return frozenset(column.attname for column in self.columns)

    @functools.cached_property
    def fields(self) -> tuple[Field[Any, Any], ...]:
        return tuple(column.field for column in self.columns)

    @functools.cached_property
    def needs_instance(self) -> bool:
        """A field's ``pre_save`` does more than read or stamp its value (a file field saves the file)."""
        return any(type(field).pre_save not in _INSTANCE_FREE_PRE_SAVE for field in self.fields)


def _column(field: Field[Any, Any]) -> _Column:
    stamping = type(field).pre_save in _STAMPING_PRE_SAVE
    stamped = stamping and bool(getattr(field, "auto_now", False) or getattr(field, "auto_now_add", False))
    return _Column(field, field.attname, stamped)


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
    return _InsertStatement(sql=sql, columns=tuple(_column(field) for field in fields))


def _insert_compiled(obj: Model, fields: tuple[Field[Any, Any], ...], connection: BaseDatabaseWrapper) -> int:
    """The same statement through Django's insert compiler, for values that are SQL expressions and fields
    that prepare their own value on save."""
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


#: where a database connection keeps its server-binding cursor (see :func:`_insert_cursor`)
_KEPT_CURSOR = "_django_kyc_insert_cursor"


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
