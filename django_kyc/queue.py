"""Enqueueing django-q2 tasks, always after the surrounding transaction commits.

``async_task`` pushes to the broker at once and knows nothing of transactions; a worker could otherwise
read a row before it is committed, or act on one that is rolled back.
"""

from __future__ import annotations

import logging
from functools import partial

from django.db import transaction

logger = logging.getLogger("django_kyc.queue")


def enqueue(task: str, *args: str) -> None:
    """Push ``django_kyc.tasks.<task>(*args)`` to the broker now. Arguments are ids, never objects."""
    from django_q.tasks import async_task

    async_task(f"django_kyc.tasks.{task}", *args, group="django_kyc", task_name=f"kyc.{task}")


def enqueue_on_commit(task: str, *args: str) -> None:
    transaction.on_commit(partial(_enqueue_logged, task, *args))


def _enqueue_logged(task: str, *args: str) -> None:
    try:
        enqueue(task, *args)
    except Exception:
        # The row is committed and the sweeper re-enqueues due work, so a broker hiccup delays, never drops.
        logger.exception("could not enqueue %s; the sweeper will pick it up", task)
