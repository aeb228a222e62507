"""Relay control: permit_auth_destination, reject_unauth_destination and defer_unauth_destination, and Postfix's
default smtpd_relay_restrictions (permit_mynetworks, permit_sasl_authenticated, defer_unauth_destination)."""

from __future__ import annotations

import asyncio

import pytest

from filterd.policies.restrictions.evaluation import decide
from filterd.verdict import Action

from .checks import check, settings, verdict_at_rcpt


def test_the_default_relays_for_mynetworks_and_local_domains_only():
    default = settings()
    assert verdict_at_rcpt(default, client="192.0.2.7", recipient="anyone@example.net") is None
    assert verdict_at_rcpt(default, recipient="user@LOCAL.example") is None
    assert verdict_at_rcpt(default, recipient="user@local.example.") is None
    refused = verdict_at_rcpt(default, recipient="anyone@example.net")
    assert (refused.action, refused.reply()) == (
        Action.DEFER, (454, "4.7.1", "<anyone@example.net>: Relay access denied"))


def test_a_sasl_authenticated_client_may_relay():
    assert verdict_at_rcpt(settings(), recipient="anyone@example.net", sasl_username="alice") is None


@pytest.mark.parametrize("recipient", ["user%example.net@local.example", "example.net!user@local.example",
                                       '"user@example.net"@local.example', '"user%example.net"@local.example',
                                       "user@example.net@local.example", "a!b!c@local.example"])
def test_sender_routed_recipients_are_refused_to_strangers(recipient):
    assert verdict_at_rcpt(settings(), client="192.0.2.1", recipient=recipient) is None
    assert verdict_at_rcpt(settings(), recipient=recipient).action is Action.DEFER


def test_allow_untrusted_routing_lets_a_routed_local_address_through():
    routed = "user%example.net@local.example"
    assert verdict_at_rcpt(settings(allow_percent_hack="no"), recipient=routed) is not None
    assert verdict_at_rcpt(settings(allow_percent_hack="no", allow_untrusted_routing="yes"), recipient=routed) is None


def test_relay_domains_and_their_subdomains_are_relayed_to():
    relaying = settings(relay_domains="relay.example")
    assert verdict_at_rcpt(relaying, recipient="user@relay.example") is None
    assert verdict_at_rcpt(relaying, recipient="user@sub.relay.example") is None
    assert verdict_at_rcpt(relaying, recipient="user@notrelay.example") is not None
    strict = settings(relay_domains="relay.example", parent_domain_matches_subdomains="")
    assert verdict_at_rcpt(strict, recipient="user@sub.relay.example") is not None


def test_relay_domains_may_be_tables():
    tabled = settings(relay_domains="other.example, inline:{ relay.example=yes }")
    assert verdict_at_rcpt(tabled, recipient="user@relay.example") is None
    assert verdict_at_rcpt(tabled, recipient="user@sub.relay.example") is None
    assert verdict_at_rcpt(tabled, recipient="user@other.example") is None
    assert verdict_at_rcpt(tabled, recipient="user@elsewhere.example") is not None


def test_reject_unauth_destination_rejects_with_relay_domains_reject_code():
    rejecting = settings(smtpd_relay_restrictions="permit_mynetworks reject_unauth_destination")
    refused = verdict_at_rcpt(rejecting, recipient='"user@example.net"@local.example')
    assert refused.reply() == (554, "5.7.1", "<user@example.net@local.example>: Relay access denied")
    assert verdict_at_rcpt(settings(smtpd_relay_restrictions="reject_unauth_destination",
                                    relay_domains_reject_code="450"), recipient="a@example.net").action is Action.DEFER


def test_permit_auth_destination_permits_before_a_reject():
    permitting = settings(smtpd_relay_restrictions="", smtpd_recipient_restrictions="permit_auth_destination, reject")
    assert verdict_at_rcpt(permitting, recipient="user@local.example") is None
    assert verdict_at_rcpt(permitting, recipient="user@example.net").reply() == (
        554, "5.7.1", "<user@example.net>: Recipient address rejected: Access denied")


def test_reject_unknown_recipient_domain(dns_server):
    dns_server.zone.add("exists.test", "MX 10 mx.exists.test.")
    dns_server.zone.add("nullmx.test", "MX 0 .")
    unknown = settings(smtpd_recipient_restrictions="reject_unknown_recipient_domain", relay_domains="test",
                       filterd_dns_servers=dns_server.address)
    assert verdict_at_rcpt(unknown, recipient="b@exists.test") is None
    assert verdict_at_rcpt(unknown, recipient="b@nx.test").reply() == (
        450, "4.1.2", "<b@nx.test>: Recipient address rejected: Domain not found")
    assert verdict_at_rcpt(unknown, recipient="b@nullmx.test").reply()[:2] == (556, "5.1.10")
    assert verdict_at_rcpt(unknown, recipient="b@local.example") is None


def test_reject_multi_recipient_bounce_refuses_a_second_recipient_of_the_null_sender():
    bounce = settings(smtpd_recipient_restrictions="reject_multi_recipient_bounce")
    assert verdict_at_rcpt(bounce, sender="") is None
    second = check(bounce, sender="")
    second.envelope.recipients.append("first@local.example")
    assert asyncio.run(decide(bounce.at_rcpt(), second)).reply() == (
        550, "5.5.3", "<b@local.example>: Recipient address rejected: Multi-recipient bounce")
    other = check(bounce, sender="a@sender.example")
    other.envelope.recipients.append("first@local.example")
    assert asyncio.run(decide(bounce.at_rcpt(), other)) is None


def test_at_data_reject_multi_recipient_bounce_wants_two_recipients():
    bounce = settings(smtpd_data_restrictions="reject_multi_recipient_bounce", multi_recipient_bounce_reject_code="554")
    at_data = check(bounce, sender="", recipient=None)
    at_data.protocol_state = "DATA"
    at_data.envelope.recipients.append("first@local.example")
    assert asyncio.run(decide(bounce.named("smtpd_data_restrictions"), at_data)) is None
    at_data.envelope.recipients.append("second@local.example")
    assert asyncio.run(decide(bounce.named("smtpd_data_restrictions"), at_data)).reply() == (
        554, "5.5.3", "<DATA>: Data command rejected: Multi-recipient bounce")


def test_reject_rhsbl_recipient(dns_server):
    dns_server.zone.add("local.example.rhsbl.test", "A 127.0.0.2", 'TXT "listed"')
    blocking = settings(smtpd_recipient_restrictions="reject_rhsbl_recipient rhsbl.test=127.0.0.2",
                        filterd_dns_servers=dns_server.address, mydestination="local.example other.local.example")
    assert verdict_at_rcpt(blocking).reply() == (
        554, "5.7.1", "Service unavailable; Recipient address [b@local.example] blocked using rhsbl.test; listed")
    assert verdict_at_rcpt(blocking, recipient="b@other.local.example") is None
