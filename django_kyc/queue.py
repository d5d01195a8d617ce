"""Enqueueing django-q2 tasks so that a worker never sees work before the rows it names are committed.

``async_task`` pushes to the broker at once and knows nothing of transactions; a worker could otherwise
read a row before it is committed, or act on one that is rolled back. Two ways to prevent it:

- the ORM broker on the database we write to: the queue row is inserted in the same transaction, so it
  commits or rolls back with the rows it names (a transactional outbox; one commit per delivery instead
  of two, which is most of the webhook view's cost);
- any other broker (Redis, ...): push after commit. If that push fails the row is committed anyway, and the
  sweeper re-enqueues due work, so a broker hiccup delays work, never drops it.

Webhook deliveries do not enqueue a task each: they wake the inbox drain (:mod:`django_kyc.wakeup`).

django-q2 logs every enqueue at INFO on its ``django-q`` logger, which in a web process is a line per request;
ours are logged at DEBUG on ``django_kyc.queue`` instead, and django-q2's line is dropped (only for our own
enqueues, only in the thread that makes them).
"""

from __future__ import annotations

import logging
import os
import threading
from functools import partial
from typing import TYPE_CHECKING

from django.db import DEFAULT_DB_ALIAS, connections, transaction

if TYPE_CHECKING:
    from django_q.brokers import Broker

logger = logging.getLogger("django_kyc.queue")

_brokers: dict[tuple[object, ...], Broker] = {}
_enqueueing = threading.local()


class _QuietEnqueues(logging.Filter):
    """Drops django-q2's INFO "Enqueued ..." line for the enqueues this module makes (see the module doc)."""

    def filter(self, record: logging.LogRecord) -> bool:
        return not (getattr(_enqueueing, "active", False) and record.levelno <= logging.INFO)


_quiet = _QuietEnqueues()


def _silence_django_q() -> None:
    django_q_logger = logging.getLogger("django-q")
    if _quiet not in django_q_logger.filters:
        django_q_logger.addFilter(_quiet)


def shared_broker() -> Broker:
    """One broker per process and configuration: django-q2 builds a new one per ``async_task``, which for
    Redis means a new connection pool, and so a new TCP connection, for every task."""
    from django_q.brokers import get_broker
    from django_q.conf import Conf

    key = (os.getpid(), Conf.ORM, repr(Conf.REDIS), Conf.BROKER_CLASS, Conf.CLUSTER_NAME)
    broker = _brokers.get(key)
    if broker is None:
        broker = _brokers[key] = get_broker()
    return broker


def enqueue(task: str, *args: str) -> None:
    """Push ``django_kyc.tasks.<task>(*args)`` to the broker now. Arguments are ids, never objects."""
    from django_q.conf import Conf
    from django_q.tasks import async_task

    broker = None if Conf.SYNC else shared_broker()
    _silence_django_q()
    _enqueueing.active = True
    try:
        async_task(f"django_kyc.tasks.{task}", *args, group="django_kyc", task_name=f"kyc.{task}", broker=broker)
    finally:
        _enqueueing.active = False
    logger.debug("enqueued %s%s", task, args)


def runs_inline() -> bool:
    """Whether django-q2 runs tasks inline, in the enqueuing process (``sync: True``, as in tests)."""
    from django_q.conf import Conf

    return bool(Conf.SYNC)


def queues_in_database(using: str = DEFAULT_DB_ALIAS) -> bool:
    """Whether tasks are rows in ``using`` (the ORM broker there), so enqueueing can join its transaction."""
    from django_q.conf import Conf

    return bool(not Conf.SYNC and using == Conf.ORM)


def shares_transaction(using: str = DEFAULT_DB_ALIAS) -> bool:
    """Whether a task enqueued now becomes visible only when ``using``'s current transaction commits."""
    return queues_in_database(using) and connections[using].in_atomic_block


def enqueue_on_commit(task: str, *args: str, using: str = DEFAULT_DB_ALIAS) -> None:
    """Enqueue so the task runs only after the current transaction on ``using`` commits (now, outside one)."""
    if shares_transaction(using):
        enqueue(task, *args)
    else:
        transaction.on_commit(partial(_enqueue_logged, task, *args), using=using)


def _enqueue_logged(task: str, *args: str) -> None:
    try:
        enqueue(task, *args)
    except Exception:
        # The row is committed and the sweeper re-enqueues due work, so a broker hiccup delays, never drops.
        logger.exception("could not enqueue %s; the sweeper will pick it up", task)
