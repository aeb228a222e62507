"""Restrictions on the client: mynetworks, SASL, access tables, DNS blocklists (from the loopback DNS server)."""

from __future__ import annotations

import pytest

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


UNKNOWN = settings(smtpd_client_restrictions="reject_unknown_client_hostname")
UNKNOWN_REVERSE = settings(smtpd_client_restrictions="reject_unknown_reverse_client_hostname")


@pytest.mark.parametrize(("names", "hostname", "reverse"), [
    ({"client_name": "mx.example", "client_name_status": "OK", "reverse_client_name": "mx.example",
      "reverse_client_name_status": "OK"}, None, None),
    ({"client_name": "unknown", "client_name_status": "FORGED", "reverse_client_name": "mx.example",
      "reverse_client_name_status": "OK"}, 450, None),
    ({"client_name": "unknown", "client_name_status": "TEMP", "reverse_client_name": "mx.example",
      "reverse_client_name_status": "OK"}, 450, None),
    ({"client_name_status": "FAIL", "reverse_client_name_status": "FAIL"}, 450, 450),
    ({"client_name_status": "TEMP", "reverse_client_name_status": "TEMP"}, 450, 450),
    ({"client_name": "mx.example"}, None, None),
    ({}, 450, 450),
])
def test_unknown_client_hostnames_are_refused(names, hostname, reverse):
    found = verdict_at_rcpt(UNKNOWN, **names)
    assert (found and found.reply()) == (hostname and (hostname, "4.7.25", "Client host rejected: cannot find your "
                                                                           "hostname, [198.51.100.1]"))
    found = verdict_at_rcpt(UNKNOWN_REVERSE, **names)
    assert (found and found.reply()) == (reverse and (reverse, "4.7.1", "Client host rejected: cannot find your "
                                                                        "reverse hostname, [198.51.100.1]"))


def test_unknown_client_reject_code_is_for_a_permanent_failure_only():
    strict = settings(smtpd_client_restrictions="reject_unknown_client_hostname, "
                                                "reject_unknown_reverse_client_hostname",
                      unknown_client_reject_code="550")
    assert verdict_at_rcpt(strict, client_name_status="FORGED", reverse_client_name="mx.example").reply()[:2] == \
        (550, "5.7.25")
    assert verdict_at_rcpt(strict, client_name_status="TEMP", reverse_client_name="mx.example").reply()[:2] == \
        (450, "4.7.25")
    assert verdict_at_rcpt(strict, client_name="mx.example", reverse_client_name_status="FAIL").reply()[:2] == \
        (550, "5.7.1")
    assert verdict_at_rcpt(settings(smtpd_client_restrictions="reject_unknown_client"), client_name="mx.example") \
        is None


def test_permit_inet_interfaces_permits_filterd_s_own_addresses():
    own = settings(smtpd_client_restrictions="permit_inet_interfaces, reject", inet_interfaces="192.0.2.25")
    assert verdict_at_rcpt(own, client="192.0.2.25") is None
    assert verdict_at_rcpt(own, client="192.0.2.26").action is Action.REJECT
    loopback = settings(smtpd_client_restrictions="permit_inet_interfaces, reject", inet_interfaces="loopback-only")
    assert verdict_at_rcpt(loopback, client="127.0.0.1") is None
    assert verdict_at_rcpt(loopback, client="::1") is None
    assert verdict_at_rcpt(loopback, client="127.0.0.2").action is Action.REJECT


def rhsbl(dns_server, restriction: str):
    dns_server.zone.add("forged.test.rhsbl.test", "A 127.0.0.2", 'TXT "name listed"')
    return settings(smtpd_client_restrictions=f"{restriction} rhsbl.test", filterd_dns_servers=dns_server.address)


def test_reject_rhsbl_client_asks_about_the_confirmed_name_only(dns_server):
    blocking = rhsbl(dns_server, "reject_rhsbl_client")
    assert verdict_at_rcpt(blocking, client_name="forged.test").reply() == (
        554, "5.7.1", "Service unavailable; Client host [forged.test] blocked using rhsbl.test; name listed")
    assert verdict_at_rcpt(blocking, client_name="unknown", reverse_client_name="forged.test") is None
    assert verdict_at_rcpt(blocking, client_name="clean.test") is None


def test_reject_rhsbl_reverse_client_asks_about_the_unverified_name(dns_server):
    blocking = rhsbl(dns_server, "reject_rhsbl_reverse_client")
    assert verdict_at_rcpt(blocking, client_name="unknown", reverse_client_name="forged.test").reply() == (
        554, "5.7.1", "Service unavailable; Unverified Client host [forged.test] blocked using rhsbl.test; name listed")
    assert verdict_at_rcpt(blocking, client_name="forged.test").action is Action.REJECT
    assert verdict_at_rcpt(blocking) is None


def test_check_reverse_client_hostname_access_looks_up_the_unverified_name_and_the_address():
    access = settings(smtpd_client_restrictions="check_reverse_client_hostname_access inline:{ "
                                                "forged.test=REJECT, {198.51.100=DEFER Try later}, good.test=OK }")
    assert verdict_at_rcpt(access, client="192.0.2.99", reverse_client_name="mx.forged.test").reply() == (
        554, "5.7.1", "<mx.forged.test>: Unverified Client host rejected: Access denied")
    assert verdict_at_rcpt(access, client_name="unknown").reply() == (
        450, "4.7.1", "<unknown>: Unverified Client host rejected: Try later")
    assert verdict_at_rcpt(access, client="192.0.2.99", reverse_client_name="good.test").reply() == (
        451, "4.3.5", "Server configuration error")


def test_reject_plaintext_session_refuses_until_the_session_is_encrypted():
    plaintext = settings(smtpd_client_restrictions="reject_plaintext_session")
    assert verdict_at_rcpt(plaintext).reply() == (450, "4.7.1", "Session encryption is required")
    assert verdict_at_rcpt(plaintext, tls=True) is None
    assert verdict_at_rcpt(settings(smtpd_client_restrictions="reject_plaintext_session",
                                    plaintext_reject_code="554")).reply()[:2] == (554, "5.7.1")
