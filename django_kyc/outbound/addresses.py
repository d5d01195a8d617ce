"""Which addresses an event may be delivered to: the SSRF rule, in one place.

An endpoint URL is typed by a person (or a settings file), and the deliveries are made by our workers from inside
the site's network, so a URL naming ``127.0.0.1``, ``10.0.0.5`` or the cloud's metadata service would turn the
event feature into a way of reaching what the internet cannot. Every address a host name resolves to is
checked, and a host that resolves to any refused address is refused as a whole (an attacker controls the order
of the answers). Addresses that carry an IPv4 address inside an IPv6 one (``::ffff:127.0.0.1``, NAT64, 6to4,
Teredo, the deprecated ``::a.b.c.d``) are checked as that IPv4 address too; decimal, hex and short forms
(``2130706433``, ``0x7f.1``, ``127.1``) are whatever the resolver makes of them, which is what is checked.

Private networks are refused unless ``OUTBOUND_ALLOWED_NETWORKS`` names them: a site whose services live on its
own network lists that network, and the tests list the loopback network.
"""

from __future__ import annotations

import ipaddress
from collections.abc import Iterable, Sequence

from django.utils.translation import gettext as _

IPAddress = ipaddress.IPv4Address | ipaddress.IPv6Address
Network = ipaddress.IPv4Network | ipaddress.IPv6Network

#: Cloud metadata services, named in refusals (most are link-local or private anyway; Alibaba's is not).
METADATA_ADDRESSES = frozenset(
    ipaddress.ip_address(address)
    for address in ("169.254.169.254", "169.254.170.2", "100.100.100.200", "fd00:ec2::254", "168.63.129.16")
)
_NAT64 = ipaddress.ip_network("64:ff9b::/96")
_IPV4_COMPATIBLE = ipaddress.ip_network("::/96")


def parse_networks(values: Iterable[str]) -> list[Network]:
    """``OUTBOUND_ALLOWED_NETWORKS`` as networks; ``ValueError`` names a bad entry."""
    return [ipaddress.ip_network(str(value), strict=False) for value in values]


def embedded_ipv4(address: IPAddress) -> ipaddress.IPv4Address | None:
    """The IPv4 address an IPv6 address stands for, when it stands for one."""
    if not isinstance(address, ipaddress.IPv6Address):
        return None
    if address.ipv4_mapped is not None:
        return address.ipv4_mapped
    if address.sixtofour is not None:
        return address.sixtofour
    if address.teredo is not None:
        return address.teredo[1]
    if address in _NAT64 or (address in _IPV4_COMPATIBLE and int(address) > 1):
        return ipaddress.IPv4Address(int(address) & 0xFFFFFFFF)
    return None


def _why_internal(address: IPAddress) -> str | None:
    if address in METADATA_ADDRESSES:
        return _("a cloud metadata address")
    if address.is_loopback:
        return _("a loopback address")
    if address.is_link_local:
        return _("a link-local address")
    if address.is_unspecified:
        return _("an unspecified address")
    if address.is_multicast:
        return _("a multicast address")
    if address.is_private:
        return _("a private address")
    if not address.is_global:
        return _("a reserved address")
    return None


def refusal(address: IPAddress, allowed: Sequence[Network] = ()) -> str | None:
    """Why events may not go to ``address`` (``None``: they may)."""
    # an address that carries an IPv4 one reaches that one: it is judged as that one alone
    target = embedded_ipv4(address) or address
    if any(target.version == network.version and target in network for network in allowed):
        return None
    why = _why_internal(target)
    return _("%(address)s is %(why)s") % {"address": address, "why": why} if why else None
