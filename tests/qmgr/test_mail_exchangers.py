"""Next hops into addresses against the loopback DNS server: each DNS outcome deferred or bounced with the status
and text of Postfix's smtp_addr.c (postfix/src/smtp/smtp_addr.c, src/dns/dns_lookup.c)."""

from __future__ import annotations

import asyncio
import socket

import pytest

from filterd.dns import Resolver
from filterd.qmgr.mail_exchangers import HostLookup
from filterd.qmgr.routing import AddressFamilies

IPV4 = AddressFamilies.from_settings(["ipv4"])
BOTH = AddressFamilies.from_settings(["ipv4", "ipv6"])
NOT_FOUND = "Host or domain name not found. Name service error for name={} type={}: {}"


def resolve(server, nexthop: str, families: AddressFamilies = IPV4, **settings):
    lookup = HostLookup(Resolver([(server.host, server.port)], timeout=1.0), families=families, **settings)
    return asyncio.run(lookup.resolve(nexthop))


def outcome(found) -> tuple[str, str]:
    assert found.hosts == []
    return found.why.status, found.why.reason


@pytest.mark.parametrize("mode", ["servfail", "refused", "timeout"])
def test_a_temporary_mx_failure_defers_and_never_falls_back_to_the_address(dns_server, mode):
    dns_server.zone.add("example.test", "A 192.0.2.1")
    dns_server.zone.fail("example.test", mode, "MX")
    assert outcome(resolve(dns_server, "example.test")) == \
        ("4.4.3", NOT_FOUND.format("example.test", "MX", "Host not found, try again"))
    assert {rdtype for _, rdtype, _ in dns_server.queries} == {"MX"}


def test_ignore_mx_lookup_error_uses_the_address_after_all(dns_server):
    dns_server.zone.add("example.test", "A 192.0.2.1")
    dns_server.zone.fail("example.test", "servfail", "MX")
    assert resolve(dns_server, "example.test:2525", ignore_mx_lookup_error=True).hosts == \
        [("example.test", "192.0.2.1", 2525)]


@pytest.mark.parametrize("families, rdtype", [(IPV4, "A"), (BOTH, "AAAA")])
def test_a_domain_that_does_not_exist_bounces(dns_server, families, rdtype):
    assert outcome(resolve(dns_server, "nowhere.test", families)) == \
        ("5.4.4", NOT_FOUND.format("nowhere.test", rdtype, "Host not found"))
    assert [rdtype for _, rdtype, _ in dns_server.queries] == ["MX", "A", "AAAA"][:len(families.families) + 1]


def test_a_null_mx_bounces_without_looking_at_the_address(dns_server):
    dns_server.zone.add("nomail.test", "MX 0 .", "A 192.0.2.1")
    assert outcome(resolve(dns_server, "nomail.test")) == ("5.1.0", "Domain nomail.test does not accept mail (nullMX)")
    assert [rdtype for _, rdtype, _ in dns_server.queries] == ["MX"]


def test_a_domain_with_no_mx_record_is_its_own_mail_exchanger(dns_server):
    dns_server.zone.add("plain.test", "A 192.0.2.1", "TXT spf")
    assert resolve(dns_server, "plain.test:2525").hosts == [("plain.test", "192.0.2.1", 2525)]


def test_a_domain_with_neither_mx_nor_address_bounces(dns_server):
    dns_server.zone.add("text.test", "TXT only")
    assert outcome(resolve(dns_server, "text.test")) == \
        ("5.4.4", NOT_FOUND.format("text.test", "A", "Host found but no data record of requested type"))


def test_a_non_recoverable_mx_error_bounces(dns_server):
    dns_server.zone.fail("broken.test", "formerr", "MX")
    assert outcome(resolve(dns_server, "broken.test")) == \
        ("5.4.3", NOT_FOUND.format("broken.test", "MX", "Non-recoverable error"))


def test_mx_hosts_come_in_preference_order(dns_server):
    dns_server.zone.add("example.test", "MX 30 c.example.test.", "MX 10 a.example.test.", "MX 20 b.example.test.")
    for host, address in (("a", "192.0.2.1"), ("b", "192.0.2.2"), ("c", "192.0.2.3")):
        dns_server.zone.add(f"{host}.example.test", f"A {address}")
    assert resolve(dns_server, "example.test").hosts == [
        ("a.example.test", "192.0.2.1", 25), ("b.example.test", "192.0.2.2", 25), ("c.example.test", "192.0.2.3", 25)]


@pytest.mark.parametrize("mode", ["nxdomain", "servfail"])
def test_an_mx_host_without_address_is_skipped_while_another_has_one(dns_server, mode):
    dns_server.zone.add("example.test", "MX 10 gone.example.test.", "MX 20 backup.example.test.")
    dns_server.zone.add("backup.example.test", "A 192.0.2.2")
    dns_server.zone.fail("gone.example.test", mode)
    assert resolve(dns_server, "example.test").hosts == [("backup.example.test", "192.0.2.2", 25)]


def test_mx_hosts_that_do_not_exist_bounce_with_a_warning(dns_server, filterd_log):
    dns_server.zone.add("example.test", "MX 10 a.example.test.", "MX 20 b.example.test.")
    assert outcome(resolve(dns_server, "example.test")) == \
        ("5.4.4", NOT_FOUND.format("b.example.test", "A", "Host not found"))
    assert "no MX host for example.test has a valid address record" in filterd_log.messages


def test_smtp_defer_if_no_mx_address_found_defers_them_instead(dns_server):
    dns_server.zone.add("example.test", "MX 10 a.example.test.")
    assert outcome(resolve(dns_server, "example.test", defer_if_no_mx_address=True)) == \
        ("4.4.4", NOT_FOUND.format("a.example.test", "A", "Host not found"))


@pytest.mark.parametrize("first, second, status", [("servfail", "nxdomain", "4.4.4"),
                                                   ("nxdomain", "servfail", "4.4.3"), ("timeout", "nxdomain", "4.4.4")])
def test_one_temporary_mx_host_failure_makes_the_whole_answer_temporary(dns_server, first, second, status):
    """The status stays soft once soft; the text is the last failed lookup's, as in smtp_addr_one()."""
    dns_server.zone.add("example.test", "MX 10 a.example.test.", "MX 20 b.example.test.")
    dns_server.zone.fail("a.example.test", first)
    dns_server.zone.fail("b.example.test", second)
    words = "Host not found" if second == "nxdomain" else "Host not found, try again"
    assert outcome(resolve(dns_server, "example.test")) == (status, NOT_FOUND.format("b.example.test", "A", words))


def test_a_bracketed_next_hop_is_a_host_not_a_domain(dns_server):
    dns_server.zone.add("mx.test", "MX 10 other.test.", "A 192.0.2.7")
    assert resolve(dns_server, "[mx.test]:2525").hosts == [("mx.test", "192.0.2.7", 2525)]
    assert resolve(dns_server, "[192.0.2.9]").hosts == [("192.0.2.9", "192.0.2.9", 25)]
    assert [rdtype for _, rdtype, _ in dns_server.queries] == ["A"]


def test_a_host_lookup_failure_of_a_bracketed_next_hop(dns_server):
    dns_server.zone.fail("slow.test", "servfail")
    assert outcome(resolve(dns_server, "[slow.test]")) == \
        ("4.4.3", NOT_FOUND.format("slow.test", "A", "Host not found, try again"))
    assert outcome(resolve(dns_server, "[gone.test]")) == \
        ("5.4.4", NOT_FOUND.format("gone.test", "A", "Host not found"))


class GetAddrInfo:
    """The event loop's getaddrinfo() for `native.test` alone, failing others with `error`."""

    def __init__(self, error: int = socket.EAI_NONAME):
        self.error = error

    async def __call__(self, host, port, *, family=0, type=0):
        if host == "native.test":
            return [(socket.AF_INET, socket.SOCK_STREAM, 6, "", ("192.0.2.50", port))]
        raise socket.gaierror(self.error, {socket.EAI_NONAME: "Name or service not known"}.get(
            self.error, "Temporary failure in name resolution"))


def test_dns_then_native_looks_up_hosts_the_dns_does_not_know(dns_server):
    found = resolve(dns_server, "[native.test]", host_lookup=("dns", "native"), getaddrinfo=GetAddrInfo())
    assert found.hosts == [("native.test", "192.0.2.50", 25)]
    assert outcome(resolve(dns_server, "[native.test]", getaddrinfo=GetAddrInfo())) == \
        ("5.4.4", NOT_FOUND.format("native.test", "A", "Host not found"))


def test_a_temporary_dns_failure_is_not_passed_to_native(dns_server):
    dns_server.zone.fail("native.test", "servfail")
    found = resolve(dns_server, "[native.test]", host_lookup=("dns", "native"), getaddrinfo=GetAddrInfo())
    assert outcome(found) == ("4.4.3", NOT_FOUND.format("native.test", "A", "Host not found, try again"))


@pytest.mark.parametrize("error, status", [(socket.EAI_NONAME, "5.4.4"), (socket.EAI_AGAIN, "4.4.4")])
def test_native_failures_in_postfixs_words(error, status):
    lookup = HostLookup(None, families=IPV4, getaddrinfo=GetAddrInfo(error))
    found = asyncio.run(lookup.resolve("elsewhere.test"))
    words = "Name or service not known" if error == socket.EAI_NONAME else "Temporary failure in name resolution"
    assert outcome(found) == (status, f"unable to look up host elsewhere.test: {words}")


def test_without_dns_there_is_no_mx_lookup(dns_server):
    lookup = HostLookup(None, families=IPV4, getaddrinfo=GetAddrInfo())
    assert asyncio.run(lookup.resolve("native.test:2525")).hosts == [("native.test", "192.0.2.50", 2525)]
    assert dns_server.queries == []


OWN = frozenset({"192.0.2.9", "::1"})


def test_mx_hosts_from_this_system_s_preference_on_are_dropped(dns_server):
    """smtp_find_self and smtp_truncate_self: a backup MX sends only to the better ones."""
    dns_server.zone.add("example.test", "MX 10 a.example.test.", "MX 20 me.example.test.", "MX 20 b.example.test.",
                        "MX 30 c.example.test.")
    for host, address in (("a", "192.0.2.1"), ("me", "192.0.2.9"), ("b", "192.0.2.2"), ("c", "192.0.2.3")):
        dns_server.zone.add(f"{host}.example.test", f"A {address}")
    found = resolve(dns_server, "example.test", own_addresses=OWN)
    assert found.hosts == [("a.example.test", "192.0.2.1", 25)] and found.myself


def test_mail_for_a_domain_whose_best_mx_is_this_system_loops_back(dns_server, filterd_log):
    dns_server.zone.add("example.test", "MX 10 me.example.test.", "MX 20 b.example.test.")
    dns_server.zone.add("me.example.test", "A 192.0.2.9")
    dns_server.zone.add("b.example.test", "A 192.0.2.2")
    assert outcome(resolve(dns_server, "example.test", own_addresses=OWN)) == (
        "5.4.6", "mail for example.test loops back to myself")
    assert "no MX host" not in filterd_log.text


def test_without_the_primary_mx_a_backup_mx_cannot_relay(dns_server):
    dns_server.zone.add("example.test", "MX 10 gone.example.test.", "MX 20 me.example.test.")
    dns_server.zone.add("me.example.test", "A 192.0.2.9")
    assert outcome(resolve(dns_server, "example.test", own_addresses=OWN)) == (
        "4.4.4", "unable to find primary relay for example.test")


def test_a_host_that_is_this_system_loops_back_on_port_25_only(dns_server):
    dns_server.zone.add("self.example.test", "A 192.0.2.9")
    assert outcome(resolve(dns_server, "[192.0.2.9]", own_addresses=OWN)) == (
        "5.4.6", "mail for 192.0.2.9 loops back to myself")
    assert outcome(resolve(dns_server, "self.example.test", own_addresses=OWN)) == (
        "5.4.6", "mail for self.example.test loops back to myself")
    assert resolve(dns_server, "[192.0.2.9]:2525", own_addresses=OWN).hosts == [("192.0.2.9", "192.0.2.9", 2525)]
