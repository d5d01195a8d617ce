"""``django_kyc.queue``: a task never becomes visible to a worker before the rows it names are committed.

On the ORM broker (on our database) the queue row joins the transaction; on any other broker the push waits
for the commit. Both are checked against the real brokers (PostgreSQL or SQLite for the ORM, Redis).
"""

from __future__ import annotations

import pytest
from django.db import transaction
from django_q.conf import Conf
from django_q.models import OrmQ

from django_kyc import queue
from tests.support.qcluster import new_queue_name
from tests.support.services import REDIS_URL, require_service

pytestmark = pytest.mark.django_db(transaction=True)


@pytest.fixture
def orm_broker(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(Conf, "SYNC", False)
    monkeypatch.setattr(Conf, "ORM", "default")


class Boom(Exception):
    pass


def test_orm_broker_queue_row_commits_with_the_transaction(orm_broker: None) -> None:
    with transaction.atomic():
        queue.enqueue_on_commit("process_webhook_event", "committed")
        assert OrmQ.objects.count() == 1  # inserted now, in our transaction
    assert OrmQ.objects.count() == 1


def enqueue_then_fail(task_argument: str) -> None:
    with transaction.atomic():
        queue.enqueue_on_commit("process_webhook_event", task_argument)
        raise Boom


def test_orm_broker_queue_row_rolls_back_with_the_transaction(orm_broker: None) -> None:
    with pytest.raises(Boom):
        enqueue_then_fail("rolled-back")
    assert OrmQ.objects.count() == 0


def test_outside_a_transaction_the_task_is_queued_at_once(orm_broker: None) -> None:
    queue.enqueue_on_commit("process_webhook_event", "autocommit")
    assert OrmQ.objects.count() == 1


def test_orm_broker_on_another_database_waits_for_the_commit(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(Conf, "SYNC", False)
    monkeypatch.setattr(Conf, "ORM", "queue-database")
    assert not queue.queues_in_database()
    with transaction.atomic():
        assert not queue.shares_transaction()


def test_redis_broker_push_waits_for_the_commit(monkeypatch: pytest.MonkeyPatch) -> None:
    import redis

    client = redis.Redis.from_url(REDIS_URL)
    try:
        client.ping()
    except redis.ConnectionError:
        require_service("Redis", False, "start redis-server on 127.0.0.1:6379")
    monkeypatch.setattr(Conf, "SYNC", False)
    monkeypatch.setattr(Conf, "ORM", None)
    monkeypatch.setattr(Conf, "REDIS", REDIS_URL)
    monkeypatch.setattr(Conf, "CLUSTER_NAME", new_queue_name())  # parallel runs share the Redis server
    name = queue.shared_broker().list_key
    client.delete(name)
    try:
        with transaction.atomic():
            queue.enqueue_on_commit("process_webhook_event", "after-commit")
            assert client.llen(name) == 0  # not before the commit
        assert client.llen(name) == 1
        with pytest.raises(Boom):
            enqueue_then_fail("never")
        assert client.llen(name) == 1
    finally:
        client.delete(name)


def test_one_broker_per_process_and_configuration(monkeypatch: pytest.MonkeyPatch) -> None:
    """django-q2 makes a broker (for Redis, a connection pool) per task unless it is handed one."""
    monkeypatch.setattr(Conf, "ORM", "default")
    first = queue.shared_broker()
    assert queue.shared_broker() is first
    monkeypatch.setattr(Conf, "CLUSTER_NAME", "another-queue")
    other = queue.shared_broker()
    assert other is not first
    assert other.list_key == "another-queue"


def test_sync_mode_runs_after_commit(monkeypatch: pytest.MonkeyPatch) -> None:
    """Tests and ``sync: True`` sites run the task inline: never inside the caller's transaction."""
    monkeypatch.setattr(Conf, "SYNC", True)
    monkeypatch.setattr(Conf, "ORM", "default")
    assert not queue.queues_in_database()
