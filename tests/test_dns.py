"""filterd's resolver against the loopback DNS server: each answer and failure classified as Postfix's dns_lookup()
classifies it, with its words."""

from __future__ import annotations

import asyncio
from pathlib import Path

import pytest

from filterd.dns import FAIL, NOTFOUND, NULLMX, OK, RETRY, Resolver
from filterd.parameters.dns import parse_dns_server

NOT_FOUND = "Host or domain name not found. Name service error for name={} type={}: {}"


def lookup(server, name: str, rdtype: str, timeout: float = 5.0):
    return asyncio.run(Resolver([(server.host, server.port)], timeout).lookup(name, rdtype))


def test_records_are_found(dns_server):
    dns_server.zone.add("example.test", "MX 10 mx.example.test.")
    found = lookup(dns_server, "example.test", "MX")
    assert (found.status, found.reason) == (OK, "")
    assert [(r.preference, r.exchange.to_text()) for r in found.records] == [(10, "mx.example.test.")]


@pytest.mark.parametrize("setup, status, h_errno", [
    ({}, NOTFOUND, "Host not found"),
    ({"example.test": ["A 192.0.2.1"]}, NOTFOUND, "Host found but no data record of requested type"),
])
def test_nxdomain_and_nodata_are_not_found(dns_server, setup, status, h_errno):
    for name, records in setup.items():
        dns_server.zone.add(name, *records)
    found = lookup(dns_server, "example.test", "MX")
    assert (found.status, found.reason) == (status, NOT_FOUND.format("example.test", "MX", h_errno))


@pytest.mark.parametrize("mode", ["servfail", "refused", "timeout"])
def test_servfail_refused_and_no_answer_are_temporary(dns_server, mode):
    dns_server.zone.add("example.test", "MX 10 mx.example.test.")
    dns_server.zone.fail("example.test", mode)
    found = lookup(dns_server, "example.test", "MX", timeout=1.0)
    assert (found.status, found.reason) == \
        (RETRY, NOT_FOUND.format("example.test", "MX", "Host not found, try again"))


def test_a_null_mx_is_a_domain_that_accepts_no_mail(dns_server):
    dns_server.zone.add("nomail.test", "MX 0 .")
    found = lookup(dns_server, "nomail.test", "MX")
    assert (found.status, found.records) == (NULLMX, ())
    assert found.reason == "Domain nomail.test does not accept mail (nullMX)"


def test_a_truncated_answer_is_asked_again_over_tcp(dns_server):
    dns_server.zone.add("big.test", "A 192.0.2.1", "A 192.0.2.2")
    dns_server.zone.fail("big.test", "truncate")
    found = lookup(dns_server, "big.test", "A")
    assert sorted(r.address for r in found.records) == ["192.0.2.1", "192.0.2.2"]
    assert dns_server.queries == [("big.test", "A", "udp"), ("big.test", "A", "tcp")]


def test_cnames_are_followed(dns_server):
    dns_server.zone.add("alias.test", "CNAME real.test.")
    dns_server.zone.add("real.test", "A 192.0.2.3")
    assert [r.address for r in lookup(dns_server, "alias.test", "A").records] == ["192.0.2.3"]


@pytest.mark.parametrize("name", ["192.0.2.1", "a..b", ""])
def test_an_address_or_malformed_name_is_not_asked(dns_server, name):
    found = lookup(dns_server, name, "A")
    assert (found.status, found.reason) == (NOTFOUND, f"Name service error for {name}: invalid host or domain name")
    assert dns_server.queries == []


def test_names_are_absolute_no_search_list(dns_server):
    lookup(dns_server, "host", "A")
    assert dns_server.queries == [("host", "A", "udp")]


def test_answers_are_cached_for_their_ttl(dns_server):
    dns_server.zone.add("cached.test", "300 A 192.0.2.5")
    dns_server.zone.add("fresh.test", "A 192.0.2.6")

    async def twice():
        resolver = Resolver([(dns_server.host, dns_server.port)])
        for name in ("cached.test", "cached.test", "fresh.test", "fresh.test"):
            assert (await resolver.lookup(name, "A")).status == OK

    asyncio.run(twice())
    assert [name for name, _, _ in dns_server.queries] == ["cached.test", "fresh.test", "fresh.test"]


def test_a_negative_answer_is_cached_no_longer_than_its_soa_says(dns_server):
    async def before_and_after():
        resolver = Resolver([(dns_server.host, dns_server.port)])
        assert (await resolver.lookup("new.test", "A")).status == NOTFOUND
        dns_server.zone.add("new.test", "A 192.0.2.8")
        assert (await resolver.lookup("new.test", "A")).status == OK

    asyncio.run(before_and_after())


@pytest.mark.parametrize("a, aaaa, status, reason_type", [
    ("A 192.0.2.1", None, OK, None),
    (None, None, NOTFOUND, "AAAA"),
    ("servfail", None, RETRY, "A"),
    (None, "servfail", RETRY, "AAAA"),
])
def test_several_types_report_the_best_status_as_postfixs_dns_lookup_v(dns_server, a, aaaa, status, reason_type):
    dns_server.zone.add("example.test", "TXT x")
    for rdtype, setting in (("A", a), ("AAAA", aaaa)):
        if setting == "servfail":
            dns_server.zone.fail("example.test", "servfail", rdtype)
        elif setting:
            dns_server.zone.add("example.test", setting)
    found = asyncio.run(Resolver([(dns_server.host, dns_server.port)]).lookup_types("example.test", ["A", "AAAA"]))
    assert found.status == status
    assert (f"type={reason_type}:" in found.reason) if reason_type else found.reason == ""


def test_without_servers_the_system_resolver_configuration_is_read():
    lines = Path("/etc/resolv.conf").read_text().splitlines()
    named = [f"{line.split()[1]}:53" for line in lines if line.startswith("nameserver")]
    assert Resolver().nameservers == (named or ["127.0.0.1:53"])


@pytest.mark.parametrize("text, expected", [("127.0.0.1", ("127.0.0.1", 53)), ("127.0.0.1:5353", ("127.0.0.1", 5353)),
                                            ("[::1]:5353", ("::1", 5353)), ("[::1]", ("::1", 53)),
                                            ("::1", ("::1", 53))])
def test_dns_servers_are_host_or_host_port(text, expected):
    assert parse_dns_server(text) == expected


@pytest.mark.parametrize("text", ["127.0.0.1:", "127.0.0.1:0", "127.0.0.1:x", "[::1", "[::1]x", ":53"])
def test_malformed_dns_servers_are_refused(text):
    with pytest.raises(ValueError, match=text.replace("[", r"\[")):
        parse_dns_server(text)


def test_an_answer_the_c_library_takes_as_final_is_a_non_recoverable_error(dns_server):
    dns_server.zone.fail("example.test", "formerr")
    found = lookup(dns_server, "example.test", "MX")
    assert (found.status, found.reason) == (FAIL, NOT_FOUND.format("example.test", "MX", "Non-recoverable error"))
