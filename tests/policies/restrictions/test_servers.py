"""check_*_{a,mx,ns}_access: the table asked about a name's servers, by name and then by address."""

from __future__ import annotations

from filterd.verdict import Action

from .checks import settings, verdict_at_rcpt

TABLE = "inline:{ {mx.example.test=REJECT by name}, {192.0.2.7=REJECT by address}, {192.0.2.8=OK}, {192.0.2.9=DUNNO} }"


def servers(dns_server, restriction: str, restrictions: str = "smtpd_sender_restrictions"):
    return settings(**{restrictions: f"{restriction} {TABLE}"}, filterd_dns_servers=dns_server.address,
                    filterd_dns_timeout="2s", inet_protocols="ipv4")


def test_mx_hosts_by_name_then_by_address_and_the_domain_itself_without_mx(dns_server):
    dns_server.zone.add("named.test", "MX 10 mx.example.test.")
    dns_server.zone.add("addressed.test", "MX 10 mail.addressed.test.", "MX 20 other.addressed.test.")
    dns_server.zone.add("other.addressed.test", "A 192.0.2.7")
    dns_server.zone.add("bare.test", "A 192.0.2.7")
    mx = servers(dns_server, "check_sender_mx_access")
    assert verdict_at_rcpt(mx, sender="a@named.test").text == "<a@named.test>: Sender address rejected: by name"
    assert verdict_at_rcpt(mx, sender="a@addressed.test").text == "<a@addressed.test>: Sender address rejected: by " \
                                                                   "address"
    assert verdict_at_rcpt(mx, sender="a@bare.test").action is Action.REJECT
    assert verdict_at_rcpt(mx, sender="a@nx.test") is None
    assert verdict_at_rcpt(mx, sender="") is None


def test_a_looks_at_addresses_only_and_an_ok_is_a_configuration_error(dns_server):
    dns_server.zone.add("mx.example.test", "A 192.0.2.9")
    dns_server.zone.add("trusted.test", "A 192.0.2.8")
    a = servers(dns_server, "check_helo_a_access", "smtpd_helo_restrictions")
    assert verdict_at_rcpt(a, helo="mx.example.test") is None
    assert verdict_at_rcpt(a, helo="trusted.test").reply() == (451, "4.3.5", "Server configuration error")
    assert verdict_at_rcpt(a, helo="[192.0.2.7]").text == "<[192.0.2.7]>: Helo command rejected: by address"


def test_ns_hosts_come_from_the_nearest_parent_that_has_some(dns_server):
    dns_server.zone.add("zone.test", "NS mx.example.test.")
    dns_server.zone.add("host.zone.test", "A 192.0.2.1")
    ns = servers(dns_server, "check_sender_ns_access")
    assert verdict_at_rcpt(ns, sender="a@host.zone.test").text == "<a@host.zone.test>: Sender address rejected: by " \
                                                                   "name"
    assert verdict_at_rcpt(ns, sender="a@[192.0.2.7]") is None
