"""Webhook ingest: deliveries per second that are authenticated, stored and de-duplicated, with their wake-up.

Contenders, all behind the same gunicorn (sync workers, persistent connections) on PostgreSQL, loaded by
``wrk`` on loopback with a distinct event in every request:

- ``bare``: one INSERT, no authentication (the floor of the stack);
- ``django_kyc``: the sandbox backend's signed webhook through ``/kyc/webhooks/sandbox/`` with the ORM
  broker, and the same with the Redis broker: one INSERT into the inbox, which is the queue, plus the
  coalesced wake-up of the drain (a per-process window on the ORM broker, ``SET NX`` on Redis; no cluster
  runs here, so a wake-up enqueues a drain at most once per window or marker lifetime);
- ``django-onfido``: its signed webhook view, which fetches the check from Onfido (a loopback fake here)
  before it saves anything.

Run: ``python -m bench.ingest [--rounds 3] [--duration 10]``.
"""

from __future__ import annotations

import argparse
import hashlib
import hmac
import json
import re
import subprocess
import tempfile
import time
import uuid
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import datetime, timezone
from functools import partial
from pathlib import Path

from bench import harness
from bench.fake_onfido import FakeOnfido

SANDBOX_SECRET = "bench-sandbox-secret"
ONFIDO_TOKEN = "bench-onfido-token"
ONFIDO_CHECKS = 2_000
# more lines than the fastest contender can send in a run, so no event repeats (checked after each run)
LINES_PER_SECOND = 4_000
SEPARATOR = "\x1f"


@dataclass(frozen=True)
class Contender:
    name: str
    port: int
    path: str
    request: Callable[[int], tuple[dict[str, str], bytes]]
    count: Callable[[], int]


def approval(event_id: str, provider_ref: str, reference: str) -> bytes:
    """A sandbox event approving a verification, in the provider's documented shape."""
    payload = {
        "event_id": event_id,
        "type": "verification.updated",
        "verification_id": provider_ref,
        "reference": reference,
        "status": "approved",
        "reasons": [],
        "documents": [],
        "occurred_at": datetime.now(timezone.utc).isoformat(),
    }
    return json.dumps(payload, separators=(",", ":")).encode()


def sandbox_request(index: int) -> tuple[dict[str, str], bytes]:
    body = approval(f"evt_{uuid.uuid4().hex}", f"sbx_ver_{index}", str(uuid.uuid4()))
    return {"Content-Type": "application/json", "X-Sandbox-Signature": sign_sandbox(body)}, body


def sign_sandbox(body: bytes) -> str:
    """The sandbox's documented recipe: ``t=<unix>,v1=<hex HMAC-SHA256(secret, "<t>." + body)>``."""
    stamp = int(time.time())
    mac = hmac.new(SANDBOX_SECRET.encode(), f"{stamp}.".encode() + body, hashlib.sha256).hexdigest()
    return f"t={stamp},v1={mac}"


def bare_request(index: int) -> tuple[dict[str, str], bytes]:
    """The same body as django_kyc gets, without a signature: the floor does not authenticate."""
    return {"Content-Type": "application/json"}, sandbox_request(index)[1]


def onfido_request(index: int) -> tuple[dict[str, str], bytes]:
    check_id = f"check_{index % ONFIDO_CHECKS}"
    body = json.dumps(
        {
            "payload": {
                "resource_type": "check",
                "action": "check.completed",
                "object": {
                    "id": check_id,
                    "status": "complete",
                    "completed_at_iso8601": datetime.now(timezone.utc).isoformat(),
                    "href": f"/v3/checks/{check_id}",
                },
            }
        },
        separators=(",", ":"),
    ).encode()
    signature = hmac.new(ONFIDO_TOKEN.encode(), body, hashlib.sha256).hexdigest()
    return {"Content-Type": "application/json", "X-SHA2-Signature": signature}, body


def write_requests(contender: Contender, lines: int) -> Path:
    with tempfile.NamedTemporaryFile("w", suffix=".requests", delete=False, encoding="utf-8") as handle:
        for index in range(lines):
            headers, body = contender.request(index)
            header_text = SEPARATOR.join(f"{name}: {value}" for name, value in headers.items())
            handle.write(f"{contender.path}\t{header_text}\t{body.decode()}\n")
    return Path(handle.name)


def run_wrk(contender: Contender, duration: float, connections: int) -> float:
    """Requests per second for one run; raises if anything but a 2xx came back or an event repeated."""
    lines = int(LINES_PER_SECOND * duration) + 1_000
    requests_file = write_requests(contender, lines)
    before = contender.count()
    try:
        output = subprocess.run(
            [
                "wrk",
                "-t1",
                f"-c{connections}",
                f"-d{duration:g}s",
                "-s",
                str(harness.ROOT / "bench" / "wrk_replay.lua"),
                f"http://127.0.0.1:{contender.port}{contender.path}",
                "--",
                str(requests_file),
                "1",
            ],
            check=True,
            capture_output=True,
            text=True,
        ).stdout
    finally:
        requests_file.unlink()
    match = re.search(r"replay: requests=(\d+) non2xx=(\d+) errors=(\d+)", output)
    rate = re.search(r"Requests/sec:\s+([\d.]+)", output)
    if not match or not rate:
        raise RuntimeError(f"could not read wrk's output:\n{output}")
    sent, non2xx, errors = (int(group) for group in match.groups())
    if non2xx or errors:
        raise RuntimeError(f"{contender.name}: {non2xx} non-2xx answers and {errors} socket errors:\n{output}")
    if sent > lines:
        raise RuntimeError(f"{contender.name}: {sent} requests but only {lines} distinct events were prepared")
    stored = contender.count() - before
    if stored < sent:
        raise RuntimeError(f"{contender.name}: wrk saw {sent} answers but only {stored} rows were stored")
    return float(rate.group(1))


def run_once(contender: Contender, duration: float, connections: int, _round: int) -> float:
    return run_wrk(contender, duration, connections)


def seed_onfido(api_root: str) -> None:
    """A user with an Onfido applicant and the checks the peer's events point at."""
    from django.contrib.auth import get_user_model
    from onfido.models import Applicant, Check

    user = get_user_model().objects.create(username="onfido-bench")
    applicant = Applicant.objects.create(
        user=user, onfido_id="applicant_bench", created_at=datetime.now(timezone.utc), raw={}
    )
    Check.objects.bulk_create(
        Check(
            user=user,
            applicant=applicant,
            onfido_id=f"check_{index}",
            created_at=datetime.now(timezone.utc),
            status="in_progress",
            raw={"href": f"{api_root}checks/check_{index}"},
        )
        for index in range(ONFIDO_CHECKS)
    )


def row_count(table: str) -> Callable[[], int]:
    from django.db import connection

    def count() -> int:
        with connection.cursor() as cursor:
            cursor.execute(f"SELECT count(*) FROM {table}")  # noqa: S608 - fixed table names
            return int(cursor.fetchone()[0])

    return count


@contextmanager
def site(onfido_root: str) -> Iterator[list[Contender]]:
    """Two identical gunicorns: one whose django_kyc enqueues on the ORM broker, one on Redis."""
    orm_port, redis_port = harness.free_port(), harness.free_port()
    events = row_count("django_kyc_webhookevent")
    with (
        harness.gunicorn(orm_port, KYC_BENCH_ONFIDO_URL=onfido_root),
        harness.gunicorn(redis_port, KYC_BENCH_BROKER="redis"),
    ):
        yield [
            Contender("bare view", orm_port, "/bare/", bare_request, row_count("bareapp_bareevent")),
            Contender("django_kyc (ORM broker)", orm_port, "/kyc/webhooks/sandbox/", sandbox_request, events),
            Contender("django_kyc (Redis broker)", redis_port, "/kyc/webhooks/sandbox/", sandbox_request, events),
            Contender("django-onfido", orm_port, "/onfido/webhook/", onfido_request, row_count("onfido_event")),
        ]


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--duration", type=float, default=10.0, help="seconds per wrk run")
    parser.add_argument("--connections", type=int, default=16)
    args = parser.parse_args(argv)

    harness.recreate_database()
    harness.flush_redis()
    harness.setup_django()
    with FakeOnfido() as onfido:
        seed_onfido(onfido.api_root)
        with site(onfido.api_root) as contenders:
            by_name = {contender.name: contender for contender in contenders}
            print(f"warm-up: {args.connections} connections, 2 s each", flush=True)
            for contender in contenders:
                run_wrk(contender, 2, args.connections)
            runs = {name: partial(run_once, c, args.duration, args.connections) for name, c in by_name.items()}
            results = harness.alternate(runs, args.rounds)
    harness.drop_database()
    print(report(results, args))
    return 0


TARGET_VS_BARE = 0.9
TARGET_VS_ONFIDO = 3.5


def report(results: dict[str, list[float]], args: argparse.Namespace) -> str:
    rows = []
    for name, rates in results.items():
        vs_bare = harness.Summary.of(harness.ratios(results, name, "bare view"))
        vs_onfido = harness.Summary.of(harness.ratios(results, name, "django-onfido"))
        rows.append([name, harness.Summary.of(rates).format(0), vs_bare.format(), vs_onfido.format()])
    lines = [
        f"Webhook ingest, {args.rounds} rounds of {args.duration:g} s, wrk -t1 -c{args.connections}, "
        "gunicorn 2 sync workers, PostgreSQL; median (min–max)",
        "",
        harness.markdown_table(["contender", "deliveries/s", "× bare view", "× django-onfido"], rows),
        "",
    ]
    for name in ("django_kyc (ORM broker)", "django_kyc (Redis broker)"):
        vs_bare = harness.Summary.of(harness.ratios(results, name, "bare view")).median
        vs_onfido = harness.Summary.of(harness.ratios(results, name, "django-onfido")).median
        lines.append(
            f"{name}: {vs_bare:.2f}× bare (target ≥ {TARGET_VS_BARE}: {harness.verdict(vs_bare >= TARGET_VS_BARE)}), "
            f"{vs_onfido:.2f}× django-onfido (target ≥ {TARGET_VS_ONFIDO}: "
            f"{harness.verdict(vs_onfido >= TARGET_VS_ONFIDO)})"
        )
    return "\n".join(lines)


if __name__ == "__main__":
    raise SystemExit(main())
