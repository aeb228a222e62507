"""The loopback DNS server of the tests (tests/dns_server.py), queried with dnspython over real sockets."""

from __future__ import annotations

import json
import subprocess
import sys

import dns.flags
import dns.message
import dns.query
import dns.rcode
import dns.rdatatype
import pytest

from tests.dns_server import DnsServer, Zone


def ask(server: DnsServer, name: str, rdtype: str, tcp: bool = False, timeout: float = 2.0) -> dns.message.Message:
    query = dns.message.make_query(name, rdtype)
    send = dns.query.tcp if tcp else dns.query.udp
    return send(query, server.host, timeout=timeout, port=server.port)


def texts(response: dns.message.Message) -> list[str]:
    return sorted(rdata.to_text() for rrset in response.answer for rdata in rrset)


def test_records_are_served_over_udp_and_tcp(dns_server):
    dns_server.zone.add("example.test", "MX 20 b.example.test.", "MX 10 a.example.test.", "A 192.0.2.1")
    for tcp in (False, True):
        response = ask(dns_server, "example.test", "MX", tcp)
        assert response.rcode() == dns.rcode.NOERROR and response.flags & dns.flags.AA
        assert texts(response) == ["10 a.example.test.", "20 b.example.test."]
    assert dns_server.queries == [("example.test", "MX", "udp"), ("example.test", "MX", "tcp")]


def test_a_name_without_the_type_is_nodata_and_an_unknown_name_nxdomain(dns_server):
    dns_server.zone.add("a.example.test", "A 192.0.2.1")
    nodata = ask(dns_server, "a.example.test", "MX")
    assert (nodata.rcode(), nodata.answer) == (dns.rcode.NOERROR, [])
    assert ask(dns_server, "b.example.test", "A").rcode() == dns.rcode.NXDOMAIN
    assert ask(dns_server, "example.test", "A").rcode() == dns.rcode.NOERROR, "an empty non-terminal exists"


@pytest.mark.parametrize("name", ["a.example.test", "b.example.test", "failed.test"])
def test_negative_answers_carry_an_soa_that_keeps_them_out_of_caches(dns_server, name):
    dns_server.zone.add("a.example.test", "A 192.0.2.1")
    dns_server.zone.fail("failed.test", "nxdomain")
    soa = ask(dns_server, name, "MX").authority[0]
    assert soa.rdtype == dns.rdatatype.SOA and soa.ttl == 0 and soa[0].minimum == 0


def test_cnames_are_followed_inside_the_zone(dns_server):
    dns_server.zone.add("alias.test", "CNAME mail.test.")
    dns_server.zone.add("mail.test", "300 A 192.0.2.7")
    response = ask(dns_server, "alias.test", "A")
    assert texts(response) == ["192.0.2.7", "mail.test."]
    assert response.answer[1].ttl == 300


@pytest.mark.parametrize("mode, rcode", [("servfail", dns.rcode.SERVFAIL), ("refused", dns.rcode.REFUSED),
                                         ("nxdomain", dns.rcode.NXDOMAIN), ("formerr", dns.rcode.FORMERR)])
def test_failure_modes_answer_with_their_rcode(dns_server, mode, rcode):
    dns_server.zone.add("broken.test", "MX 10 mx.broken.test.")
    dns_server.zone.fail("broken.test", mode)
    assert ask(dns_server, "broken.test", "MX").rcode() == rcode


def test_a_failure_can_be_for_one_type_only(dns_server):
    dns_server.zone.add("half.test", "A 192.0.2.1", "AAAA 2001:db8::1")
    dns_server.zone.fail("half.test", "servfail", "AAAA")
    assert ask(dns_server, "half.test", "AAAA").rcode() == dns.rcode.SERVFAIL
    assert texts(ask(dns_server, "half.test", "A")) == ["192.0.2.1"]


def test_timeout_never_answers(dns_server):
    dns_server.zone.fail("silent.test", "timeout")
    with pytest.raises(dns.exception.Timeout):
        ask(dns_server, "silent.test", "A", timeout=0.3)
    with pytest.raises(dns.exception.Timeout):
        ask(dns_server, "silent.test", "A", tcp=True, timeout=0.3)
    assert ask(dns_server, "other.test", "A").rcode() == dns.rcode.NXDOMAIN, "the server still serves others"


def test_truncate_sends_the_client_to_tcp_for_the_whole_answer(dns_server):
    dns_server.zone.add("big.test", *(f'TXT "{n}"' for n in range(3)))
    dns_server.zone.fail("big.test", "truncate")
    udp = ask(dns_server, "big.test", "TXT")
    assert udp.flags & dns.flags.TC and udp.answer == []
    assert texts(ask(dns_server, "big.test", "TXT", tcp=True)) == ['"0"', '"1"', '"2"']
    response, used_tcp = dns.query.udp_with_fallback(dns.message.make_query("big.test", "TXT"), dns_server.host,
                                                     timeout=2, port=dns_server.port)
    assert used_tcp and len(texts(response)) == 3


def test_remove_takes_records_and_failures_away(dns_server):
    dns_server.zone.add("gone.test", "A 192.0.2.1")
    dns_server.zone.fail("gone.test", "servfail")
    dns_server.zone.remove("gone.test")
    assert ask(dns_server, "gone.test", "A").rcode() == dns.rcode.NXDOMAIN


def test_an_unknown_failure_mode_is_refused():
    with pytest.raises(ValueError, match="unknown failure mode 'broken'"):
        Zone().fail("x.test", "broken")


def test_the_zone_and_failures_can_be_given_at_start():
    with DnsServer({"x.test": ["MX 0 ."]}, {"y.test MX": "servfail"}) as server:
        assert texts(ask(server, "x.test", "MX")) == ["0 ."]
        assert ask(server, "y.test", "MX").rcode() == dns.rcode.SERVFAIL
        assert ask(server, "y.test", "A").rcode() == dns.rcode.NXDOMAIN


def test_it_runs_on_its_own_from_a_json_zone_for_bench(tmp_path):
    zone = tmp_path / "zone.json"
    zone.write_text(json.dumps({"records": {"bench.test": ["A 192.0.2.9"]}, "failures": {"bad.test": "refused"}}))
    process = subprocess.Popen([sys.executable, "-m", "tests.dns_server", str(zone)], stdout=subprocess.PIPE,
                               text=True)
    try:
        host, _, port = process.stdout.readline().strip().partition(":")
        server = DnsServer(host=host, port=int(port))
        assert texts(ask(server, "bench.test", "A")) == ["192.0.2.9"]
        assert ask(server, "bad.test", "A").rcode() == dns.rcode.REFUSED
    finally:
        process.terminate()
        process.wait()
