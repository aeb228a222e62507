"""The milter client's socket side against scripted milters on loopback: what goes on the wire, and every way
a milter can fail (refused, silent, hung up, broken answers), logged in Postfix's words with the default action.

The scripted milter speaks through filterd's codec and answers each command from a table; real milters are
in tests/integration/test_milter_client.py.
"""

from __future__ import annotations

import asyncio
from typing import Callable

import pytest

from filterd.milter.client.connection import MilterClient
from filterd.milter.client.dialogue import State
from filterd.milter.client.endpoints import MilterSpec
from filterd.milter.client.session import SessionMilters
from filterd.milter.client.settings import ClientSettings
from filterd.milter.client.symbols import Context, MacroSettings
from filterd.milter.protocol import codes
from filterd.milter.protocol import commands as cmd
from filterd.milter.protocol import responses as r
from filterd.milter.protocol.codes import Steps
from filterd.milter.protocol.commands import decode_command
from filterd.milter.protocol.framing import PacketReader
from filterd.model import Envelope, Message, Session
from filterd.verdict import Action, AddHeader, ChangeHeader, ReplaceBody

HANG, CLOSE = "hang", "close"
OPTNEG = r.OptNeg(6, 0x1FF, 0)
SESSION = Session(client_address="127.0.0.1", client_port=1234, client_name="localhost", helo="client.example")
SYMBOLS = MacroSettings({codes.CONNECT: "j", codes.HEADER: "i", codes.EOH: "i", codes.BODYEOB: "i"}, "mx.test")
OWN_RECEIVED = b"Received: from c (localhost [127.0.0.1])\r\n\tby mx.test (filterd) with ESMTP id Q1\r\n"


class ScriptedMilter:
    """A loopback milter that answers each command code from `script` (packets, HANG or CLOSE)."""

    def __init__(self, script: dict[bytes, object]):
        self.script = {codes.OPTNEG: OPTNEG, **script}
        self.received: list = []
        self.connections = 0
        self.closed = asyncio.Event()

    async def start(self) -> str:
        self.server = await asyncio.start_server(self.serve, "127.0.0.1", 0)
        return f"inet:127.0.0.1:{self.server.sockets[0].getsockname()[1]}"

    async def serve(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        self.connections += 1
        try:
            await self.answer(reader, writer)
        except asyncio.CancelledError:
            pass
        writer.close()
        self.closed.set()

    async def answer(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        packets = PacketReader()
        while data := await reader.read(65536):
            for code, payload in packets.feed(data):
                self.received.append(decode_command(code, payload))
                answer = self.script.get(code, r.Continue() if code not in (b"D", b"A", b"Q") else None)
                if answer == CLOSE:
                    writer.close()
                    return
                if answer == HANG:
                    await asyncio.sleep(3600)
                if answer is not None:
                    writer.write(b"".join(p.encode() for p in (answer if isinstance(answer, list) else [answer])))

    def commands(self) -> list:
        return [packet for packet in self.received if not isinstance(packet, cmd.Macro)]


def spec(name: str, **settings) -> MilterSpec:
    return MilterSpec(name, **{"command_timeout": 2.0, "content_timeout": 2.0, **settings})


def run(script: dict[bytes, object], work: Callable[..., object]):
    async def main():
        milter = ScriptedMilter(script)
        name = await milter.start()
        try:
            return milter, await (work(name, milter) if work.__code__.co_argcount == 2 else work(name))
        finally:
            milter.server.close()
    return asyncio.run(main())


async def connected(name: str, **settings) -> MilterClient:
    client = MilterClient(spec(name, **settings), SYMBOLS)
    await client.connect(cmd.Connect("localhost", "4", 1234, "127.0.0.1"), Context(SESSION))
    return client


def test_a_refused_connection_logs_postfix_s_warning_and_tempfails(filterd_log):
    async def work(name):
        client = MilterClient(spec("inet:127.0.0.1:1"), SYMBOLS)
        return await client.connect(cmd.Connect("h", "4", 1, "127.0.0.1"), Context(SESSION)), client

    _, (reply, client) = run({}, work)
    assert reply == "451 4.7.1 Service unavailable - try again later"
    assert client.dialogue.state is State.ERROR
    assert "connect to Milter service inet:127.0.0.1:1: Connection refused" in filterd_log.text


def test_a_silent_milter_times_out_in_the_handshake(filterd_log):
    async def work(name):
        client = MilterClient(spec(name, command_timeout=0.2, default_action="reject"), SYMBOLS)
        return await client.connect(cmd.Connect("h", "4", 1, "127.0.0.1"), Context(SESSION))

    _, reply = run({codes.OPTNEG: HANG}, work)
    assert reply == "550 5.5.0 Service unavailable"
    assert "can't read SMFIC_OPTNEG reply packet header: Connection timed out" in filterd_log.text
    assert "read error in initial handshake" in filterd_log.text


def test_a_milter_that_hangs_up_gets_the_default_action_for_the_rest_of_the_session(filterd_log):
    async def work(name):
        client = await connected(name, default_action="quarantine")
        first = await client.event(codes.MAIL, cmd.Mail(("<a@b>",)), Context(SESSION, Envelope()))
        second = await client.event(codes.RCPT, cmd.Rcpt(("<c@d>",)), Context(SESSION, Envelope()))
        return first, second

    milter, replies = run({codes.MAIL: CLOSE}, work)
    assert replies == ("H", "H")
    assert "can't read SMFIC_MAIL reply packet header: Success" in filterd_log.text
    assert not any(isinstance(p, cmd.Rcpt) for p in milter.received)


def test_a_malformed_reply_code_is_a_configuration_error(filterd_log):
    async def work(name):
        client = await connected(name)
        return await client.event(codes.MAIL, cmd.Mail(("<a@b>",)), Context(SESSION, Envelope()))

    _, reply = run({codes.MAIL: r.ReplyCode("250 2.0.0 fine")}, work)
    assert reply == "451 4.3.5 Server configuration problem - try again later"
    assert "milter inet:127.0.0.1:" in filterd_log.text and ": malformed reply: 250 2.0.0 fine" in filterd_log.text


def test_accept_at_connect_hangs_up_and_sends_nothing_more():
    async def work(name):
        client = await connected(name)
        reply = await client.event(codes.HELO, cmd.Helo("x"), Context(SESSION))
        await client.quit()
        return reply, client.dialogue.state

    milter, (reply, state) = run({codes.CONNECT: r.Accept()}, work)
    assert reply is None and state is State.CLOSED
    assert [type(p) for p in milter.commands()] == [cmd.OptNeg, cmd.Connect]


def test_a_cancelled_exchange_poisons_the_milter():
    async def work(name):
        client = await connected(name)
        with pytest.raises(TimeoutError):
            async with asyncio.timeout(0.2):
                await client.event(codes.MAIL, cmd.Mail(("<a@b>",)), Context(SESSION, Envelope()))
        return await client.event(codes.RCPT, cmd.Rcpt(("<c@d>",)), Context(SESSION, Envelope()))

    _, reply = run({codes.MAIL: HANG}, work)
    assert reply == "451 4.7.1 Service unavailable - try again later"


def session_run(script: dict[bytes, object], message: bytes, milters: int = 1):
    async def work(name, milter):
        session_milters = SessionMilters(ClientSettings(tuple(spec(name) for _ in range(milters)), SYMBOLS), SESSION)
        envelope = Envelope(queue_id="Q1", sender="a@example.org", recipients=["b@example.net"])
        await session_milters.connect(SESSION)
        await session_milters.mail(SESSION, envelope, "a@example.org")
        verdict = await session_milters.end_of_message(SESSION, envelope, Message.from_bytes(message))
        await session_milters.disconnect()
        await asyncio.wait_for(milter.closed.wait(), 5)
        return verdict

    return run(script, work)


def test_the_message_goes_out_as_postfix_sends_it():
    body = b"x" * 70000 + b"\r\nend\r\n"
    no_replies = r.OptNeg(6, 0x1FF, int(Steps.NR_HDR | Steps.NR_BODY))
    milter, verdict = session_run({codes.OPTNEG: no_replies, codes.HEADER: None, codes.BODY: None},
                                  OWN_RECEIVED + b"Subject:  two spaces\r\nX-Long: a\r\n\tb\r\n\r\n" + body)
    sent = milter.received
    headers = [p for p in sent if isinstance(p, cmd.Header)]
    assert headers == [cmd.Header("Subject", " two spaces"), cmd.Header("X-Long", "a\n\tb")]
    assert sent[sent.index(headers[0]) - 1] == cmd.Macro("L", (("i", "Q1"),))
    chunks = [p.data for p in sent if isinstance(p, cmd.Body)]
    assert [len(c) for c in chunks] == [65535, len(body) - 65535] and b"".join(chunks) == body
    assert isinstance(milter.commands()[-1], cmd.Quit) and verdict.action is Action.DUNNO


def test_each_milter_sees_the_edits_of_the_one_before():
    eom = [r.ChangeHeader(1, "Subject", "changed"), r.AddHeader("X-Added", "yes"), r.ReplaceBody(b"new body\n"),
           r.Continue()]
    milter, verdict = session_run({codes.BODYEOB: eom}, OWN_RECEIVED + b"Subject: hi\r\n\r\nold body\r\n", milters=2)
    headers = [p for p in milter.received if isinstance(p, cmd.Header)]
    assert headers[-2:] == [cmd.Header("Subject", "changed"), cmd.Header("X-Added", "yes")]
    assert [p.data for p in milter.received if isinstance(p, cmd.Body)] == [b"old body\r\n", b"new body\r\n"]
    assert verdict.edits[:2] == (ChangeHeader("Subject", "changed", 1), AddHeader("X-Added", "yes"))
    assert verdict.edits[2] == ReplaceBody(b"new body\r\n") and len(verdict.edits) == 6


def test_a_reply_ends_the_round():
    milter, verdict = session_run({codes.BODYEOB: r.ReplyCode("554 5.7.1 no")}, b"Subject: x\r\n\r\nb\r\n", 2)
    assert verdict.reply() == (554, "5.7.1", "no")
    assert sum(isinstance(p, cmd.EndOfBody) for p in milter.received) == 1
