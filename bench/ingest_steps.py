"""Where a webhook receipt spends its time over the bare one-INSERT view, step by step, in one process.

``bench.ingest`` says how much slower the receipt is than the bare view behind gunicorn; this says where the
difference goes. Each step of the receipt (and of the bare view) runs on its own, many times, against the
benchmark database in autocommit (as the view runs), and its mean cost is printed in microseconds; then the
whole of each view runs through Django's handler and middleware (the test client, no server, no network but the
database's) so the steps can be checked against the total. The broker is ``KYC_BENCH_BROKER`` (``orm`` or
``redis``) as for the other benchmarks.

Run: ``python -m bench.ingest_steps [--repeat 3000]``.
"""

from __future__ import annotations

import argparse
import os
import time
from collections.abc import Callable
from typing import Any
from unittest import mock


def timed(step: Callable[[], Any], repeat: int) -> float:
    """Mean microseconds per call, the best of three passes (a quiet machine still has hiccups)."""
    step()  # warm caches and connections
    passes = []
    for _ in range(3):
        started = time.perf_counter_ns()
        for _ in range(repeat):
            step()
        passes.append((time.perf_counter_ns() - started) / repeat / 1000)
    return min(passes)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--repeat", type=int, default=3000)
    parser.add_argument("--keep-database", action="store_true")
    args = parser.parse_args(argv)

    from bench import harness

    os.environ.setdefault("KYC_BENCH_BROKER", "orm")
    harness.recreate_database()
    harness.flush_redis()
    harness.setup_django()
    try:
        report(args.repeat)
    finally:
        if not args.keep_database:
            harness.drop_database()
    return 0


def report(repeat: int) -> None:
    import dataclasses
    import uuid

    from django.db import connection
    from django.http import JsonResponse
    from django.test import Client, RequestFactory

    from bench.bareapp.models import BareEvent
    from bench.ingest import bare_request, sandbox_request
    from django_kyc import wakeup
    from django_kyc.backends.base import InboundWebhook
    from django_kyc.backends.capabilities import Capability
    from django_kyc.backends.registry import get_backend, is_configured
    from django_kyc.conf import kyc_settings
    from django_kyc.crypto import encrypt_bytes
    from django_kyc.db import _insert_statement, _prepared_params, insert_unless_conflict, savepoint_if_nested
    from django_kyc.models import WebhookEvent
    from django_kyc.services import webhooks

    headers, body = sandbox_request(1)
    factory = RequestFactory()
    meta = {f"HTTP_{name.upper().replace('-', '_')}": value for name, value in headers.items()}
    request = factory.post("/kyc/webhooks/sandbox/", data=body, content_type="application/json", **meta)
    backend = get_backend("sandbox")
    webhook = InboundWebhook(body=body, headers=dict(request.headers), remote_addr="127.0.0.1")
    events = backend.parse_webhook(webhook)
    event = events[0]
    allowed = {name.lower() for name in (*kyc_settings.WEBHOOK_HEADER_ALLOWLIST, *backend.parse_headers)}
    kept = {key.lower(): value for key, value in webhook.headers.items() if key.lower() in allowed}

    def new_row() -> dict[str, Any]:
        return webhooks.inbox_row("sandbox", dataclasses.replace(event, event_id=f"evt_{uuid.uuid4().hex}"), kept, body)

    def compile_insert() -> None:
        _prepared_params(_insert_statement(WebhookEvent, "default", connection.vendor), new_row(), connection)

    def insert() -> None:
        with savepoint_if_nested():
            insert_unless_conflict(WebhookEvent, new_row())

    text = body.decode()

    def bare_insert() -> None:
        BareEvent.objects.create(body=text)

    rows: list[tuple[str, str, float]] = []

    def step(side: str, name: str, call: Callable[[], Any], times: int = repeat) -> None:
        rows.append((side, name, timed(call, times)))

    step(
        "kyc",
        "endpoint checks (is_configured, get_backend, supports, size limit)",
        lambda: (
            is_configured("sandbox"),
            get_backend("sandbox").supports(Capability.WEBHOOKS),
            int(kyc_settings.WEBHOOK_MAX_BYTES),
        ),
    )
    step(
        "kyc",
        "InboundWebhook(headers=dict(request.headers))",
        lambda: InboundWebhook(body=body, headers=dict(request.headers), remote_addr="127.0.0.1"),
    )
    step(
        "kyc",
        "allow-listed headers kept",
        lambda: {
            key.lower(): value
            for key, value in webhook.headers.items()
            if key.lower()
            in {name.lower() for name in (*kyc_settings.WEBHOOK_HEADER_ALLOWLIST, *backend.parse_headers)}
        },
    )
    step("kyc", "authenticate (HMAC-SHA256 of the raw bytes)", lambda: backend.authenticate_webhook(webhook))
    step("kyc", "parse (json.loads + ProviderEvent)", lambda: backend.parse_webhook(webhook))
    step(
        "kyc",
        "storable checks (event + headers)",
        lambda: (webhooks._require_storable(event, "event"), webhooks._require_storable(kept, "a kept header")),
    )
    step("kyc", "the row's values, by field", new_row)
    step("kyc", "encrypt the body (Fernet)", lambda: encrypt_bytes(body))
    step("kyc", "the INSERT's parameters (incl. the values and the encryption)", compile_insert)
    step("kyc", "INSERT ... ON CONFLICT DO NOTHING, executed (incl. the above)", insert, times=repeat // 3)
    wakeup.wake()
    step("kyc", f"wake-up ({os.environ.get('KYC_BENCH_BROKER')} broker, already woken)", wakeup.wake)
    step("kyc", "JsonResponse", lambda: JsonResponse({"stored": 1, "duplicates": 0}))

    def full_receive() -> None:
        fresh_headers, fresh = sandbox_request(2)
        webhooks.receive("sandbox", InboundWebhook(body=fresh, headers=fresh_headers, remote_addr=""))

    step("kyc", "services.webhooks.receive, whole (incl. building a fresh body)", full_receive, times=repeat // 3)
    with mock.patch.object(webhooks, "insert_unless_conflict", return_value=True):
        step("kyc", "the same with the INSERT stubbed out (all but the statement)", full_receive, times=repeat // 3)
    with mock.patch.object(wakeup, "wake"):
        step("kyc", "the same with the wake-up stubbed out", full_receive, times=repeat // 3)
    step("both", "building a fresh signed body (benchmark's own cost, not the view's)", lambda: sandbox_request(2))
    step("bare", "request.body.decode", lambda: request.body.decode("utf-8", errors="replace"))
    step("bare", "BareEvent.objects.create (INSERT ... RETURNING id)", bare_insert, times=repeat // 3)

    client = Client(SERVER_NAME="127.0.0.1")
    connection.ensure_connection()

    def through_handler(path: str, make: Callable[[int], tuple[dict[str, str], bytes]]) -> Callable[[], Any]:
        def call() -> None:
            sent_headers, sent = make(3)
            extra = {f"HTTP_{n.upper().replace('-', '_')}": v for n, v in sent_headers.items() if n != "Content-Type"}
            answer = client.post(path, data=sent, content_type="application/json", **extra)
            assert answer.status_code == 200, answer.content

        return call

    step("bare", "whole request through the handler (bare view)", through_handler("/bare/", bare_request), repeat // 3)
    step(
        "kyc",
        "whole request through the handler (webhook view)",
        through_handler("/kyc/webhooks/sandbox/", sandbox_request),
        repeat // 3,
    )

    print(f"Broker: {os.environ.get('KYC_BENCH_BROKER')}; mean µs per call, best of 3 passes\n")
    print("| side | step | µs |")
    print("|---|---|---|")
    for side, name, micros in rows:
        print(f"| {side} | {name} | {micros:,.1f} |")
    totals = {side: micros for side, name, micros in rows if name.startswith("whole request")}
    print(f"\nwhole request, webhook view − bare view: {totals['kyc'] - totals['bare']:,.1f} µs")


if __name__ == "__main__":
    raise SystemExit(main())
