"""The delivery client over real sockets: pinned addresses with the URL's name for Host and TLS, one deadline
for the whole attempt, a bounded answer, no redirects, and every failure returned rather than raised."""

from __future__ import annotations

import socket
import time
from pathlib import Path

from django_kyc.outbound.client import Target, post, resolve, tls_context
from tests.support.event_receiver import Behaviour, EventReceiver
from tests.support.tls import make_certificates

LOOPBACK = ["127.0.0.0/8"]


def loopback_as(name: str):
    def resolver(host: str, port: int, **kwargs: object) -> list[tuple[object, ...]]:
        assert host == name
        return [(socket.AF_INET, socket.SOCK_STREAM, 6, "", ("127.0.0.1", port))]

    return resolver


def send(target: Target, *, deadline: float = 5.0, keep: int = 2048, **kwargs: object):
    return post(
        target,
        b'{"a":1}',
        {"Content-Type": "application/json"},
        connect_timeout=2,
        deadline_seconds=deadline,
        keep_bytes=keep,
        **kwargs,
    )  # type: ignore[arg-type]


def http_target(receiver: EventReceiver) -> Target:
    from django_kyc.outbound.addresses import parse_networks

    return resolve(receiver.url, allow_http=True, allowed=parse_networks(LOOPBACK))


def test_tls_goes_to_the_checked_address_with_the_urls_name_as_host_and_sni(tmp_path: Path) -> None:
    from django_kyc.outbound.addresses import parse_networks

    certificates = make_certificates(tmp_path, "events.test")
    with EventReceiver(tls=certificates.server_context()) as receiver:
        target = resolve(
            f"https://events.test:{receiver.port}/in",
            allow_http=False,
            allowed=parse_networks(LOOPBACK),
            resolver=loopback_as("events.test"),
        )
        answer = send(target, context=tls_context(str(certificates.ca_file)))
        assert (answer.status, answer.error) == (200, "")
        assert receiver.requests[0].headers["host"] == f"events.test:{receiver.port}"
        assert receiver.requests[0].path == "/in"

        # the system's trust store does not know our test CA: recorded as a TLS error, not raised
        refused = send(target, context=tls_context())
        assert refused.status is None
        assert "TLS certificate not accepted" in refused.error


def test_a_certificate_for_another_name_is_not_accepted(tmp_path: Path) -> None:
    from django_kyc.outbound.addresses import parse_networks

    certificates = make_certificates(tmp_path, "other.test")
    with EventReceiver(tls=certificates.server_context()) as receiver:
        target = resolve(
            f"https://events.test:{receiver.port}/in",
            allow_http=False,
            allowed=parse_networks(LOOPBACK),
            resolver=loopback_as("events.test"),
        )
        answer = send(target, context=tls_context(str(certificates.ca_file)))
    assert answer.status is None
    assert "TLS certificate not accepted" in answer.error


def test_a_receiver_that_never_answers_costs_the_deadline_and_no_more() -> None:
    with EventReceiver(default=Behaviour(delay=5)) as receiver:
        started = time.monotonic()
        answer = send(http_target(receiver), deadline=0.5)
    assert time.monotonic() - started < 1.5
    assert (answer.status, answer.error) == (None, "timed out")


def test_a_trickled_body_is_cut_at_the_deadline_and_the_status_kept() -> None:
    with EventReceiver(default=Behaviour(body=b"x" * 200, trickle=0.05)) as receiver:
        started = time.monotonic()
        answer = send(http_target(receiver), deadline=0.6)
    assert time.monotonic() - started < 1.5
    assert answer.status == 200
    assert 0 < len(answer.body) < 200


def test_at_most_keep_bytes_of_the_answer_are_read() -> None:
    with EventReceiver(default=Behaviour(status=500, body=b"e" * 100_000)) as receiver:
        answer = send(http_target(receiver), keep=1000)
    assert (answer.status, len(answer.body)) == (500, 1000)


def test_redirects_are_not_followed() -> None:
    with EventReceiver(default=Behaviour(status=302, headers={"Location": "http://169.254.169.254/"})) as receiver:
        answer = send(http_target(receiver))
    assert answer.status == 302
    assert not answer.succeeded
    assert len(receiver.requests) == 1


def test_a_closed_port_is_an_error_not_an_exception() -> None:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    from django_kyc.outbound.addresses import parse_networks

    target = resolve(f"http://127.0.0.1:{port}/", allow_http=True, allowed=parse_networks(LOOPBACK))
    answer = send(target)
    assert (answer.status, answer.error) == (None, "connection refused")
