"""What delivery makes of next hops that do not resolve, against the loopback DNS server: the recipient's status,
dsn and text, and the relayhost and fallback relay as configuration problems (Postfix's smtp_connect.c)."""

from __future__ import annotations

import asyncio
import tempfile
import time

import pytest

from filterd.dns import Resolver
from filterd.qmgr.delivery import Attempt, Deliverer
from filterd.qmgr.mail_exchangers import HostLookup
from filterd.qmgr.routing import AddressFamilies, Router
from filterd.qmgr.smtp_delivery import SmtpDelivery, SmtpSettings
from filterd.queue.queuefile import QueueEnvelope, QueueFile, Recipient
from filterd.queue.spool import Spool

NOT_FOUND = "Host or domain name not found. Name service error for name={} type={}: {}"


def deliver(server, recipient: str, relayhost: str = "", fallback_relay: tuple[str, ...] = (),
            address_limit: int = 5) -> Recipient:
    """One recipient's delivery attempt; no SMTP server is ever reached."""
    lookup = HostLookup(Resolver([(server.host, server.port)], timeout=1.0),
                        families=AddressFamilies.from_settings(["ipv4"]))
    deliverer = Deliverer(Router(frozenset(), relayhost), SmtpDelivery(SmtpSettings("filterd.test")), "/nonexistent",
                          fallback_relay=fallback_relay, lookup=lookup, address_limit=address_limit)
    envelope = QueueEnvelope("4jg88b1rYwz1Tcp8sv", "alice@example.org", [Recipient(recipient)], time.time())
    with tempfile.TemporaryDirectory() as spool:
        qf = QueueFile.read(str(Spool(spool).create().store("active", envelope, iter([]))))
        asyncio.run(deliverer.deliver(Attempt(qf, time.time())))
    return qf.envelope.recipients[0]


def outcome(rcpt: Recipient) -> tuple[str, str, str, str]:
    return rcpt.status, rcpt.dsn, rcpt.text, rcpt.relay


def test_a_domain_that_does_not_exist_bounces(dns_server, filterd_log):
    assert outcome(deliver(dns_server, "bob@nowhere.test")) == \
        ("bounced", "5.4.4", NOT_FOUND.format("nowhere.test", "A", "Host not found"), "none")
    assert "to=<bob@nowhere.test>, relay=none, delay=" in filterd_log.text


def test_a_temporary_failure_defers(dns_server):
    dns_server.zone.fail("slow.test", "servfail", "MX")
    assert outcome(deliver(dns_server, "bob@slow.test")) == \
        ("deferred", "4.4.3", NOT_FOUND.format("slow.test", "MX", "Host not found, try again"), "none")


def test_a_relayhost_that_does_not_exist_defers_as_a_configuration_problem(dns_server, filterd_log):
    assert outcome(deliver(dns_server, "bob@example.org", relayhost="[relay.test]")) == \
        ("deferred", "4.3.5", NOT_FOUND.format("relay.test", "A", "Host not found"), "none")
    assert "relayhost configuration problem" in filterd_log.messages


@pytest.mark.parametrize("fallback, expected", [
    ("[fallback.test]", ("deferred", "4.3.5", NOT_FOUND.format("fallback.test", "A", "Host not found"), "none")),
    ("[127.0.0.1]:1", ("deferred", "4.4.1", "connect to 127.0.0.1[127.0.0.1]:1: Connection refused", "none")),
])
def test_the_fallback_relay_gets_the_mail_of_a_domain_that_does_not_exist(dns_server, filterd_log, fallback,
                                                                              expected):
    assert outcome(deliver(dns_server, "bob@nowhere.test", fallback_relay=(fallback,))) == expected
    warned = "smtp_fallback_relay configuration problem" in filterd_log.messages
    assert warned is (expected[1] == "4.3.5")


@pytest.mark.parametrize("limit, tried", [(5, 5), (0, 6), (2, 2)])
def test_at_most_smtp_mx_address_limit_addresses_are_tried(dns_server, filterd_log, limit, tried):
    dns_server.zone.add("many.test", *(f"MX {n} mx{n}.many.test." for n in range(6)))
    for n in range(6):
        dns_server.zone.add(f"mx{n}.many.test", f"A 127.0.0.{n + 2}")
    rcpt = deliver(dns_server, "bob@example.org", relayhost="many.test:1", address_limit=limit)
    connects = [m for m in filterd_log.messages if m.startswith("connect to ")]
    assert len(connects) == tried
    assert outcome(rcpt) == ("deferred", "4.4.1", connects[-1], "none")
    assert connects[-1] == f"connect to mx{tried - 1}.many.test[127.0.0.{tried + 1}]:1: Connection refused"
