"""Which addresses delivery tries, in which order: inet_protocols and smtp_address_preference, as Postfix's.

The MX answer and the host addresses come from the loopback DNS server (tests/dns_server.py); the native lookups
(getaddrinfo) from a stand-in, so that /etc/hosts plays no part.
"""

import asyncio
import socket
import subprocess

import pytest

from filterd.dns import Resolver
from filterd.parameters import CORE_PARAMETERS
from filterd.qmgr import routing
from filterd.qmgr.mail_exchangers import HostLookup
from filterd.qmgr.routing import AddressFamilies

V4, V6 = socket.AF_INET, socket.AF_INET6
HOSTS = {"a.example": ["2001:db8::a", "192.0.2.10"], "b.example": ["192.0.2.11", "2001:db8::b"],
         "c.example": ["2001:db8::c", "192.0.2.12"], "v4.example": ["192.0.2.4"], "v6.example": ["2001:db8::6"]}
MX = ["20 c.example.", "10 a.example.", "10 b.example.", "10 none.example."]


class GetAddrInfo:
    """The event loop's getaddrinfo() over HOSTS, remembering the family each lookup asked for."""

    def __init__(self, ignore_family: bool = False):
        self.asked: list[int] = []
        self.ignore_family = ignore_family

    async def __call__(self, host, port, *, family=0, type=0):
        self.asked.append(family)
        found = [a for a in HOSTS.get(host, []) if self.ignore_family or family in (0, self.family(a))]
        if not found:
            raise socket.gaierror(socket.EAI_NONAME, "Name or service not known")
        return [(self.family(a), socket.SOCK_STREAM, 6, "", (a, port)) for a in found]

    @staticmethod
    def family(address: str) -> int:
        return V6 if ":" in address else V4


@pytest.fixture
def zone(dns_server):
    """HOSTS and MX for example.test in the loopback DNS server."""
    for name, found in HOSTS.items():
        dns_server.zone.add(name, *(f"{'AAAA' if ':' in a else 'A'} {a}" for a in found))
    dns_server.zone.add("example.test", *(f"MX {mx}" for mx in MX))
    return dns_server


def addresses(nexthop, families, server=None, getaddrinfo=None) -> list[str]:
    """The addresses tried: from the DNS when a server is given, else from getaddrinfo (smtp_host_lookup = native)."""
    resolver = Resolver([(server.host, server.port)], timeout=5) if server else None
    lookup = HostLookup(resolver, ("dns",) if server else ("native",), families,
                        getaddrinfo=getaddrinfo or GetAddrInfo())
    found = asyncio.run(lookup.resolve(nexthop))
    return [address for _, address, _ in found.hosts]


@pytest.mark.parametrize("protocols, family", [(["ipv4"], V4), (["ipv6"], V6), (["ipv4", "ipv6"], 0)])
def test_getaddrinfo_is_asked_for_the_enabled_families_only(protocols, family):
    getaddrinfo = GetAddrInfo()
    addresses("[a.example]:25", AddressFamilies.from_settings(protocols), getaddrinfo=getaddrinfo)
    assert getaddrinfo.asked == [family]


@pytest.mark.parametrize("protocols, expected", [(["ipv4"], ["192.0.2.10"]), (["ipv6"], ["2001:db8::a"]),
                                                 (["ipv4", "ipv6"], ["2001:db8::a", "192.0.2.10"])])
def test_addresses_of_a_disabled_family_are_skipped_even_when_the_resolver_returns_them(protocols, expected):
    assert addresses("[a.example]", AddressFamilies.from_settings(protocols),
                     getaddrinfo=GetAddrInfo(ignore_family=True)) == expected


@pytest.mark.parametrize("source", ["dns", "native"])
def test_a_host_with_no_address_in_the_enabled_families_is_not_tried(zone, source):
    ipv4, server = AddressFamilies.from_settings(["ipv4"]), zone if source == "dns" else None
    assert addresses("[v6.example]", ipv4, server) == []
    assert addresses("[v4.example]", ipv4, server) == ["192.0.2.4"]


def groups(found: list[str], *sizes: int) -> list[set[str]]:
    """The addresses cut into consecutive groups whose inner order is left open (equal MX preferences are shuffled
    by Postfix: RFC 5321 5.1)."""
    cut, start = [], 0
    for size in sizes:
        cut.append(set(found[start:start + size]))
        start += size
    assert start == len(found)
    return cut


def test_any_keeps_the_lookup_order_within_a_host_a_records_first(zone):
    both = AddressFamilies.from_settings(["ipv4", "ipv6"], "any")
    assert addresses("[a.example]", both, zone) == ["192.0.2.10", "2001:db8::a"]
    found = addresses("example.test", both, zone)
    assert groups(found, 4, 2) == [{"192.0.2.10", "2001:db8::a", "192.0.2.11", "2001:db8::b"},
                                   {"192.0.2.12", "2001:db8::c"}]
    assert found.index("192.0.2.10") < found.index("2001:db8::a") and found[4:] == ["192.0.2.12", "2001:db8::c"]


@pytest.mark.parametrize("preference, expected", [
    ("ipv4", [{"192.0.2.10", "192.0.2.11"}, {"2001:db8::a", "2001:db8::b"}, {"192.0.2.12"}, {"2001:db8::c"}]),
    ("ipv6", [{"2001:db8::a", "2001:db8::b"}, {"192.0.2.10", "192.0.2.11"}, {"2001:db8::c"}, {"192.0.2.12"}]),
])
def test_the_preferred_family_comes_first_among_equal_mx_preferences_only(zone, preference, expected):
    found = addresses("example.test", AddressFamilies.from_settings(["ipv4", "ipv6"], preference), zone)
    assert groups(found, 2, 2, 1, 1) == expected


def test_a_preference_means_nothing_with_one_family_enabled(zone):
    found = addresses("example.test", AddressFamilies.from_settings(["ipv4"], "ipv6"), zone)
    assert groups(found, 2, 1) == [{"192.0.2.10", "192.0.2.11"}, {"192.0.2.12"}]


def test_only_the_enabled_families_are_asked_of_the_dns(zone):
    addresses("[a.example]", AddressFamilies.from_settings(["ipv6"]), zone)
    assert zone.queries == [("a.example", "AAAA", "udp")]


def test_all_is_ipv4_plus_ipv6_where_the_system_has_ipv6(monkeypatch):
    monkeypatch.setattr(routing, "ipv6_supported", lambda: True)
    assert AddressFamilies.from_settings(["all"]).families == (V4, V6)
    assert AddressFamilies.from_settings(["ipv6", "ipv4"]).families == (V4, V6)
    monkeypatch.setattr(routing, "ipv6_supported", lambda: False)
    assert AddressFamilies.from_settings(["all"]).families == (V4,)
    assert AddressFamilies.from_settings([]).families == ()


def test_the_defaults_are_postfixs():
    names = ["inet_protocols", "smtp_address_preference"]
    shown = subprocess.run(["postconf", "-d", *names], capture_output=True, text=True, check=True).stdout
    assert dict(line.split(" = ", 1) for line in shown.splitlines()) == \
        {name: CORE_PARAMETERS[name].default for name in names}
