"""The BDAT command on a fake transport: a chunk read in pieces, never held whole."""

import asyncio
import dataclasses
import tracemalloc

from filterd.chain import Chain
from filterd.handoff import Reply
from filterd.smtp.bdat import CHUNK_READ, read_chunk
from filterd.smtp.ehlo import discards
from filterd.smtp.handler import SmtpHandler
from filterd.smtp.server import SmtpServer
from filterd.testing import load_plugins
from tests.fixtures.smtp_session import SETTINGS, RecordingNextHop, Wire, run_session


def test_a_chunk_is_read_in_pieces_and_what_follows_it_is_left_for_the_next_command():
    async def read() -> tuple[list[int], bytes]:
        reader, pieces = asyncio.StreamReader(), []
        reader.feed_data(b"x" * 300_000 + b"QUIT\r\n")

        async def sink(data: bytes) -> None:
            pieces.append(len(data))

        await read_chunk(reader, 300_000, lambda: None, sink)
        return pieces, await reader.readline()

    pieces, rest = asyncio.run(read())
    assert sum(pieces) == 300_000 and max(pieces) <= CHUNK_READ and len(pieces) > 1
    assert rest == b"QUIT\r\n"


def test_a_big_chunk_never_sits_in_memory():
    """A 4 MB chunk goes through the session (decoder, parser, spool) with well under 1 MB held at any time."""
    size, piece = 4 * 1024 * 1024, (b"x" * 78 + b"\r\n") * 820

    class SizeOnly(RecordingNextHop):
        async def deliver(self, message, routing) -> Reply:
            self.delivered.append(sum(len(chunk) for chunk in message.chunks()))
            return Reply(250, "2.0.0 Ok: queued")

    async def session() -> tuple[int, list]:
        loop, delivered = asyncio.get_running_loop(), []
        handler = SmtpHandler(dataclasses.replace(SETTINGS, message_size_limit=0), Chain(load_plugins()),
                              lambda: SizeOnly(delivered))
        server, wire = SmtpServer(handler, loop), Wire(loop)
        wire.protocol = server
        server.connection_made(wire)
        server.data_received(f"EHLO c\r\nMAIL FROM:<a@b.example>\r\nRCPT TO:<c@d.example>\r\nBDAT {size} LAST\r\n"
                             .encode())
        tracemalloc.start()
        for start in range(0, size, len(piece)):
            server.data_received(piece[:size - start])
            for _ in range(1000):
                if not server._reader._buffer:
                    break
                await asyncio.sleep(0)
        peak = tracemalloc.get_traced_memory()[1]
        tracemalloc.stop()
        server.data_received(b"QUIT\r\n")
        for _ in range(200):
            await asyncio.sleep(0)
        return peak, delivered

    peak, delivered = asyncio.run(session())
    assert delivered and delivered[0] > size
    assert peak < 1024 * 1024


def test_replies_held_for_a_pipelined_group_go_out_before_the_server_waits_for_the_rest_of_a_chunk():
    """A client that pipelined MAIL, RCPT and the start of a chunk gets MAIL's and RCPT's replies while the server
    waits for the chunk's rest, as Postfix's smtpd flushes before it reads."""
    async def session() -> tuple[bytes, bytes]:
        loop = asyncio.get_running_loop()
        handler = SmtpHandler(SETTINGS, Chain(load_plugins()), lambda: RecordingNextHop([]))
        server, wire = SmtpServer(handler, loop), Wire(loop)
        wire.protocol = server
        server.connection_made(wire)
        server.data_received(b"EHLO c\r\n")
        for _ in range(50):
            await asyncio.sleep(0)
        server.data_received(b"MAIL FROM:<a@b.example>\r\nRCPT TO:<c@d.example>\r\nBDAT 10 LAST\r\nabc")
        for _ in range(200):
            await asyncio.sleep(0)
        waiting = bytes(wire.out)
        server.data_received(b"defghij")
        for _ in range(200):
            await asyncio.sleep(0)
        return waiting, bytes(wire.out)

    waiting, done = asyncio.run(session())
    assert waiting.endswith(b"250 2.1.0 Ok\r\n250 2.1.5 Ok\r\n")
    assert done.endswith(b"250 2.1.5 Ok\r\n250 2.0.0 Ok: queued\r\n")


def test_with_chunking_discarded_bdat_ends_the_session_unread():
    """smtpd_discard_ehlo_keywords = chunking: EHLO leaves CHUNKING out and BDAT is Postfix's 521, the session over
    before the chunk could be read as commands."""
    settings = dataclasses.replace(SETTINGS, ehlo_discards=discards("chunking"))
    out, delivered, ended = run_session(b"EHLO c\r\nMAIL FROM:<a@b.example>\r\nRCPT TO:<c@d.example>\r\n"
                                        b"BDAT 6 LAST\r\nNOOP\r\nQUIT\r\n", settings=settings)
    assert b"CHUNKING" not in out and ended and not delivered
    assert out.endswith(b"250 2.1.5 Ok\r\n521 5.5.1 Error: command not implemented\r\n")
