"""Relay mode's next hop without sockets: relay permission, in_flow_delay, what the queue file records."""

import asyncio
import time

import pytest

from filterd.addresses import AddressRules
from filterd.handoff import Routing
from filterd.model import Envelope, Message, Session
from filterd.network import networks
from filterd.nexthop.queue import QueueNextHop, RelayPolicy
from filterd.queue.queuefile import QueueEnvelope, QueueFile, Recipient
from filterd.queue.spool import Spool


def policy(**options):
    return RelayPolicy(networks(["127.0.0.0/8"]), AddressRules(("localhost",), "mx.example", "mx.example"), **options)


def test_relay_permission():
    assert policy().allows("127.0.0.1", "anyone@example.net")
    assert policy().allows("192.0.2.1", "user@LOCALHOST")
    assert policy().allows("192.0.2.1", "user@localhost.")
    assert not policy().allows("192.0.2.1", "anyone@example.net")


@pytest.mark.parametrize("recipient", ["user%example.net@localhost", "example.net!user@localhost",
                                       '"user@example.net"@localhost', '"user%example.net"@localhost',
                                       "user@example.net@localhost", "user", "a!b!c@localhost"])
def test_sender_routed_recipients_are_refused_to_strangers(recipient):
    assert policy().allows("127.0.0.1", recipient)
    assert not policy().allows("192.0.2.1", recipient)


def test_allow_untrusted_routing_lets_a_routed_local_address_through():
    plain = AddressRules(("localhost",), allow_percent_hack=False)
    assert not RelayPolicy((), plain).allows("192.0.2.1", "user%example.net@localhost")
    assert RelayPolicy((), plain, allow_untrusted_routing=True).allows("192.0.2.1", "user%example.net@localhost")


def test_postmaster_is_always_accepted():
    assert policy().allows("192.0.2.1", "Postmaster")


def test_the_refusal_names_the_address_unquoted(tmp_path):
    hop = QueueNextHop(Spool(tmp_path).create(), policy())

    async def run():
        await hop.begin(Session(client_address="192.0.2.1"), Envelope("4QID", "a@example.org", []))
        return await hop.recipient('"user@example.net"@localhost', [])

    reply = asyncio.run(run())
    assert (reply.code, reply.text) == (454, "4.7.1 <user@example.net@localhost>: Relay access denied")


def test_in_flow_delay_applies_only_while_incoming_is_over_the_limit(tmp_path):
    spool = Spool(tmp_path).create()
    hop = QueueNextHop(spool, policy(), flow_limit=2, flow_delay=0.3)
    started = time.monotonic()
    asyncio.run(hop._in_flow_delay())
    assert time.monotonic() - started < 0.2
    for n in range(3):
        spool.store("incoming", QueueEnvelope(f"4Q{n}", "a@x", [Recipient("b@y")], 0.0, size=1), iter([b"x"]))
    started = time.monotonic()
    asyncio.run(hop._in_flow_delay())
    assert time.monotonic() - started >= 0.3


def test_the_queue_file_keeps_the_routing_decisions(tmp_path):
    spool = Spool(tmp_path).create()
    hop = QueueNextHop(spool, policy())
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
