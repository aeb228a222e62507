"""Restrictions on the sender: its form, whether its domain exists (from the loopback DNS server), a domain
blocklist."""

from __future__ import annotations

import pytest

from filterd.policies.restrictions.dnsbl import listed_domain
from filterd.verdict import Action

from .checks import settings, verdict_at_rcpt


@pytest.mark.parametrize(("sender", "refused"), [("", False), ("a@example.com", False), ("a@[192.0.2.1]", False),
                                                 ("a", True), ("a@localhost", True), ("a@-bad.example.com", True)])
def test_reject_non_fqdn_sender(sender, refused):
    found = verdict_at_rcpt(settings(smtpd_sender_restrictions="reject_non_fqdn_sender"), sender=sender)
    assert (found is not None) == refused
    if refused:
        assert found.reply() == (504, "5.5.2", f"<{sender}>: Sender address rejected: need fully-qualified address")


def unknown(dns_server):
    return settings(smtpd_sender_restrictions="reject_unknown_sender_domain", filterd_dns_servers=dns_server.address,
                    filterd_dns_timeout="2s")


def test_a_domain_with_mx_or_address_exists(dns_server):
    dns_server.zone.add("mx.test", "MX 10 mail.mx.test.")
    dns_server.zone.add("a.test", "A 192.0.2.1")
    dns_server.zone.add("aaaa.test", "AAAA 2001:db8::1")
    for domain in ("mx.test", "a.test", "aaaa.test"):
        assert verdict_at_rcpt(unknown(dns_server), sender=f"a@{domain}") is None


def test_a_domain_that_does_not_exist_is_refused(dns_server):
    assert verdict_at_rcpt(unknown(dns_server), sender="a@nx.test").reply() == (
        450, "4.1.8", "<a@nx.test>: Sender address rejected: Domain not found")
    assert verdict_at_rcpt(settings(smtpd_sender_restrictions="reject_unknown_sender_domain",
                                    filterd_dns_servers=dns_server.address, unknown_address_reject_code="550"),
                           sender="a@nx.test").reply()[:2] == (550, "5.1.8")


def test_a_null_mx_is_refused(dns_server):
    dns_server.zone.add("nullmx.test", "MX 0 .", "A 192.0.2.1")
    assert verdict_at_rcpt(unknown(dns_server), sender="a@nullmx.test").reply() == (
        550, "5.7.27", "<a@nullmx.test>: Sender address rejected: Domain nullmx.test does not accept mail (nullMX)")


def test_a_temporary_failure_defers_unless_something_rejects(dns_server):
    dns_server.zone.fail("broken.test", "servfail")
    deferred = verdict_at_rcpt(unknown(dns_server), sender="a@broken.test")
    assert (deferred.action, deferred.code) == (Action.DEFER, 450)
    assert verdict_at_rcpt(unknown(dns_server), sender="a@broken.test", recipient="b@example.net").code == 454


def test_with_unknown_address_tempfail_action_defer_a_temporary_failure_defers_at_once(dns_server):
    dns_server.zone.fail("broken.test", "servfail")
    at_once = settings(smtpd_sender_restrictions="reject_unknown_sender_domain", filterd_dns_servers=dns_server.address,
                       filterd_dns_timeout="2s", unknown_address_tempfail_action="defer")
    assert verdict_at_rcpt(at_once, sender="a@broken.test", recipient="b@example.net").reply() == (
        450, "4.1.8", "<a@broken.test>: Sender address rejected: Domain not found")


def test_local_and_null_senders_are_not_looked_up(dns_server):
    assert verdict_at_rcpt(unknown(dns_server), sender="a@local.example") is None
    assert verdict_at_rcpt(unknown(dns_server), sender="") is None


def test_reject_rhsbl_sender(dns_server):
    dns_server.zone.add("spam.test.rhsbl.test", "A 127.0.0.2", 'TXT "bad domain"')
    blocking = settings(smtpd_sender_restrictions="reject_rhsbl_sender rhsbl.test",
                        filterd_dns_servers=dns_server.address)
    assert verdict_at_rcpt(blocking, sender="a@spam.test").reply() == (
        554, "5.7.1", "Service unavailable; Sender address [a@spam.test] blocked using rhsbl.test; bad domain")
    assert verdict_at_rcpt(blocking, sender="a@clean.test") is None
    assert verdict_at_rcpt(blocking, sender="") is None


@pytest.mark.parametrize(("what", "domain"), [
    ("a@spam.test", "spam.test"), ("spam.test", "spam.test"), ("unqualified", "unqualified"),
    ("a@[192.0.2.1]", None), ("a@host.123", None), ("192.0.2.1", None), ("a@spam.test.", None), ("a@bad_", "bad_"),
    ("a@bad!name.test", None), ("a@", None), ("b@a@spam.test", "spam.test"),
])
def test_the_domain_a_domain_blocklist_is_asked_about_is_postfix_s(what, domain):
    assert listed_domain(what) == domain


def test_an_unqualified_sender_is_looked_up_whole_as_postfix_does(dns_server):
    dns_server.zone.add("unqualified.rhsbl.test", "A 127.0.0.2")
    blocking = settings(smtpd_sender_restrictions="reject_rhsbl_sender rhsbl.test",
                        filterd_dns_servers=dns_server.address)
    assert verdict_at_rcpt(blocking, sender="unqualified").text == \
        "Service unavailable; Sender address [unqualified] blocked using rhsbl.test"
