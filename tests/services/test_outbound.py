"""Deliveries to a real receiver on loopback: signed per the specification, retried on the specification's
schedule (time travel), recorded attempt by attempt, failed visibly, disabled on 410, resent and replayed, and
never in the way of the change that caused them."""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import time
from collections.abc import Callable, Iterator
from datetime import datetime, timedelta, timezone
from typing import Any

import pytest
import time_machine
from django.test import override_settings

from django_kyc import signals
from django_kyc.models import Applicant, Delivery, DeliveryAttempt, DeliveryState, Endpoint, OutboundEvent
from django_kyc.outbound import generate_secret
from django_kyc.services import events, outbound, sweeper, transitions
from django_kyc.services.audit import Change
from django_kyc.status import Actor, Source, VerificationStatus
from tests.support.event_receiver import Behaviour, EventReceiver
from tests.support.factories import make_verification
from tests.support.kyc_settings import kyc_settings_with

V = VerificationStatus
REVIEWER = Change(actor_type=Actor.USER, source=Source.ADMIN, label="r", reason="checked")
#: The specification's example schedule (5 s to 24 h, 10 attempts over 75 h 35 min 5 s), the default.
SCHEDULE = [5, 300, 1800, 7200, 18000, 36000, 50400, 72000, 86400]


@pytest.fixture
def loopback_allowed() -> Iterator[None]:
    """http and loopback, as only a development site (DEBUG) that allows its own network would have them."""
    settings = kyc_settings_with(OUTBOUND_ALLOWED_NETWORKS=["127.0.0.0/8", "::1/128"], OUTBOUND_TIMEOUT=1.0)
    with override_settings(DEBUG=True, DJANGO_KYC=settings):
        yield


@pytest.fixture
def receiver() -> Iterator[EventReceiver]:
    with EventReceiver() as server:
        yield server


def spec_check(secret: str, request: Any) -> dict[str, Any]:
    """The receiver's side, from the specification alone: HMAC-SHA256 over "id.timestamp.body" with the base64
    key after whsec_, compared with each space-separated v1 signature."""
    key = base64.b64decode(secret.removeprefix("whsec_"))
    message_id = request.headers["webhook-id"]
    stamp = request.headers["webhook-timestamp"]
    expected = base64.b64encode(
        hmac.new(key, f"{message_id}.{stamp}.".encode() + request.body, hashlib.sha256).digest()
    ).decode()
    offered = [
        part.split(",", 1)[1] for part in request.headers["webhook-signature"].split(" ") if part.startswith("v1,")
    ]
    assert any(hmac.compare_digest(expected, candidate) for candidate in offered), "no signature matches"
    assert abs(time.time() - int(stamp)) < 300
    return json.loads(request.body)


def hook(url: str, types: list[str] | None = None) -> Endpoint:
    return Endpoint.objects.create(name="billing", url=url, event_types=types or ["*"], secret=generate_secret())


def one_review_due(applicant: Applicant) -> Delivery:
    events.emit(
        "applicant.review_due",
        applicant,
        {"applicant_id": str(applicant.pk), "reason": "periodic", "due_at": "2031-05-01T00:00:00+00:00"},
    )
    return Delivery.objects.get(event__event_type="applicant.review_due")


@pytest.mark.django_db(transaction=True)
@pytest.mark.usefixtures("loopback_allowed")
def test_an_approval_reaches_the_receiver_signed_after_commit(
    make_applicant: Callable[..., Applicant], receiver: EventReceiver
) -> None:
    endpoint = hook(receiver.url, ["applicant.verified", "verification.completed"])
    applicant = make_applicant()
    verification = make_verification(applicant, V.REVIEW)
    transitions.transition_verification(verification.pk, V.APPROVED, REVIEWER)  # sync queue: delivered on commit
    bodies = [spec_check(endpoint.secret, request) for request in receiver.requests]
    assert sorted(body["type"] for body in bodies) == ["applicant.verified", "verification.completed"]
    completed = next(body for body in bodies if body["type"] == "verification.completed")
    assert completed["version"] == 1
    assert completed["data"]["status"] == "approved"
    assert completed["data"]["verification_id"] == str(verification.pk)
    assert completed["timestamp"].endswith("Z")
    request = receiver.requests[0]
    assert request.headers["content-type"] == "application/json"
    assert request.headers["webhook-id"] in {str(pk) for pk in OutboundEvent.objects.values_list("pk", flat=True)}
    assert set(Delivery.objects.values_list("state", flat=True)) == {DeliveryState.DELIVERED}
    attempt = DeliveryAttempt.objects.first()
    assert attempt is not None
    assert (attempt.status_code, attempt.succeeded, attempt.response_body) == (200, True, "ok")


@pytest.mark.django_db(transaction=True)
@pytest.mark.usefixtures("loopback_allowed")
def test_a_hanging_receiver_never_breaks_or_holds_the_transition(make_applicant: Callable[..., Applicant]) -> None:
    with EventReceiver(default=Behaviour(delay=3)) as slow:
        hook(slow.url, ["verification.completed"])
        verification = make_verification(make_applicant(), V.REVIEW)
        started = time.monotonic()
        moved = transitions.transition_verification(verification.pk, V.APPROVED, REVIEWER)
        elapsed = time.monotonic() - started
    assert moved.status == V.APPROVED
    assert elapsed < 2.5  # the 1 s deadline of the inline (sync) delivery, not the receiver's 3 s
    delivery = Delivery.objects.get()
    assert (delivery.state, delivery.last_error) == (DeliveryState.RETRY_WAIT, "timed out")


@pytest.mark.django_db
@pytest.mark.usefixtures("loopback_allowed")
def test_the_retry_schedule_is_the_specifications_and_ends_in_a_visible_failure(
    make_applicant: Callable[..., Applicant], django_capture_on_commit_callbacks: Any
) -> None:
    failed: list[Delivery] = []
    signals.outbound_delivery_failed.connect(lambda sender, delivery, **kw: failed.append(delivery), weak=False)
    start = datetime(2030, 1, 1, 12, 0, tzinfo=timezone.utc)
    with (
        django_capture_on_commit_callbacks(execute=True),
        EventReceiver(default=Behaviour(status=503, body=b"down")) as down,
        time_machine.travel(start, tick=False) as clock,
    ):
        hook(down.url)
        delivery = one_review_due(make_applicant())
        assert outbound.deliver(delivery.pk) == DeliveryState.RETRY_WAIT  # attempt 1, at once
        waits = []
        for _attempt in range(2, len(SCHEDULE) + 2):
            delivery.refresh_from_db()
            wait = (delivery.next_attempt_at - datetime.now(timezone.utc)).total_seconds()
            waits.append(wait)
            clock.shift(timedelta(seconds=wait - 1))
            assert outbound.deliver(delivery.pk) == "not due"  # a second early: nothing happens
            clock.shift(timedelta(seconds=1))
            outbound.deliver(delivery.pk)
        delivery.refresh_from_db()
        total = datetime.now(timezone.utc) - start
        assert len(down.requests) == 10
    for step, wait in zip(SCHEDULE, waits, strict=True):
        assert step <= wait <= step * 1.1
    # about three days: 75 h 35 min 5 s without the jitter, at most 10 % more with it
    assert timedelta(hours=75, minutes=35) < total < timedelta(hours=84)
    assert (delivery.state, delivery.attempts, delivery.next_attempt_at) == (DeliveryState.FAILED, 10, None)
    assert delivery.last_error == "HTTP 503"
    assert [row.number for row in DeliveryAttempt.objects.filter(delivery=delivery).order_by("started_at")] == list(
        range(1, 11)
    )
    assert DeliveryAttempt.objects.filter(delivery=delivery, response_body="down").count() == 10
    assert [row.pk for row in failed] == [delivery.pk]
    signals.outbound_delivery_failed.receivers.clear()


@pytest.mark.django_db
@pytest.mark.usefixtures("loopback_allowed")
def test_the_sweeper_sends_due_retries_so_no_task_has_to_survive(
    make_applicant: Callable[..., Applicant], receiver: EventReceiver
) -> None:
    receiver.then(Behaviour(status=500), Behaviour(delay=2))  # fails, then times out, then recovers
    start = datetime(2030, 1, 1, 12, 0, tzinfo=timezone.utc)
    with time_machine.travel(start, tick=False) as clock:
        endpoint = hook(receiver.url)
        delivery = one_review_due(make_applicant())
        # the on-commit task was lost: the sweeper takes it once the grace is over
        assert sweeper.sweep().deliveries == 0
        clock.shift(timedelta(seconds=61))
        assert sweeper.sweep().deliveries == 1  # sync queue: the attempt runs inside the sweep
        delivery.refresh_from_db()
        assert (delivery.state, delivery.last_status_code) == (DeliveryState.RETRY_WAIT, 500)
        assert sweeper.sweep().deliveries == 0  # not due yet
        clock.shift(timedelta(seconds=6))
        sweeper.sweep()
        delivery.refresh_from_db()
        assert (delivery.state, delivery.last_error) == (DeliveryState.RETRY_WAIT, "timed out")
        clock.shift(timedelta(seconds=331))
        sweeper.sweep()
        delivery.refresh_from_db()
        # every attempt (the failed, the timed-out and the one that succeeded) is signed anew, checked by the
        # specification-only implementation above at the moment it was sent, under the event's one webhook-id
        assert len(receiver.requests) == 3
        for request in receiver.requests:
            clock.move_to(datetime.fromtimestamp(int(request.headers["webhook-timestamp"]), tz=timezone.utc))
            assert spec_check(endpoint.secret, request)["type"] == "applicant.review_due"
        assert {request.headers["webhook-id"] for request in receiver.requests} == {str(delivery.event_id)}
        stamps = [int(request.headers["webhook-timestamp"]) for request in receiver.requests]
        assert stamps == sorted(set(stamps))
    assert (delivery.state, delivery.attempts, delivery.last_error) == (DeliveryState.DELIVERED, 3, "")
    assert [row.succeeded for row in delivery.attempt_log.order_by("number")] == [False, False, True]


@pytest.mark.django_db
@pytest.mark.usefixtures("loopback_allowed")
def test_a_410_disables_the_endpoint_and_parks_its_deliveries(
    make_applicant: Callable[..., Applicant], receiver: EventReceiver, django_capture_on_commit_callbacks: Any
) -> None:
    disabled: list[str] = []
    signals.outbound_endpoint_disabled.connect(
        lambda sender, endpoint, reason, **kw: disabled.append(reason), weak=False
    )
    receiver.then(Behaviour(status=410, body=b"gone"))
    endpoint = hook(receiver.url)
    applicant = make_applicant()
    first = one_review_due(applicant)
    second_event = events.emit(
        "applicant.erased", applicant, {"applicant_id": str(applicant.pk), "erased_at": "2030-01-01T00:00:00+00:00"}
    )
    with django_capture_on_commit_callbacks(execute=True):
        assert outbound.deliver(first.pk) == DeliveryState.ENDPOINT_DISABLED
    endpoint.refresh_from_db()
    assert (endpoint.enabled, endpoint.disabled_reason) == (False, "answered 410 Gone")
    second = Delivery.objects.get(event=second_event)
    assert second.state == DeliveryState.ENDPOINT_DISABLED
    assert outbound.deliver(second.pk) == "not due"
    # no new deliveries while disabled
    assert (
        events.emit(
            "applicant.erased", applicant, {"applicant_id": str(applicant.pk), "erased_at": "2030-01-02T00:00:00+00:00"}
        )
        is None
    )
    assert len(receiver.requests) == 1
    signals.outbound_endpoint_disabled.receivers.clear()
    assert disabled == ["answered 410 Gone"]

    # the receiver is back: enabled again and replayed since before the first event, every event arrives once
    Endpoint.objects.filter(pk=endpoint.pk).update(enabled=True, disabled_reason="")
    replay = outbound.replay_since(endpoint.pk, first.event.occurred_at - timedelta(seconds=1))
    assert (replay.resent, replay.created) == (2, 0)
    for delivery in Delivery.objects.all():
        outbound.deliver(delivery.pk)
    assert set(Delivery.objects.values_list("state", flat=True)) == {DeliveryState.DELIVERED}
    assert len(receiver.requests) == 3
    # the 410 and the replayed deliveries alike carry a signature the specification-only check accepts
    first, *replayed = [spec_check(endpoint.secret, request)["type"] for request in receiver.requests]
    assert (first, sorted(replayed)) == ("applicant.review_due", ["applicant.erased", "applicant.review_due"])


@pytest.mark.django_db
@pytest.mark.usefixtures("loopback_allowed")
def test_replay_creates_deliveries_for_events_an_endpoint_never_had(
    make_applicant: Callable[..., Applicant], receiver: EventReceiver
) -> None:
    other = Endpoint.objects.create(name="crm", url=receiver.url, event_types=["*"], secret=generate_secret())
    applicant = make_applicant()
    one_review_due(applicant)
    newcomer = Endpoint.objects.create(
        name="late", url=receiver.url, event_types=["applicant.review_due"], secret=generate_secret()
    )
    replay = outbound.replay_since(newcomer.pk, datetime(2000, 1, 1, tzinfo=timezone.utc), batch_size=1)
    assert (replay.resent, replay.created) == (0, 1)
    assert Delivery.objects.filter(endpoint=newcomer).count() == 1
    assert Delivery.objects.filter(endpoint=other).count() == 1


@pytest.mark.django_db
@pytest.mark.usefixtures("loopback_allowed")
def test_resend_gives_a_failed_delivery_a_fresh_budget_and_the_same_webhook_id(
    make_applicant: Callable[..., Applicant], receiver: EventReceiver
) -> None:
    hook(receiver.url)
    delivery = one_review_due(make_applicant())
    Delivery.objects.filter(pk=delivery.pk).update(state=DeliveryState.FAILED, attempts=8, next_attempt_at=None)
    assert outbound.deliver(delivery.pk) == "not due"
    assert outbound.resend([delivery.pk]) == 1
    assert outbound.deliver(delivery.pk) == DeliveryState.DELIVERED
    delivery.refresh_from_db()
    assert delivery.attempts == 1
    assert receiver.requests[0].headers["webhook-id"] == str(delivery.event_id)


@pytest.mark.django_db
@pytest.mark.usefixtures("loopback_allowed")
def test_a_rotated_secret_signs_alongside_the_old_one_until_it_expires(
    make_applicant: Callable[..., Applicant], receiver: EventReceiver
) -> None:
    endpoint = hook(receiver.url)
    old = endpoint.secret
    from django_kyc.services.outbound import rotate_secret

    new = rotate_secret(endpoint.pk)
    delivery = one_review_due(make_applicant())
    outbound.deliver(delivery.pk)
    request = receiver.requests[0]
    assert len(request.headers["webhook-signature"].split(" ")) == 2
    spec_check(old, request)
    spec_check(new, request)
    endpoint.refresh_from_db()
    with time_machine.travel(endpoint.previous_secret_until + timedelta(seconds=1)):
        assert outbound.signing_secrets(endpoint) == [new]


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("debug", "allowed", "url", "error"),
    [
        (False, ["127.0.0.0/8"], "http://127.0.0.1:9/", "only https"),
        (True, [], "http://127.0.0.1:9/", "loopback"),
        (True, [], "http://[::ffff:127.0.0.1]:9/", "loopback"),
        (True, [], "http://2130706433:9/", "loopback"),
        (True, ["127.0.0.0/8"], "http://169.254.169.254/latest/meta-data/", "metadata"),
        (True, [], "http://10.0.0.1/", "private"),
    ],
)
def test_refused_addresses_are_recorded_as_failed_attempts_and_retried(
    make_applicant: Callable[..., Applicant], debug: bool, allowed: list[str], url: str, error: str
) -> None:
    with override_settings(DEBUG=debug, DJANGO_KYC=kyc_settings_with(OUTBOUND_ALLOWED_NETWORKS=allowed)):
        hook(url)
        delivery = one_review_due(make_applicant())
        assert outbound.deliver(delivery.pk) == DeliveryState.RETRY_WAIT
    attempt = DeliveryAttempt.objects.get(delivery=delivery)
    assert error in attempt.error
    assert attempt.status_code is None


@pytest.mark.django_db
@pytest.mark.usefixtures("loopback_allowed")
def test_a_redirect_is_a_failed_attempt_and_is_not_followed(
    make_applicant: Callable[..., Applicant], receiver: EventReceiver
) -> None:
    receiver.then(Behaviour(status=307, headers={"Location": receiver.url + "/elsewhere"}))
    hook(receiver.url)
    delivery = one_review_due(make_applicant())
    assert outbound.deliver(delivery.pk) == DeliveryState.RETRY_WAIT
    delivery.refresh_from_db()
    assert "redirects are not followed" in delivery.last_error
    assert [request.path for request in receiver.requests] == ["/hooks/kyc"]


@pytest.mark.django_db
@pytest.mark.usefixtures("loopback_allowed")
def test_at_most_a_few_kb_of_the_answer_are_kept(
    make_applicant: Callable[..., Applicant], receiver: EventReceiver
) -> None:
    receiver.then(Behaviour(status=500, body=b"\x00" + b"e" * 50_000))
    hook(receiver.url)
    delivery = one_review_due(make_applicant())
    outbound.deliver(delivery.pk)
    kept = DeliveryAttempt.objects.get(delivery=delivery).response_body
    assert len(kept) == 2048
    assert "\x00" not in kept
