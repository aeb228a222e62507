"""Restrictions on the client: mynetworks, SASL, access tables, DNS blocklists (from the loopback DNS server)."""

from __future__ import annotations

from filterd.policies.restrictions.dnsbl import reversed_address
from filterd.verdict import Action

from .checks import settings, verdict_at_rcpt


def test_permit_mynetworks_and_permit_sasl_authenticated():
    permits = settings(smtpd_client_restrictions="permit_mynetworks, permit_sasl_authenticated, reject",
                       smtpd_relay_restrictions="reject_unauth_destination")
    assert verdict_at_rcpt(permits, client="192.0.2.9") is None
    assert verdict_at_rcpt(permits, sasl_username="alice") is None
    assert verdict_at_rcpt(permits).action is Action.REJECT


def test_reversed_addresses():
    assert reversed_address("192.0.2.1") == "1.2.0.192"
    assert reversed_address("2001:db8::1") == "1." + "0." * 23 + "8.b.d.0.1.0.0.2"
    assert reversed_address("unknown") is None


def rbl(dns_server, zone: str = "bl.test"):
    return settings(smtpd_client_restrictions=f"reject_rbl_client {zone}", filterd_dns_servers=dns_server.address,
                    filterd_dns_timeout="2s")


def test_a_listed_client_is_refused_with_the_txt_reason(dns_server):
    dns_server.zone.add("1.100.51.198.bl.test", "A 127.0.0.2", 'TXT "listed for spam"')
    refused = verdict_at_rcpt(rbl(dns_server))
    assert refused.reply() == (554, "5.7.1", "Service unavailable; Client host [198.51.100.1] blocked using "
                                             "bl.test; listed for spam")
    assert verdict_at_rcpt(rbl(dns_server), client="198.51.100.2") is None


def test_a_listing_without_txt_and_the_answer_filter(dns_server):
    dns_server.zone.add("1.100.51.198.bl.test", "A 127.0.0.4")
    assert verdict_at_rcpt(rbl(dns_server)).text == "Service unavailable; Client host [198.51.100.1] blocked " \
                                                    "using bl.test"
    assert verdict_at_rcpt(rbl(dns_server, "bl.test=127.0.0.2")) is None
    assert verdict_at_rcpt(rbl(dns_server, "bl.test=127.0.0.4")).action is Action.REJECT


def test_a_failing_blocklist_lists_nobody(dns_server):
    dns_server.zone.fail("1.100.51.198.bl.test", "servfail")
    assert verdict_at_rcpt(rbl(dns_server)) is None
