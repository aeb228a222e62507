"""Restrictions on the HELO name: syntax and access tables."""

from __future__ import annotations

import pytest

from .checks import settings, verdict_at_rcpt

HELO = settings(smtpd_helo_restrictions="reject_invalid_helo_hostname, reject_non_fqdn_helo_hostname")


@pytest.mark.parametrize("name", ["mx.example.com", "mx.example.com.", "[192.0.2.1]", "[IPv6:2001:db8::1]", ""])
def test_good_names_pass(name):
    assert verdict_at_rcpt(HELO, helo=name) is None


@pytest.mark.parametrize(("name", "reply"), [
    ("bad_name!", (501, "5.5.2", "<bad_name!>: Helo command rejected: Invalid name")),
    ("[192.0.2.300]", (501, "5.5.2", "<[192.0.2.300]>: Helo command rejected: invalid ip address")),
    ("localhost", (504, "5.5.2", "<localhost>: Helo command rejected: need fully-qualified hostname")),
])
def test_bad_names_are_refused(name, reply):
    assert verdict_at_rcpt(HELO, helo=name).reply() == reply


def test_check_helo_access_looks_up_parent_domains():
    access = settings(smtpd_helo_restrictions="check_helo_access inline:{ example.com=REJECT }")
    assert verdict_at_rcpt(access, helo="mx.example.com").text == \
        "<mx.example.com>: Helo command rejected: Access denied"
    assert verdict_at_rcpt(access, helo="mx.example.org") is None


def unknown_helo(dns_server, **codes: str):
    return settings(smtpd_helo_restrictions="reject_unknown_helo_hostname", filterd_dns_servers=dns_server.address,
                    filterd_dns_timeout="1s", **codes)


def test_a_helo_name_with_an_address_or_mx_record_passes(dns_server):
    dns_server.zone.add("a.example", "A 192.0.2.1")
    dns_server.zone.add("six.example", "AAAA 2001:db8::1")
    dns_server.zone.add("mx.example", "MX 10 a.example.")
    dns_server.zone.add("nullmx.example", "MX 0 .")
    for name in ("a.example", "six.example", "mx.example", "nullmx.example", "[192.0.2.1]", "[IPv6:2001:db8::1]"):
        assert verdict_at_rcpt(unknown_helo(dns_server), helo=name) is None, name


def test_a_helo_name_without_records_is_refused_with_unknown_hostname_reject_code(dns_server):
    assert verdict_at_rcpt(unknown_helo(dns_server), helo="nx.example").reply() == \
        (450, "4.7.1", "<nx.example>: Helo command rejected: Host not found")
    assert verdict_at_rcpt(unknown_helo(dns_server, unknown_hostname_reject_code="550"), helo="nx.example").reply() \
        == (550, "5.7.1", "<nx.example>: Helo command rejected: Host not found")


def test_an_invalid_helo_name_is_not_asked_for_and_an_invalid_literal_is_refused(dns_server):
    for name in ("bad_name!", "trailing.dot.example.", "192.0.2.1"):
        assert verdict_at_rcpt(unknown_helo(dns_server), helo=name).text == \
            f"<{name}>: Helo command rejected: Host not found"
    assert not any(query[0].startswith(("bad", "trailing", "192")) for query in dns_server.queries)
    assert verdict_at_rcpt(unknown_helo(dns_server), helo="[300.1.1.1]").reply() == \
        (501, "5.5.2", "<[300.1.1.1]>: Helo command rejected: invalid ip address")


def test_a_temporary_failure_defers_only_if_nothing_rejects(dns_server):
    dns_server.zone.fail("broken.example", "servfail")
    assert verdict_at_rcpt(unknown_helo(dns_server), helo="broken.example").reply() == \
        (450, "4.7.1", "<broken.example>: Helo command rejected: Host not found")
    strict = settings(smtpd_helo_restrictions="reject_unknown_helo_hostname, reject",
                      filterd_dns_servers=dns_server.address, filterd_dns_timeout="1s")
    assert verdict_at_rcpt(strict, helo="broken.example").text == \
        "<broken.example>: Helo command rejected: Access denied"


def test_reject_rhsbl_helo(dns_server):
    dns_server.zone.add("spam.test.rhsbl.test", "A 127.0.0.2")
    blocking = settings(smtpd_helo_restrictions="reject_rhsbl_helo rhsbl.test", filterd_dns_servers=dns_server.address)
    assert verdict_at_rcpt(blocking, helo="spam.test").reply() == (
        554, "5.7.1", "Service unavailable; Helo command [spam.test] blocked using rhsbl.test")
    for name in ("clean.test", "[192.0.2.1]", ""):
        assert verdict_at_rcpt(blocking, helo=name) is None


def test_unknown_helo_hostname_tempfail_action_defer_defers_at_once(dns_server):
    dns_server.zone.fail("broken.example", "servfail")
    for setting in ({"unknown_helo_hostname_tempfail_action": "defer"}, {"reject_tempfail_action": "defer"}):
        at_once = settings(smtpd_helo_restrictions="reject_unknown_helo_hostname, reject",
                           filterd_dns_servers=dns_server.address, filterd_dns_timeout="1s", **setting)
        assert verdict_at_rcpt(at_once, helo="broken.example").reply() == \
            (450, "4.7.1", "<broken.example>: Helo command rejected: Host not found")


def test_a_tempfail_action_is_defer_or_defer_if_permit():
    with pytest.raises(Exception, match='unknown_helo_hostname_tempfail_action.*bad value "reject"'):
        settings(unknown_helo_hostname_tempfail_action="reject")
