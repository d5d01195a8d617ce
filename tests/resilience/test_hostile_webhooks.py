"""Hostile deliveries to ``/kyc/webhooks/<alias>/``: every one is a 4xx (never a 5xx), nothing is stored,
nothing is queued and the verification it names does not move.

Signatures are computed with the sandbox's documented recipe (``tests.core_helpers.sandbox_signature``).
"""

from __future__ import annotations

import json
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from typing import Any

import pytest
from django.test import Client
from django.test.client import BOUNDARY, encode_multipart
from django.utils import timezone

from django_kyc import signals
from django_kyc.models import AuditEvent, Verification, WebhookEvent
from django_kyc.status import VerificationStatus
from tests.core_helpers import make_verification, sandbox_event, sandbox_signature
from tests.resilience.providers import HOOKS, provider

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


def deeply_nested(depth: int = 100_000) -> bytes:
    return b'{"event_id": "evt_deep", "status": "approved", "data": ' + b"[" * depth + b"]" * depth + b"}"


# name -> (delivery builder, statuses it may get); the verification is PROCESSING with ref sbx_ver_hostile
CASES: dict[str, tuple[Callable[[Verification], Delivery], set[int]]] = {
    "missing-signature": (lambda v: Delivery(good_body(v)), {401}),
    "empty-signature": (lambda v: Delivery(good_body(v), {HEADER: ""}), {401}),
    "wrong-secret": (lambda v: signed(good_body(v), secret="attacker-secret"), {403}),
    "signature-of-another-body": (
        lambda v: Delivery(good_body(v), {HEADER: sandbox_signature(good_body(v).replace(b"approved", b"declined"))}),
        {403},
    ),
    "garbage-signature-header": (lambda v: Delivery(good_body(v), {HEADER: "v1=" + "\u00e9" * 40}), {401, 403}),
    "digest-without-timestamp": (
        lambda v: Delivery(good_body(v), {HEADER: sandbox_signature(good_body(v)).split(",")[1]}),
        {401, 403},
    ),
    "replay-301s-old": (lambda v: signed(good_body(v), timestamp=int(time.time()) - 301), {403}),
    "replay-a-day-old": (lambda v: signed(good_body(v), timestamp=int(time.time()) - 86_400), {403}),
    "from-the-future": (lambda v: signed(good_body(v), timestamp=int(time.time()) + 301), {403}),
    "10-MB-signed": (lambda v: signed(good_body(v)[:-1] + b', "pad": "' + b"x" * 10_000_000 + b'"}'), {413}),
    "10-MB-unsigned": (lambda v: Delivery(b"{" + b" " * 10_000_000 + b"}"), {413}),
    "truncated-json": (lambda v: signed(good_body(v)[: len(good_body(v)) // 2]), {400}),
    "truncated-by-one-byte": (lambda v: signed(good_body(v)[:-1]), {400}),
    "json-array": (lambda v: signed(b"[" + good_body(v) + b"]"), {400}),
    "json-null": (lambda v: signed(b"null"), {400}),
    "json-string": (lambda v: signed(json.dumps(good_body(v).decode()).encode()), {400}),
    "not-utf8": (lambda v: signed(b"\xff\xfe" + good_body(v)), {400}),
    "deeply-nested-json": (lambda v: signed(deeply_nested()), {400}),
    "bad-occurred-at": (
        lambda v: signed(good_body(v).replace(timezone.now().isoformat()[:4].encode(), b"xxxx", 1)),
        {400},
    ),
    "empty-body": (lambda v: signed(b""), {400}),
    "form-urlencoded": (
        lambda v: Delivery(
            b"event_id=evt_hostile&status=approved&verification_id=sbx_ver_hostile",
            {HEADER: sandbox_signature(b"event_id=evt_hostile&status=approved&verification_id=sbx_ver_hostile")},
            content_type="application/x-www-form-urlencoded",
        ),
        {400},
    ),
    "multipart": (
        lambda v: signed_as(
            encode_multipart(BOUNDARY, {"event_id": "evt_hostile", "status": "approved"}),
            f"multipart/form-data;boundary={BOUNDARY}",
        ),
        {400},
    ),
    "xml": (
        lambda v: signed_as(b"<event><id>evt_hostile</id><status>approved</status></event>", "application/xml"),
        {400},
    ),
    "get": (lambda v: _method(signed(good_body(v)), "get"), {405}),
    "put": (lambda v: _method(signed(good_body(v)), "put"), {405}),
    "delete": (lambda v: _method(signed(good_body(v)), "delete"), {405}),
    "patch": (lambda v: _method(signed(good_body(v)), "patch"), {405}),
    "unknown-alias": (lambda v: _url(signed(good_body(v)), "/kyc/webhooks/nosuch/"), {404}),
    "other-alias-secret": (lambda v: _url(signed(good_body(v)), "/kyc/webhooks/hosted/"), {403}),
}


#: the cases a backend refuses (and reports through ``webhook_rejected``)
COUNTED = {
    name
    for name, (_, statuses) in CASES.items()
    if statuses & {400, 401, 403} and name not in {"empty-body", "10-MB-signed", "10-MB-unsigned"}
}


def signed_as(body: bytes, content_type: str) -> Delivery:
    return Delivery(body, {HEADER: sandbox_signature(body)}, content_type=content_type)


def _method(delivery: Delivery, method: str) -> Delivery:
    delivery.method = method
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
def rejections() -> Iterator[list[str]]:
    reasons: list[str] = []

    def handler(sender: Any, reason: str = "", **kwargs: Any) -> None:
        reasons.append(reason)

    signals.webhook_rejected.connect(handler, weak=False)
    yield reasons
    signals.webhook_rejected.disconnect(handler)


@pytest.mark.parametrize("case", list(CASES))
def test_hostile_delivery_is_a_4xx_and_changes_nothing(
    case: str, verification: Verification, rejections: list[str], django_capture_on_commit_callbacks: Any
) -> None:
    build, allowed = CASES[case]
    delivery = build(verification)
    before = Verification.objects.values("status", "provider_status", "last_event_at", "updated_at").get(
        pk=verification.pk
    )
    audit_rows = AuditEvent.objects.count()

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
    assert WebhookEvent.objects.count() == 0
    assert callbacks == []  # nothing queued for processing
    assert AuditEvent.objects.count() == audit_rows
    after = Verification.objects.values("status", "provider_status", "last_event_at", "updated_at").get(
        pk=verification.pk
    )
    assert after == before
    # the backend's refusals are counted (the webhook_rejected signal), never stored; the view's own
    # refusals (method, size, empty body, unknown alias) happen before a backend is asked
    assert len(rejections) == (1 if case in COUNTED else 0), rejections


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
    with django_capture_on_commit_callbacks(execute=True) as callbacks:
        replay = Client().post(URL, data=body, content_type="application/json", headers={HEADER: header})
    assert replay.status_code == 403, replay.content
    assert callbacks == []
    assert WebhookEvent.objects.count() == 1
    verification.refresh_from_db()
    assert verification.status == V.REVIEW


@pytest.mark.parametrize("name", list(HOOKS))
@pytest.mark.parametrize(
    "body",
    [
        pytest.param(deeply_nested(), id="deeply-nested-json"),
        pytest.param(b'{"data": "' + b"0" * 2_000_000, id="truncated-2MB"),
        pytest.param(b"\x00" * 1024, id="binary"),
    ],
)
def test_unsigned_hostile_body_to_each_provider_is_a_4xx(
    name: str, body: bytes, rejections: list[str], django_capture_on_commit_callbacks: Any
) -> None:
    """Some providers sign nothing (PassportReader) or parse an envelope before checking it (Allpass): their
    endpoints must refuse junk from anyone with a 4xx as well, before anything is stored."""
    with provider(name) as (hooks, _server):
        client = Client(raise_request_exception=False)
        with django_capture_on_commit_callbacks(execute=True) as callbacks:
            response = client.post(
                "/kyc/webhooks/contract/", data=body, content_type=hooks.WEBHOOK_CONTENT_TYPE, headers={}
            )
    assert 400 <= response.status_code < 500, (response.status_code, response.content[:300])
    assert WebhookEvent.objects.count() == 0
    assert callbacks == []
