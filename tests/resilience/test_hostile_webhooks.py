"""Hostile deliveries to ``/kyc/webhooks/<alias>/``: every one is a 4xx (never a 5xx), nothing is queued, the
verification it names does not move, and nothing is stored but one increment of the rejection counter under
the expected reason: no table of any installed app gains or loses a row, except that counter's.

Signatures are computed with the sandbox's documented recipe (``tests.support.sandbox.sandbox_signature``).
"""

from __future__ import annotations

import json
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from typing import Any

import pytest
from django.apps import apps
from django.test import Client
from django.test.client import BOUNDARY, encode_multipart
from django.utils import timezone

from django_kyc import signals
from django_kyc.models import Verification, WebhookEvent, WebhookRejection
from django_kyc.status import VerificationStatus
from tests.resilience.providers import HOOKS, provider
from tests.support.factories import make_verification
from tests.support.sandbox import sandbox_event, sandbox_signature
from tests.support.webhooks import unframed_post

pytestmark = [pytest.mark.resilience, pytest.mark.django_db]

V = VerificationStatus
URL = "/kyc/webhooks/sandbox/"
HEADER = "X-Sandbox-Signature"


@dataclass
class Delivery:
    body: bytes
    headers: dict[str, str] = field(default_factory=dict)
    method: str = "post"
    content_type: str = "application/json"
    url: str = URL


def signed(body: bytes, **kwargs: Any) -> Delivery:
    return Delivery(body, {HEADER: sandbox_signature(body, **kwargs)})


def good_body(verification: Verification) -> bytes:
    return sandbox_event(verification, "approved", timezone.now(), event_id="evt_hostile")


def with_field(verification: Verification, **changes: Any) -> bytes:
    """The good body with some fields replaced (JSON escapes what they hold: ``\\u0000``, ``\\ud800``)."""
    return json.dumps({**json.loads(good_body(verification)), **changes}).encode()


def deeply_nested(depth: int = 100_000) -> bytes:
    return b'{"event_id": "evt_deep", "status": "approved", "data": ' + b"[" * depth + b"]" * depth + b"}"


#: where a refusal is counted: (backend, reason); an unknown alias is counted under "", never its name
Counted = tuple[str, str]
SANDBOX_MALFORMED: Counted = ("sandbox", "malformed")

# name -> (delivery builder, statuses it may get, where it is counted); the verification is PROCESSING with
# ref sbx_ver_hostile
CASES: dict[str, tuple[Callable[[Verification], Delivery], set[int], Counted]] = {
    "missing-signature": (lambda v: Delivery(good_body(v)), {401}, ("sandbox", "missing_signature")),
    "empty-signature": (lambda v: Delivery(good_body(v), {HEADER: ""}), {401}, ("sandbox", "missing_signature")),
    "wrong-secret": (
        lambda v: signed(good_body(v), secret="attacker-secret"),
        {403},
        ("sandbox", "bad_signature"),
    ),
    "signature-of-another-body": (
        lambda v: Delivery(good_body(v), {HEADER: sandbox_signature(good_body(v).replace(b"approved", b"declined"))}),
        {403},
        ("sandbox", "bad_signature"),
    ),
    "garbage-signature-header": (
        lambda v: Delivery(good_body(v), {HEADER: "v1=" + "\u00e9" * 40}),
        {401, 403},
        ("sandbox", "bad_signature"),
    ),
    "digest-without-timestamp": (
        lambda v: Delivery(good_body(v), {HEADER: sandbox_signature(good_body(v)).split(",")[1]}),
        {401, 403},
        ("sandbox", "bad_signature"),
    ),
    "replay-301s-old": (
        lambda v: signed(good_body(v), timestamp=int(time.time()) - 301),
        {403},
        ("sandbox", "stale"),
    ),
    "replay-a-day-old": (
        lambda v: signed(good_body(v), timestamp=int(time.time()) - 86_400),
        {403},
        ("sandbox", "stale"),
    ),
    "from-the-future": (
        lambda v: signed(good_body(v), timestamp=int(time.time()) + 301),
        {403},
        ("sandbox", "stale"),
    ),
    "10-MB-signed": (
        lambda v: signed(good_body(v)[:-1] + b', "pad": "' + b"x" * 10_000_000 + b'"}'),
        {413},
        ("sandbox", "too_large"),
    ),
    "10-MB-unsigned": (lambda v: Delivery(b"{" + b" " * 10_000_000 + b"}"), {413}, ("sandbox", "too_large")),
    "truncated-json": (lambda v: signed(good_body(v)[: len(good_body(v)) // 2]), {400}, SANDBOX_MALFORMED),
    "truncated-by-one-byte": (lambda v: signed(good_body(v)[:-1]), {400}, SANDBOX_MALFORMED),
    "json-array": (lambda v: signed(b"[" + good_body(v) + b"]"), {400}, SANDBOX_MALFORMED),
    "json-null": (lambda v: signed(b"null"), {400}, SANDBOX_MALFORMED),
    "json-string": (lambda v: signed(json.dumps(good_body(v).decode()).encode()), {400}, SANDBOX_MALFORMED),
    "not-utf8": (lambda v: signed(b"\xff\xfe" + good_body(v)), {400}, SANDBOX_MALFORMED),
    "deeply-nested-json": (lambda v: signed(deeply_nested()), {400}, SANDBOX_MALFORMED),
    "bad-occurred-at": (
        lambda v: signed(good_body(v).replace(timezone.now().isoformat()[:4].encode(), b"xxxx", 1)),
        {400},
        SANDBOX_MALFORMED,
    ),
    # authentic, but holding what no database column can store: refused before anything is stored, never a 500
    "nul-in-event-id": (lambda v: signed(with_field(v, event_id="evt_\x00")), {400}, SANDBOX_MALFORMED),
    "nul-in-status": (lambda v: signed(with_field(v, status="approved\x00")), {400}, SANDBOX_MALFORMED),
    "nul-in-reasons": (lambda v: signed(with_field(v, reasons=["\x00"] * 50)), {400}, SANDBOX_MALFORMED),
    "unpaired-surrogate": (lambda v: signed(with_field(v, event_id="evt_\udc80")), {400}, SANDBOX_MALFORMED),
    "time-before-year-1-in-utc": (
        lambda v: signed(with_field(v, occurred_at="0001-01-01T00:00:00+14:00")),
        {400},
        SANDBOX_MALFORMED,
    ),
    "nul-in-a-kept-header": (
        lambda v: _header(signed(good_body(v)), "X-Request-Id", "r\x00"),
        {400},
        SANDBOX_MALFORMED,
    ),
    "empty-body": (lambda v: signed(b""), {400}, ("sandbox", "empty_body")),
    "form-urlencoded": (
        lambda v: Delivery(
            b"event_id=evt_hostile&status=approved&verification_id=sbx_ver_hostile",
            {HEADER: sandbox_signature(b"event_id=evt_hostile&status=approved&verification_id=sbx_ver_hostile")},
            content_type="application/x-www-form-urlencoded",
        ),
        {400},
        SANDBOX_MALFORMED,
    ),
    "multipart": (
        lambda v: signed_as(
            encode_multipart(BOUNDARY, {"event_id": "evt_hostile", "status": "approved"}),
            f"multipart/form-data;boundary={BOUNDARY}",
        ),
        {400},
        SANDBOX_MALFORMED,
    ),
    "xml": (
        lambda v: signed_as(b"<event><id>evt_hostile</id><status>approved</status></event>", "application/xml"),
        {400},
        SANDBOX_MALFORMED,
    ),
    "get": (lambda v: _method(signed(good_body(v)), "get"), {405}, ("sandbox", "wrong_method")),
    "put": (lambda v: _method(signed(good_body(v)), "put"), {405}, ("sandbox", "wrong_method")),
    "delete": (lambda v: _method(signed(good_body(v)), "delete"), {405}, ("sandbox", "wrong_method")),
    "patch": (lambda v: _method(signed(good_body(v)), "patch"), {405}, ("sandbox", "wrong_method")),
    "unknown-alias": (lambda v: _url(signed(good_body(v)), "/kyc/webhooks/nosuch/"), {404}, ("", "unknown_endpoint")),
    "get-unknown-alias": (
        lambda v: _method(_url(signed(good_body(v)), "/kyc/webhooks/nosuch/"), "get"),
        {405},
        ("", "wrong_method"),
    ),
    "other-alias-secret": (
        lambda v: _url(signed(good_body(v)), "/kyc/webhooks/hosted/"),
        {403},
        ("hosted", "bad_signature"),
    ),
}


def signed_as(body: bytes, content_type: str) -> Delivery:
    return Delivery(body, {HEADER: sandbox_signature(body)}, content_type=content_type)


def _method(delivery: Delivery, method: str) -> Delivery:
    delivery.method = method
    return delivery


def _header(delivery: Delivery, name: str, value: str) -> Delivery:
    delivery.headers[name] = value
    return delivery


def _url(delivery: Delivery, url: str) -> Delivery:
    delivery.url = url
    return delivery


@pytest.fixture
def verification(make_applicant: Any) -> Verification:
    return make_verification(
        make_applicant(), V.PROCESSING, provider_verification_id="sbx_ver_hostile", provider_status="processing"
    )


@pytest.fixture
def rejections() -> Iterator[list[Counted]]:
    """``(backend, code)`` of each ``webhook_rejected`` signal sent."""
    sent: list[Counted] = []

    def handler(sender: Any, backend: str = "", code: str = "", **kwargs: Any) -> None:
        sent.append((backend, code))

    signals.webhook_rejected.connect(handler, weak=False)
    yield sent
    signals.webhook_rejected.disconnect(handler)


def snapshot() -> tuple[dict[str, int], dict[tuple[str, str, Any], int]]:
    """Rows per table of every installed app (django_kyc, django_q, auth, sessions...) except the rejection
    counters, and the counters' values. One count per table: cheap enough to take around every request."""
    tables = {
        model._meta.label: model._base_manager.count()
        for model in apps.get_models(include_auto_created=True)
        if not model._meta.proxy and model is not WebhookRejection
    }
    counters = {(row.backend, row.reason, row.day): row.count for row in WebhookRejection.objects.all()}
    return tables, counters


def assert_only_counted(before: tuple[dict[str, int], dict[Any, int]], expected: Counted) -> None:
    """Nothing changed anywhere but one counter, up by exactly one under ``expected``."""
    tables, counters = snapshot()
    changed = {label: (before[0][label], rows) for label, rows in tables.items() if before[0].get(label) != rows}
    assert changed == {}, changed
    increments = {key: value - before[1].get(key, 0) for key, value in counters.items()}
    increments = {key: delta for key, delta in increments.items() if delta}
    assert [(backend, reason, delta) for (backend, reason, _day), delta in increments.items()] == [(*expected, 1)]


@pytest.mark.parametrize("case", list(CASES))
def test_hostile_delivery_is_a_4xx_and_changes_nothing(
    case: str, verification: Verification, rejections: list[Counted], django_capture_on_commit_callbacks: Any
) -> None:
    build, allowed, counted = CASES[case]
    delivery = build(verification)
    before = Verification.objects.values("status", "provider_status", "last_event_at", "updated_at").get(
        pk=verification.pk
    )
    rows_before = snapshot()

    client = Client(raise_request_exception=False)  # a server error must show as a 500, not an exception
    with django_capture_on_commit_callbacks(execute=True) as callbacks:
        if delivery.method == "get":
            response = client.get(delivery.url, headers=delivery.headers)
        else:
            response = getattr(client, delivery.method)(
                delivery.url, data=delivery.body, content_type=delivery.content_type, headers=delivery.headers
            )

    assert response.status_code in allowed, (response.status_code, response.content[:300])
    if delivery.method == "post":
        assert response["Content-Type"] == "application/json"
        assert "detail" in response.json()
    else:
        assert response["Allow"] == "POST"
    assert callbacks == []  # nothing queued for processing
    after = Verification.objects.values("status", "provider_status", "last_event_at", "updated_at").get(
        pk=verification.pk
    )
    assert after == before
    # no WebhookEvent, AuditEvent, queue or any other row: only the refusal's counter, up by one
    assert_only_counted(rows_before, counted)
    assert rejections == [counted]  # and one webhook_rejected signal, whichever layer refused


@pytest.mark.parametrize(
    ("size", "terminated", "status", "counted"),
    [
        pytest.param(10_000_000, True, 413, ("sandbox", "too_large"), id="10-MB-chunked"),
        pytest.param(1_000, False, 411, ("sandbox", "bad_length"), id="chunked-on-a-server-that-does-not-de-chunk"),
    ],
)
def test_hostile_chunked_delivery_is_a_4xx_read_no_further_than_the_limit(
    size: int,
    terminated: bool,
    status: int,
    counted: Counted,
    verification: Verification,
    rejections: list[Counted],
    django_capture_on_commit_callbacks: Any,
) -> None:
    """No Content-Length to refuse up front: at most ``WEBHOOK_MAX_BYTES`` + 1 bytes are read, and nothing at
    all where the server leaves the chunk framing in the input."""
    body = signed(good_body(verification)[:-1] + b', "pad": "' + b"x" * size + b'"}')
    rows_before = snapshot()
    with django_capture_on_commit_callbacks(execute=True) as callbacks:
        response, stream = unframed_post(URL, body.body, body.headers, terminated=terminated)
    assert response.status_code == status, response.content[:300]
    assert stream.consumed == (1024 * 1024 + 1 if terminated else 0)
    assert callbacks == []
    assert_only_counted(rows_before, counted)
    assert rejections == [counted]


def test_accepted_delivery_replayed_late_is_rejected(
    verification: Verification, django_capture_on_commit_callbacks: Any
) -> None:
    """A captured genuine delivery, replayed after the tolerance with its original header, is refused."""
    body = sandbox_event(verification, "needs_review", timezone.now(), event_id="evt_first")
    stamp = int(time.time()) - 299
    header = sandbox_signature(body, timestamp=stamp)
    with django_capture_on_commit_callbacks(execute=True):
        first = Client().post(URL, data=body, content_type="application/json", headers={HEADER: header})
    assert first.status_code == 200
    assert WebhookEvent.objects.count() == 1

    time.sleep(2)  # the same bytes and header, now 301 s old
    rows_before = snapshot()
    with django_capture_on_commit_callbacks(execute=True) as callbacks:
        replay = Client().post(URL, data=body, content_type="application/json", headers={HEADER: header})
    assert replay.status_code == 403, replay.content
    assert callbacks == []
    assert_only_counted(rows_before, ("sandbox", "stale"))
    verification.refresh_from_db()
    assert verification.status == V.REVIEW


@pytest.mark.parametrize("name", list(HOOKS))
@pytest.mark.parametrize(
    ("body", "codes"),
    [
        # which reason depends on how far the provider's scheme gets with junk
        pytest.param(deeply_nested(), {"missing_signature", "bad_signature", "malformed"}, id="deeply-nested-json"),
        pytest.param(b'{"data": "' + b"0" * 2_000_000, {"too_large"}, id="truncated-2MB"),
        pytest.param(b"\x00" * 1024, {"missing_signature", "bad_signature", "malformed"}, id="binary"),
    ],
)
def test_unsigned_hostile_body_to_each_provider_is_a_4xx(
    name: str, body: bytes, codes: set[str], rejections: list[Counted], django_capture_on_commit_callbacks: Any
) -> None:
    """Some providers sign nothing (PassportReader) or parse an envelope before checking it (Allpass): their
    endpoints must refuse junk from anyone with a 4xx as well, before anything but the counter is stored."""
    with provider(name) as (hooks, _server):
        client = Client(raise_request_exception=False)
        rows_before = snapshot()
        with django_capture_on_commit_callbacks(execute=True) as callbacks:
            response = client.post(
                "/kyc/webhooks/contract/", data=body, content_type=hooks.WEBHOOK_CONTENT_TYPE, headers={}
            )
    assert 400 <= response.status_code < 500, (response.status_code, response.content[:300])
    assert callbacks == []
    assert len(rejections) == 1, rejections
    backend, code = rejections[0]
    assert backend == "contract"
    assert code in codes, code
    assert_only_counted(rows_before, rejections[0])
