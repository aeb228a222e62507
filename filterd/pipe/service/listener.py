"""The pipe service on asyncio: one message a connection, read through the sans-IO RequestReader into a spool
file (memory does not grow with the message), filtered as `filterd pipe` filters it, and the exit status with
its text sent back. A request that breaks the protocol, or a client that falls silent for the timeout, is
logged and the connection closed without an answer: the client exits 75 and pipe(8) defers."""

from __future__ import annotations

import asyncio
import socket
import tempfile
from dataclasses import dataclass

from filterd import maillog
from filterd.chain import Chain
from filterd.config import Config
from filterd.pipe.filtering import Reinjection, filter_message
from filterd.pipe.protocol import Content, ProtocolError, Request, RequestReader, encode_reply

SERVICE = "pipe"
READ_SIZE = 65536


@dataclass
class PipeSettings:
    """What the service needs besides the chain: where accepted mail goes, the spool's memory, the timeout."""

    reinjection: Reinjection
    memory: int
    timeout: float

    @classmethod
    def from_config(cls, config: Config) -> PipeSettings:
        return cls(Reinjection.from_config(config, keep=True), config.size("filterd_spool_memory_limit"),
                   config.time("filterd_pipe_service_timeout"))


class PipeSession:
    """One client's connection: its request, spooled, then filtered and answered."""

    def __init__(self, chain: Chain, settings: PipeSettings, reader: asyncio.StreamReader,
                 writer: asyncio.StreamWriter):
        self.chain, self.settings, self.reader, self.writer = chain, settings, reader, writer
        self.peer = _peer(writer)
        self.request: Request | None = None
        self.received = self.content = 0

    async def serve(self) -> None:
        """Receive the request, filter it, answer; a request that breaks off or breaks the protocol is logged and
        left unanswered, so that the client defers."""
        with tempfile.SpooledTemporaryFile(max_size=self.settings.memory) as spool:
            try:
                request = await self._receive(spool)
            except ProtocolError as exc:
                maillog.warning(SERVICE, "malformed request from %s: %s; closing the connection", self.peer, exc)
                return
            except (asyncio.TimeoutError, ConnectionError) as exc:
                maillog.warning(SERVICE, "%s after %s from %s", _lost(exc), self._stage(), self.peer)
                return
            spool.seek(0)
            status, text = await filter_message(self.chain, self.settings.reinjection, request.sender,
                                                list(request.recipients), spool, self.settings.memory)
        self.writer.write(encode_reply(status, text))
        await self.writer.drain()

    async def _receive(self, spool) -> Request:
        """The envelope, with the message written to spool; ProtocolError for bytes out of protocol."""
        decoder = RequestReader()
        while not decoder.done:
            data = await asyncio.wait_for(self.reader.read(READ_SIZE), self.settings.timeout)
            if not data:
                raise ConnectionResetError("lost connection")
            self.received += len(data)
            for event in decoder.feed(data):
                if isinstance(event, Request):
                    self.request = event
                elif isinstance(event, Content):
                    self.content += len(event.data)
                    spool.write(event.data)
        return self.request

    def _stage(self) -> str:
        """Where the request stopped, in the words of Postfix's smtpd: CONNECT, RCPT, DATA (N bytes)."""
        if self.request is not None:
            return f"DATA ({self.content} bytes)"
        return "RCPT" if self.received else "CONNECT"


def _lost(exc: Exception) -> str:
    return "timeout" if isinstance(exc, asyncio.TimeoutError) else "lost connection"


def _peer(writer: asyncio.StreamWriter) -> str:
    peer = writer.get_extra_info("peername")
    return f"{peer[0]}:{peer[1]}" if isinstance(peer, tuple) else "local"


async def serve_pipe(sock: socket.socket, chain: Chain, settings: PipeSettings) -> asyncio.AbstractServer:
    """Serve the pipe protocol on a bound, listening socket (inet or unix)."""

    async def session(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        try:
            await PipeSession(chain, settings, reader, writer).serve()
        except ConnectionError as exc:
            maillog.warning(SERVICE, "lost connection with %s: %s", _peer(writer), exc)
        finally:
            writer.close()

    start = asyncio.start_unix_server if sock.family == socket.AF_UNIX else asyncio.start_server
    return await start(session, sock=sock, limit=READ_SIZE)
