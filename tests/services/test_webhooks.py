"""Counting refused webhook deliveries (:func:`django_kyc.services.webhooks.record_rejection`): one atomic
increment per refusal into a bounded set of daily counters, and the ``webhook_rejected`` signal.

The view's refusal paths are covered end to end in ``tests/test_webhook_view.py``; concurrent increments on
PostgreSQL in ``tests/test_concurrency_postgres.py``.
"""

from __future__ import annotations

import logging
from datetime import timedelta
from typing import Any

import pytest
from django.db import IntegrityError, OperationalError, transaction
from django.db.models import QuerySet
from django.utils import timezone

from django_kyc import exceptions
from django_kyc.models import RejectionReason, WebhookRejection
from django_kyc.services import webhooks
from tests.support.webhooks import rejection_counts

pytestmark = pytest.mark.django_db
R = RejectionReason


def all_subclasses(cls: type) -> set[type]:
    found = set(cls.__subclasses__())
    return found.union(*(all_subclasses(sub) for sub in found))


# --- reason codes ----------------------------------------------------------------------------------------


def test_every_webhook_error_names_a_known_reason() -> None:
    """The code is a class attribute, so a new subclass that forgets one inherits its parent's."""
    for cls in {exceptions.WebhookError, *all_subclasses(exceptions.WebhookError)}:
        assert cls.code in R.values, cls


@pytest.mark.parametrize(
    ("error", "code", "status"),
    [
        (exceptions.WebhookSignatureMissing, R.MISSING_SIGNATURE, 401),
        (exceptions.WebhookAuthenticationError, R.BAD_SIGNATURE, 403),
        (exceptions.WebhookSignatureStale, R.STALE, 403),
        (exceptions.WebhookPayloadError, R.MALFORMED, 400),
        (exceptions.WebhookError, R.OTHER, 400),
    ],
)
def test_each_webhook_error_has_its_code(error: type[exceptions.WebhookError], code: str, status: int) -> None:
    assert (error.code, error.status_code) == (code, status)


# --- the counter -----------------------------------------------------------------------------------------


def test_first_refusal_creates_the_counter_and_the_next_ones_increment_it() -> None:
    webhooks.record_rejection("sandbox", R.BAD_SIGNATURE, "signature mismatch")
    assert rejection_counts() == {("sandbox", "bad_signature"): 1}
    webhooks.record_rejection("sandbox", R.BAD_SIGNATURE, "signature mismatch")
    webhooks.record_rejection("sandbox", R.BAD_SIGNATURE, "signature mismatch")
    assert rejection_counts() == {("sandbox", "bad_signature"): 3}
    assert WebhookRejection.objects.get().day == timezone.localdate(timezone=timezone.get_default_timezone())


def test_counters_are_kept_per_backend_reason_and_day(time_machine: Any) -> None:
    time_machine.move_to(timezone.now(), tick=False)
    today = timezone.localdate(timezone=timezone.get_default_timezone())
    webhooks.record_rejection("sandbox", R.BAD_SIGNATURE)
    webhooks.record_rejection("sandbox", R.STALE)
    webhooks.record_rejection("hosted", R.BAD_SIGNATURE)
    time_machine.move_to(timezone.now() + timedelta(days=1), tick=False)
    webhooks.record_rejection("sandbox", R.BAD_SIGNATURE)
    rows = sorted(WebhookRejection.objects.values_list("day", "backend", "reason", "count"))
    assert rows == [
        (today, "hosted", "bad_signature", 1),
        (today, "sandbox", "bad_signature", 1),
        (today, "sandbox", "stale", 1),
        (today + timedelta(days=1), "sandbox", "bad_signature", 1),
    ]


def test_unknown_aliases_share_one_bucket_and_are_stored_nowhere(rejections: list[dict[str, Any]]) -> None:
    """The attacker picks the alias: keeping it would let them grow the table (and write into it) at will."""
    for alias in ["nosuch", "x" * 500, "<script>", "sandbox2"]:
        webhooks.record_rejection(alias, R.UNKNOWN_ENDPOINT, "Unknown webhook endpoint.")
    assert rejection_counts() == {(WebhookRejection.UNKNOWN, "unknown_endpoint"): 4}
    assert [kwargs["backend"] for kwargs in rejections] == [""] * 4


def test_an_unknown_code_is_counted_as_other() -> None:
    """A third-party backend's exception may carry any code; the set of counters stays closed."""
    webhooks.record_rejection("sandbox", "made_up_by_a_plugin")
    assert rejection_counts() == {("sandbox", "other"): 1}


def test_the_signal_carries_backend_reason_and_code(rejections: list[dict[str, Any]]) -> None:
    webhooks.record_rejection("sandbox", R.STALE, "signature timestamp outside the tolerance window")
    assert rejections == [
        {"backend": "sandbox", "reason": "signature timestamp outside the tolerance window", "code": "stale"}
    ]


def lose_the_insert_race(monkeypatch: pytest.MonkeyPatch, backend: str, reason: str) -> None:
    """Make the next first refusal of the day race another one: right after our UPDATE finds no row, the
    other refusal inserts it (with a count of 5), so our INSERT breaks the unique constraint."""
    update = QuerySet.update
    raced = False

    def racing_update(self: QuerySet[Any], **kwargs: Any) -> int:
        nonlocal raced
        updated = update(self, **kwargs)
        if self.model is WebhookRejection and not updated and not raced:
            raced = True
            today = timezone.localdate(timezone=timezone.get_default_timezone())
            WebhookRejection.objects.create(backend=backend, reason=reason, day=today, count=5)
        return updated

    monkeypatch.setattr(QuerySet, "update", racing_update)


def test_lost_insert_race_increments_the_winners_row(monkeypatch: pytest.MonkeyPatch) -> None:
    lose_the_insert_race(monkeypatch, "sandbox", R.MALFORMED)
    with transaction.atomic():  # as a caller's transaction would be: it must stay usable after the lost race
        webhooks.record_rejection("sandbox", R.MALFORMED)
        assert rejection_counts() == {("sandbox", "malformed"): 6}


@pytest.mark.django_db(transaction=True)
def test_counting_in_autocommit_as_the_view_does(monkeypatch: pytest.MonkeyPatch) -> None:
    """The view is non-atomic: the increment, the insert and the lost race all work outside a transaction."""
    webhooks.record_rejection("sandbox", R.EMPTY_BODY)
    webhooks.record_rejection("sandbox", R.EMPTY_BODY)
    lose_the_insert_race(monkeypatch, "sandbox", R.TOO_LARGE)
    webhooks.record_rejection("sandbox", R.TOO_LARGE)
    assert rejection_counts() == {("sandbox", "empty_body"): 2, ("sandbox", "too_large"): 6}


def test_insert_error_is_really_the_unique_constraint() -> None:
    """The race handling relies on the constraint: a second row for the same key must not be possible."""
    today = timezone.localdate()
    WebhookRejection.objects.create(backend="sandbox", reason=R.STALE, day=today, count=1)
    with pytest.raises(IntegrityError), transaction.atomic():
        WebhookRejection.objects.create(backend="sandbox", reason=R.STALE, day=today, count=1)


def test_a_database_failure_never_turns_a_refusal_into_an_error(
    monkeypatch: pytest.MonkeyPatch, rejections: list[dict[str, Any]]
) -> None:
    def broken(backend: str, code: str) -> None:
        raise OperationalError("database is down")

    monkeypatch.setattr(webhooks, "_count", broken)
    logged: list[str] = []
    handler = logging.Handler(logging.WARNING)
    handler.emit = lambda record: logged.append(record.getMessage())  # type: ignore[method-assign]
    logger = logging.getLogger("django_kyc.webhooks")
    logger.addHandler(handler)
    try:
        webhooks.record_rejection("sandbox", R.BAD_SIGNATURE, "signature mismatch")
    finally:
        logger.removeHandler(handler)
    assert [kwargs["code"] for kwargs in rejections] == ["bad_signature"]
    assert "could not count a rejected webhook for sandbox (bad_signature)" in logged
