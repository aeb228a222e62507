"""The asyncio carrier of the milter front end, on a fake transport: bytes in, bytes out, no sockets."""

from __future__ import annotations

import asyncio
import socket

from filterd import Verdict, hookimpl
from filterd.chain import Chain
from filterd.milter.protocol import commands as c
from filterd.milter.protocol import responses as r
from filterd.milter.protocol.framing import PacketReader
from filterd.milter.protocol.responses import decode_response
from filterd.milter.server.handler import MilterHandler
from filterd.milter.server.listener import MAX_QUEUED, MilterConnection
from filterd.milter.server.settings import MilterSettings
from filterd.testing import load_plugins
from tests.milter.server.test_handler import CONTENT, OPENING, POSTFIX_OFFER

TEMPFAIL = r.ReplyCode("451 4.7.1 Service unavailable - try again later")


class FakeTransport(asyncio.Transport):
    """Records what the protocol writes; closing calls connection_lost as a real transport would."""

    def __init__(self, sock: socket.socket | None = None):
        super().__init__()
        self.writes: list[bytes] = []
        self.closed = False
        self.reading = True
        self.sock = sock
        self.protocol: MilterConnection | None = None

    def write(self, data) -> None:
        self.writes.append(bytes(data))

    def close(self) -> None:
        if not self.closed:
            self.closed = True
            asyncio.get_running_loop().call_soon(self.protocol.connection_lost, None)

    def is_closing(self) -> bool:
        return self.closed

    def pause_reading(self) -> None:
        self.reading = False

    def resume_reading(self) -> None:
        self.reading = True

    def get_extra_info(self, name, default=None):
        return self.sock if name == "socket" else default

    def responses(self) -> list:
        return [decode_response(*packet) for packet in PacketReader().feed(b"".join(self.writes))]


class Tag:
    @hookimpl
    async def end_of_message(self, message):
        await asyncio.sleep(0)
        return Verdict.add_header("X-Tag", str(len(message.headers)))


def connect(plugins: list, settings: MilterSettings = MilterSettings()) -> tuple[MilterConnection, FakeTransport]:
    connection = MilterConnection(MilterHandler(settings, Chain(load_plugins(*plugins))))
    transport = FakeTransport()
    transport.protocol = connection
    connection.connection_made(transport)
    return connection, transport


async def settle(seconds: float = 0.0) -> None:
    await asyncio.sleep(seconds)
    for _ in range(50):
        await asyncio.sleep(0)


def wire(commands: list) -> bytes:
    return b"".join(command.encode() for command in commands)


def test_a_dialogue_split_anywhere_gives_the_same_answers_one_write_per_batch():
    stream = wire(OPENING + CONTENT)
    expected = None
    for cut in range(0, len(stream) + 1, 7):
        async def dialogue():
            connection, transport = connect([Tag()])
            connection.data_received(stream[:cut])
            await settle()
            connection.data_received(stream[cut:])
            await settle()
            return transport
        transport = asyncio.run(dialogue())
        assert transport.responses()[1:] == [r.AddHeader("X-Tag", " 2"), r.Continue()]
        assert len(transport.writes) == 2
        expected = expected or transport.writes
        assert b"".join(transport.writes) == b"".join(expected)


def test_commands_no_plugin_decides_are_answered_within_the_read():
    async def dialogue():
        connection, transport = connect([])
        connection.data_received(wire([POSTFIX_OFFER]))
        connection.data_received(wire(OPENING[1:] + CONTENT))
        return transport, connection.task
    transport, task = asyncio.run(dialogue())
    assert task is None and len(transport.writes) == 2
    assert transport.responses()[1:] == [r.Continue()]


def test_an_async_plugin_with_a_timeout_runs_in_a_task():
    """data_received comes from the event loop, outside any task; asyncio.timeout needs one."""
    class Careful:
        @hookimpl
        async def end_of_message(self):
            async with asyncio.timeout(1):
                await asyncio.sleep(0)
            return Verdict.add_header("X-Async", "1")

    async def dialogue():
        connection, transport = connect([Careful()])
        asyncio.get_running_loop().call_soon(connection.data_received, wire(OPENING + CONTENT))
        await settle()
        return transport
    assert asyncio.run(dialogue()).responses()[1:] == [r.AddHeader("X-Async", " 1"), r.Continue()]


def end_of_body_with(step) -> list:
    """The responses to a message whose end of message the handler answers with `step(command)`."""
    async def dialogue():
        connection, transport = connect([Tag()])
        connection.data_received(wire(OPENING + CONTENT[:-1]))
        await settle()
        connection.handler.receive = lambda code, payload: step(c.decode_command(code, payload))
        connection.data_received(wire([c.EndOfBody()]))
        await settle()
        return transport
    return asyncio.run(dialogue()).responses()[1:]


def test_an_internal_error_is_logged_and_answered_with_a_temporary_failure():
    async def broken():
        raise RuntimeError("plugin machinery bug")
    assert end_of_body_with(lambda command: broken()) == [TEMPFAIL]


def test_an_error_in_the_handler_itself_is_answered_too():
    def broken(command):
        raise RuntimeError("handler bug")
    assert end_of_body_with(broken) == [TEMPFAIL]


def test_an_error_while_streaming_the_answer_still_ends_with_a_decision():
    def answers():
        yield r.AddHeader("X-A", " 1")
        raise OSError("spool gone")
    assert end_of_body_with(lambda command: answers()) == [r.AddHeader("X-A", " 1"), TEMPFAIL]


def test_a_malformed_command_is_answered_and_the_connection_goes_on():
    async def dialogue():
        connection, transport = connect([])
        connection.data_received(wire([c.OptNeg(2, 0x3F, 0)]) + b"\0\0\0\x04Hbad" + wire([c.Helo("ok")]))
        await settle()
        return transport, transport.closed
    transport, closed = asyncio.run(dialogue())
    assert transport.responses()[1:] == [TEMPFAIL, r.Continue()] and not closed


def test_an_unknown_packet_closes_the_connection_unanswered_as_libmilter_does():
    async def dialogue():
        connection, transport = connect([])
        connection.data_received(wire([c.OptNeg(2, 0x3F, 0), c.Helo("ok")]) + b"\0\0\0\x01Z" +
                                 wire([c.Helo("again")]))
        await settle()
        return transport
    transport = asyncio.run(dialogue())
    assert transport.closed and transport.responses()[1:] == [r.Continue()]


def test_a_framing_error_closes_the_connection():
    async def dialogue():
        connection, transport = connect([])
        connection.data_received(b"\0\0\0\0x")
        await settle()
        return transport
    assert asyncio.run(dialogue()).closed


def test_a_slow_end_of_message_sends_progress():
    class Slow:
        @hookimpl
        async def end_of_message(self):
            await asyncio.sleep(0.25)

    async def dialogue():
        connection, transport = connect([Slow()], MilterSettings(progress_interval=0.1))
        connection.data_received(wire(OPENING + CONTENT))
        await settle(0.4)
        return transport
    responses = asyncio.run(dialogue()).responses()
    assert responses[1:] == [r.Progress(), r.Progress(), r.Continue()]


def test_quit_closes_and_runs_disconnect_once():
    class Bye:
        calls = 0

        @hookimpl
        def disconnect(self):
            Bye.calls += 1

    async def dialogue():
        connection, transport = connect([Bye()])
        connection.data_received(wire(OPENING + [c.Quit()]))
        await settle()
        return transport
    assert asyncio.run(dialogue()).closed and Bye.calls == 1


def test_a_lost_connection_ends_the_message_and_the_session():
    async def dialogue():
        connection, transport = connect([Tag()])
        connection.data_received(wire(OPENING + CONTENT[:3]))
        await settle()
        spool = connection.handler.builder.spool
        connection.connection_lost(None)
        await settle()
        return connection, spool
    connection, spool = asyncio.run(dialogue())
    assert spool.closed and connection.handler.txn is None and not connection.handler.connected


def test_reading_pauses_while_too_many_packets_wait_for_a_plugin():
    class SlowConnect:
        @hookimpl
        async def connect(self):
            await asyncio.sleep(0.05)

    async def dialogue():
        connection, transport = connect([SlowConnect()])
        connection.data_received(wire([POSTFIX_OFFER, *OPENING[1:3], *[c.Header("X", " y")] * (MAX_QUEUED + 10)]))
        paused = not transport.reading
        await settle(0.1)
        return paused, transport.reading, connection.handler.builder.message.headers
    paused, reading, headers = asyncio.run(dialogue())
    assert (paused, reading, len(headers)) == (True, True, MAX_QUEUED + 10)


def test_over_tcp_what_gets_no_answer_is_acknowledged_at_once():
    """Postfix's smtpd sends CONNECT to RCPT unanswered, then its cleanup sends end of message on the same
    socket: Nagle holds that until the first is acknowledged, so a delayed ACK cost every message 40 ms."""
    with socket.create_server(("127.0.0.1", 0)) as server, \
            socket.create_connection(server.getsockname()) as mta:
        sock, _ = server.accept()
        with sock:
            async def dialogue():
                connection = MilterConnection(MilterHandler(MilterSettings(), Chain(load_plugins(Tag()))))
                transport = FakeTransport(sock)
                transport.protocol = connection
                connection.connection_made(transport)
                connection.data_received(wire([POSTFIX_OFFER]))
                sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_QUICKACK, 0)
                connection.data_received(wire(OPENING[1:]))
                return sock.getsockopt(socket.IPPROTO_TCP, socket.TCP_QUICKACK), transport
            quick_ack, transport = asyncio.run(dialogue())
    assert len(transport.writes) == 1 and transport.responses()[0].code == c.OptNeg.code
    assert quick_ack == 1
