"""Transaction helpers shared by the services."""

from __future__ import annotations

from contextlib import AbstractContextManager, nullcontext
from typing import Any

from django.db import transaction


def savepoint_if_nested(using: str | None = None) -> AbstractContextManager[Any]:
    """A savepoint inside a caller's transaction; nothing in autocommit.

    A single statement needs no transaction of its own: in autocommit a failed one leaves nothing behind, and
    BEGIN/COMMIT would be two more round trips on a hot path. Inside a caller's transaction, though, a failed
    statement must be rolled back to a savepoint, or it breaks that transaction.
    """
    return transaction.atomic(using=using) if transaction.get_connection(using).in_atomic_block else nullcontext()
