"""The SMTP handler's DATA path: what a message in DATA holds in memory while it arrives, and after."""

from __future__ import annotations

import asyncio
import gc
import tracemalloc
import weakref

from filterd.chain import Chain
from filterd.config import Config, parse_main_cf
from filterd.nexthop.sink import SinkNextHop
from filterd.parameters import CORE_PARAMETERS
from filterd.registry import Plugins
from filterd.smtp.handler import SmtpHandler
from filterd.smtp.limits import ConnectionGate, ConnectionLimits
from filterd.smtp.server import SmtpServer
from filterd.smtp.settings import SmtpSettings

MESSAGE_SIZE = 250 * 1024
PIECE = b"x" * 76 + b"\r\n"


def default_settings() -> SmtpSettings:
    """The SMTP settings of an empty main.cf."""
    return SmtpSettings.from_config(Config(parse_main_cf("", "main.cf"), CORE_PARAMETERS, "main.cf"))


async def held_while_receiving(handler: SmtpHandler) -> tuple[int, bytes]:
    """Bring a transaction into DATA, send MESSAGE_SIZE bytes of body: the most memory traced meanwhile, and
    the body as spooled."""
    await handler.on_connect()
    await handler.helo("client.example", extended=True)
    await handler.mail("a@example.org", [])
    await handler.rcpt("b@example.net", [])
    assert await handler.start_data() is None
    tracemalloc.start()
    try:
        await handler.content(b"Subject: big\r\n\r\n")
        for _ in range(MESSAGE_SIZE // len(PIECE)):
            await handler.content(PIECE)
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    return peak, b"".join(handler.txn.message.body_chunks())


def test_a_message_in_data_holds_at_most_a_small_buffer_in_memory(tmp_path):
    handler = SmtpHandler(default_settings(), Chain(Plugins.load([])), lambda: SinkNextHop(str(tmp_path)))
    peak, body = asyncio.run(held_while_receiving(handler))
    assert body.endswith(PIECE * (MESSAGE_SIZE // len(PIECE)))
    assert peak < 128 * 1024, f"{peak} bytes held for a {MESSAGE_SIZE}-byte message"


async def one_session_in_data(port: int, size: int) -> None:
    """A client that sends a message of `size` bytes and leaves."""
    reader, writer = await asyncio.open_connection("127.0.0.1", port)
    await reader.readline()
    for command in (b"EHLO client.example", b"MAIL FROM:<a@example.org>", b"RCPT TO:<b@example.net>", b"DATA"):
        writer.write(command + b"\r\n")
        while (await reader.readline())[3:4] == b"-":
            pass
    writer.write(b"Subject: big\r\n\r\n" + PIECE * (size // len(PIECE)) + b".\r\nQUIT\r\n")
    await reader.read()
    writer.close()
    await writer.wait_closed()


def test_nothing_of_a_session_outlives_it(tmp_path):
    """Sessions that have ended leave no object behind (their cycles collected), buffers and spool included."""
    async def run() -> tuple[int, list]:
        loop, made = asyncio.get_running_loop(), []
        gate = ConnectionGate(ConnectionLimits(), None, "mx.example")

        def factory() -> SmtpServer:
            handler = SmtpHandler(default_settings(), Chain(Plugins.load([])), lambda: SinkNextHop(str(tmp_path)))
            server = SmtpServer(handler, loop, gate)
            made.append(weakref.ref(server))
            return server
        listening = await loop.create_server(factory, "127.0.0.1", 0)
        port = listening.sockets[0].getsockname()[1]
        await one_session_in_data(port, 1000)
        gc.collect()
        tracemalloc.start()
        try:
            await asyncio.gather(*(one_session_in_data(port, MESSAGE_SIZE) for _ in range(20)))
            while gate.sessions or len(asyncio.all_tasks()) > 1:
                await asyncio.sleep(0.01)
            gc.collect()
            left = tracemalloc.get_traced_memory()[0]
        finally:
            tracemalloc.stop()
        listening.close()
        return left, [ref for ref in made if ref() is not None]
    left, alive = asyncio.run(run())
    assert alive == []
    assert left < 256 * 1024, f"{left} bytes still held after 20 sessions of {MESSAGE_SIZE} bytes"
