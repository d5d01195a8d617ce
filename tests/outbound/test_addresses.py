"""The SSRF rule: which addresses events may go to, in every spelling an address can take."""

from __future__ import annotations

import ipaddress
import socket

import pytest

from django_kyc.outbound.addresses import parse_networks, refusal
from django_kyc.outbound.client import Refused, resolve


@pytest.mark.parametrize(
    ("address", "why"),
    [
        ("127.0.0.1", "loopback"),
        ("::1", "loopback"),
        ("10.1.2.3", "private"),
        ("172.16.0.1", "private"),
        ("192.168.1.1", "private"),
        ("fd12::1", "private"),
        ("169.254.169.254", "metadata"),
        ("fd00:ec2::254", "metadata"),
        ("100.100.100.200", "metadata"),
        ("169.254.1.1", "link-local"),
        ("fe80::1", "link-local"),
        ("0.0.0.0", "unspecified"),  # noqa: S104 - an address to refuse, not to bind
        ("::", "unspecified"),
        ("224.0.0.1", "multicast"),
        ("100.64.0.1", "reserved"),
        ("::ffff:127.0.0.1", "loopback"),
        ("::ffff:169.254.169.254", "metadata"),
        ("::127.0.0.1", "loopback"),
        ("64:ff9b::a00:1", "private"),
        ("2002:7f00:1::", "loopback"),
        ("2001:0:4136:e378:8000:63bf:80ff:fffe", "loopback"),  # Teredo, client 127.0.0.1
    ],
)
def test_internal_addresses_are_refused(address: str, why: str) -> None:
    reason = refusal(ipaddress.ip_address(address))
    assert reason is not None
    assert why in reason


@pytest.mark.parametrize("address", ["93.184.215.14", "2606:2800:21f:cb07:6820:80da:af6b:8b2c", "::ffff:8.8.8.8"])
def test_public_addresses_are_allowed(address: str) -> None:
    assert refusal(ipaddress.ip_address(address)) is None


def test_a_network_in_the_setting_is_allowed_and_nothing_else() -> None:
    allowed = parse_networks(["127.0.0.0/8", "10.20.0.0/16"])
    assert refusal(ipaddress.ip_address("127.0.0.1"), allowed) is None
    assert refusal(ipaddress.ip_address("::ffff:127.0.0.1"), allowed) is None
    assert refusal(ipaddress.ip_address("10.20.3.4"), allowed) is None
    assert refusal(ipaddress.ip_address("10.21.3.4"), allowed) is not None
    assert refusal(ipaddress.ip_address("::1"), allowed) is not None
    assert refusal(ipaddress.ip_address("169.254.169.254"), allowed) is not None


@pytest.mark.parametrize(
    "host",
    [
        "127.0.0.1",
        "2130706433",
        "0x7f000001",
        "0x7f.1",
        "127.1",
        "0177.0.0.1",
        "[::1]",
        "[::ffff:127.0.0.1]",
        "localhost",
    ],
)
def test_every_spelling_of_loopback_is_refused_after_resolution(host: str) -> None:
    with pytest.raises(Refused, match="loopback"):
        resolve(f"https://{host}/hook", allow_http=False)


def test_a_name_resolving_to_one_internal_address_among_public_ones_is_refused() -> None:
    def resolver(host: str, port: int, **kwargs: object) -> list[tuple[object, ...]]:
        return [
            (socket.AF_INET, socket.SOCK_STREAM, 6, "", ("93.184.215.14", port)),
            (socket.AF_INET, socket.SOCK_STREAM, 6, "", ("169.254.169.254", port)),
        ]

    with pytest.raises(Refused, match="metadata"):
        resolve("https://rebind.example/hook", allow_http=False, resolver=resolver)


def test_the_checked_addresses_are_the_ones_connected_to() -> None:
    def resolver(host: str, port: int, **kwargs: object) -> list[tuple[object, ...]]:
        return [(socket.AF_INET, socket.SOCK_STREAM, 6, "", ("93.184.215.14", port))]

    target = resolve("https://events.example:8443/in?x=1", allow_http=False, resolver=resolver)
    assert (target.host, target.port, target.path) == ("events.example", 8443, "/in?x=1")
    assert target.addresses == (ipaddress.ip_address("93.184.215.14"),)


@pytest.mark.parametrize(
    ("url", "allow_http", "message"),
    [
        ("http://93.184.215.14/", False, "only https"),
        ("ftp://93.184.215.14/", True, "only https"),
        ("https://user:pw@93.184.215.14/", False, "credentials"),
        ("https:///nohost", False, "no host"),
        ("https://93.184.215.14:99999/", False, "not valid"),
    ],
)
def test_urls_outside_the_rules_are_refused(url: str, allow_http: bool, message: str) -> None:
    with pytest.raises(Refused, match=message):
        resolve(url, allow_http=allow_http)


def test_a_name_that_does_not_resolve_is_refused_not_raised() -> None:
    with pytest.raises(Refused, match="resolve"):
        resolve("https://no-such-host.invalid/", allow_http=False)
