"""Which addresses delivery tries, in which order: inet_protocols and smtp_address_preference, as Postfix's.

The MX answer and the host addresses come from a stand-in resolver and getaddrinfo, so /etc/hosts plays no part.
"""

import asyncio
import socket
import subprocess

import dns.rdata
import pytest

from filterd.parameters import CORE_PARAMETERS
from filterd.qmgr import routing
from filterd.qmgr.routing import AddressFamilies, resolve

V4, V6 = socket.AF_INET, socket.AF_INET6
HOSTS = {"a.example": ["2001:db8::a", "192.0.2.10"], "b.example": ["192.0.2.11", "2001:db8::b"],
         "c.example": ["2001:db8::c", "192.0.2.12"], "v4.example": ["192.0.2.4"], "v6.example": ["2001:db8::6"]}
MX = ["20 c.example.", "10 a.example.", "10 b.example.", "10 none.example."]


class Resolver:
    """dns.asyncresolver's resolve() for one MX answer."""

    async def resolve(self, domain, rdtype):
        return [dns.rdata.from_text("IN", "MX", text) for text in MX]


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


def addresses(nexthop, families, getaddrinfo=None) -> list[str]:
    hosts = asyncio.run(resolve(nexthop, True, Resolver(), families, getaddrinfo or GetAddrInfo()))
    return [address for _, address, _ in hosts]


@pytest.mark.parametrize("protocols, family", [(["ipv4"], V4), (["ipv6"], V6), (["ipv4", "ipv6"], 0)])
def test_getaddrinfo_is_asked_for_the_enabled_families_only(protocols, family):
    getaddrinfo = GetAddrInfo()
    addresses("[a.example]:25", AddressFamilies.from_settings(protocols), getaddrinfo)
    assert getaddrinfo.asked == [family]


@pytest.mark.parametrize("protocols, expected", [(["ipv4"], ["192.0.2.10"]), (["ipv6"], ["2001:db8::a"]),
                                                 (["ipv4", "ipv6"], ["2001:db8::a", "192.0.2.10"])])
def test_addresses_of_a_disabled_family_are_skipped_even_when_the_resolver_returns_them(protocols, expected):
    assert addresses("[a.example]", AddressFamilies.from_settings(protocols), GetAddrInfo(ignore_family=True)) == \
        expected


def test_a_host_with_no_address_in_the_enabled_families_is_not_tried():
    ipv4 = AddressFamilies.from_settings(["ipv4"])
    assert addresses("[v6.example]", ipv4) == []
    assert addresses("[v4.example]", ipv4) == ["192.0.2.4"]


def test_any_keeps_the_resolvers_order_within_an_mx_preference():
    both = AddressFamilies.from_settings(["ipv4", "ipv6"], "any")
    assert addresses("example.test", both) == ["2001:db8::a", "192.0.2.10", "192.0.2.11", "2001:db8::b",
                                               "2001:db8::c", "192.0.2.12"]


@pytest.mark.parametrize("preference, expected", [
    ("ipv4", ["192.0.2.10", "192.0.2.11", "2001:db8::a", "2001:db8::b", "192.0.2.12", "2001:db8::c"]),
    ("ipv6", ["2001:db8::a", "2001:db8::b", "192.0.2.10", "192.0.2.11", "2001:db8::c", "192.0.2.12"]),
])
def test_the_preferred_family_comes_first_among_equal_mx_preferences_only(preference, expected):
    assert addresses("example.test", AddressFamilies.from_settings(["ipv4", "ipv6"], preference)) == expected


def test_a_preference_means_nothing_with_one_family_enabled():
    assert addresses("example.test", AddressFamilies.from_settings(["ipv4"], "ipv6")) == \
        ["192.0.2.10", "192.0.2.11", "192.0.2.12"]


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
