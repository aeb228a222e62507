"""Relay mode's next hop without sockets: in_flow_delay, what the queue file records (relay permission is the
restrictions' part: tests/policies/restrictions/)."""

import asyncio
import time

import pytest

from filterd.handoff import Routing
from filterd.model import Envelope, Message, Session
from filterd.addresses import AddressRules
from filterd.content import Header
from filterd.nexthop.queue import FLOW_RECOUNT, QueueNextHop, message_id_lines
from filterd.queue.queuefile import QueueEnvelope, QueueFile, Recipient
from filterd.queue.spool import Spool


def test_in_flow_delay_applies_only_while_incoming_is_over_the_limit(tmp_path):
    """The count is taken again once FLOW_RECOUNT has passed."""
    spool = Spool(tmp_path).create()
    hop = QueueNextHop(spool, flow_limit=2, flow_delay=0.3)
    started = time.monotonic()
    asyncio.run(hop._in_flow_delay())
    assert time.monotonic() - started < 0.2
    for n in range(3):
        spool.store("incoming", QueueEnvelope(f"4Q{n}", "a@x", [Recipient("b@y")], 0.0, size=1), iter([b"x"]))
    time.sleep(FLOW_RECOUNT)
    started = time.monotonic()
    asyncio.run(hop._in_flow_delay())
    assert time.monotonic() - started >= 0.3


def test_the_queue_file_keeps_the_routing_decisions(tmp_path):
    spool = Spool(tmp_path).create()
    hop = QueueNextHop(spool)
    envelope = Envelope("4QID", "a@example.org", ["b@example.net"], ["BODY=8BITMIME", "SMTPUTF8"], arrival=1.0)

    async def run():
        await hop.begin(Session(helo="client.example"), envelope)
        message = Message.from_bytes(b"Message-ID: <m@x>\r\nSubject: s\r\n\r\nbody\r\n")
        return await hop.deliver(message, Routing(hold="suspicious", filter="smtp:[127.0.0.1]:10026", bcc=("c@x",)))

    assert asyncio.run(run()).text == "2.0.0 Ok: queued as 4QID"
    qf = QueueFile.read(str(spool.path("hold", "4QID")))
    env = qf.envelope
    assert (env.hold_reason, env.filter, env.bcc, env.body_type, env.smtputf8, env.message_id) == \
        ("suspicious", "smtp:[127.0.0.1]:10026", ["c@x"], "8BITMIME", True, "<m@x>")
    assert b"".join(qf.content()) == b"Message-ID: <m@x>\r\nSubject: s\r\n\r\nbody\r\n"


def queued(tmp_path, rcpt_options: dict[str, list[str]], routing: Routing,
           now: list[str] | None = None) -> QueueEnvelope:
    """The queue file's envelope of a message to the recipients `rcpt_options` gives (with their RCPT options),
    those `now` instead by the end of DATA (a plugin's doing), delivered with `routing`."""
    spool = Spool(tmp_path).create()
    hop = QueueNextHop(spool)
    envelope = Envelope("4QID", "a@example.org", [], arrival=1.0)

    async def run():
        await hop.begin(Session(helo="client.example"), envelope)
        envelope.recipients += list(rcpt_options)
        envelope.rcpt_options.update(rcpt_options)
        if now is not None:
            envelope.recipients[:] = now
        return await hop.deliver(Message.from_bytes(b"Subject: s\r\n\r\nbody\r\n"), routing)

    asyncio.run(run())
    return QueueFile.read(str(spool.path("incoming", "4QID"))).envelope


def test_under_a_redirect_the_queue_file_keeps_the_recipients_as_received(tmp_path):
    env = queued(tmp_path, {"b@example.net": ["ORCPT=rfc822;b@example.net"], "c@example.net": []},
                 Routing(redirect="new@example.net", bcc=("bcc@example.net",)), ["new@example.net", "bcc@example.net"])
    assert env.redirect == "new@example.net"
    assert env.recipients == [Recipient("b@example.net", orcpt="rfc822;b@example.net"),
                              Recipient("c@example.net", orcpt="rfc822;c@example.net"),
                              Recipient("bcc@example.net")]


def test_the_ids_are_logged_as_cleanup_logs_them():
    headers = [Header.make("Resent-Message-ID", "<r@x>"), Header.make("Message-ID", "<m@x>")]
    assert message_id_lines(headers, "resent-message-id=<new@x>") == ["resent-message-id=<r@x>", "message-id=<m@x>",
                                                                      "resent-message-id=<new@x>"]
    assert message_id_lines(headers[:1]) == ["resent-message-id=<r@x>", "message-id=<>"]
    assert message_id_lines(headers[:1], header_done=False) == ["resent-message-id=<r@x>"]
    assert message_id_lines([], "message-id=<new@x>") == ["message-id=<new@x>"]


def test_recipients_are_queued_in_canonical_form_beside_the_address_as_received(tmp_path):
    spool = Spool(tmp_path).create()
    hop = QueueNextHop(spool, rules=AddressRules(("relay.example",), myorigin="relay.example"))
    envelope = Envelope("4QID", "a@example.org", ["bob", "example.com!carol", "dave@example.com",
                                                  '"erin%example.com"@relay.example'], arrival=1.0)

    async def run():
        await hop.begin(Session(helo="client.example"), envelope)
        return await hop.deliver(Message.from_bytes(b"Subject: s\r\n\r\nbody\r\n"), Routing())

    asyncio.run(run())
    env = QueueFile.read(str(spool.path("incoming", "4QID"))).envelope
    assert env.recipients == [Recipient("bob@relay.example", orig="bob"),
                              Recipient("carol@example.com", orig="example.com!carol"), Recipient("dave@example.com"),
                              Recipient("erin@example.com", orig="erin%example.com@relay.example")]


def test_a_recipient_given_without_orcpt_gets_postfix_s_made_up_one_and_a_bcc_none(tmp_path):
    """smtpd's `rfc822;` and the address as the client gave it (xtext: `+` and `=` encoded), as Postfix relays it
    and names it in DSNs; BCC recipients, not the client's, have none."""
    env = queued(tmp_path, {"b+tag@example.net": [], '"c d"@example.net': ["NOTIFY=NEVER"]},
                 Routing(bcc=("e@example.net",)))
    assert [r.orcpt for r in env.recipients] == ["rfc822;b+2Btag@example.net", 'rfc822;"c+20d"@example.net']
    assert env.bcc == ["e@example.net"]  # added by the queue manager without an ORCPT
