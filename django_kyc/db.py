"""Transaction helpers shared by the services."""

from __future__ import annotations

from contextlib import AbstractContextManager, nullcontext
from typing import Any

from django.db import connections, router, transaction
from django.db.models import Model


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
    """
    from django.db.models.constants import OnConflict
    from django.db.models.sql import InsertQuery

    model = type(obj)
    using = using or router.db_for_write(model)
    opts = model._meta
    fields = [field for field in opts.concrete_fields if field is not opts.auto_field and not field.generated]
    query = InsertQuery(model, on_conflict=OnConflict.IGNORE)
    query.insert_values(fields, [obj])
    inserted = 0
    with connections[using].cursor() as cursor:
        for sql, params in query.get_compiler(using=using).as_sql():
            cursor.execute(sql, params)
            inserted += max(cursor.rowcount, 0)
    if inserted:
        obj._state.adding = False
        obj._state.db = using
    return inserted > 0
