"""One external milter for one SMTP session, on asyncio: the socket, Postfix's timeouts and warnings, and the
MTA side of the protocol (filterd.milter.client.dialogue) doing the deciding.

Commands that expect no reply wait in a buffer and leave with the next one that does (as Postfix's
buffered stream does), so the events a milter negotiated away cost no extra write; TCP_NODELAY keeps each
write from waiting for a delayed ACK, and TCP_QUICKACK keeps the milter from waiting for ours. Every
failure (refused, timed out, hung up, broken protocol) is logged in Postfix's words and turns the milter
into its default action for the rest of the session.
"""

from __future__ import annotations

import asyncio
import errno
import os
import socket
from collections import deque

from filterd import maillog
from filterd.content import Header
from filterd.milter.client.answers import ModificationRequests
from filterd.milter.client.dialogue import SMFIC, Decision, MilterDialogue, MilterError, Protocol, State
from filterd.milter.client.endpoints import MilterSpec
from filterd.milter.client.symbols import Context, MacroSettings, macros
from filterd.milter.protocol import codes
from filterd.milter.protocol import commands as cmd
from filterd.milter.protocol.codes import Steps
from filterd.milter.protocol.framing import PacketReader, ProtocolError
from filterd.milter.protocol.headers import from_header
from filterd.milter.protocol.packets import Packet
from filterd.model import Message
from filterd.network import no_delay, quick_ack
from filterd.verdict import Edit

READ_SIZE = 65536
FAILURES = (OSError, EOFError, TimeoutError, ProtocolError, MilterError)


def reason(error: BaseException) -> str:
    """The %m of Postfix's warnings. At end of file Postfix prints errno, which is then 0: "Success"."""
    if isinstance(error, TimeoutError):
        return os.strerror(errno.ETIMEDOUT)
    if isinstance(error, EOFError):
        return "Success"
    if isinstance(error, OSError):
        return os.strerror(error.errno) if error.errno else str(error)
    return str(error)


class MilterClient:
    """The dialogue with one milter: connect and negotiate, send events, read what the milter answers."""

    def __init__(self, spec: MilterSpec, symbols: MacroSettings, service: str = "smtpd"):
        self.spec = spec
        self.symbols = symbols
        self.service = service
        self.dialogue = MilterDialogue(Protocol.parse(spec.protocol), spec.default_action)
        self.reader: asyncio.StreamReader | None = None
        self.writer: asyncio.StreamWriter | None = None
        self.packets = PacketReader()
        self.inbox: deque[tuple[bytes, bytes]] = deque()
        self.pending = bytearray()
        self._tcp: socket.socket | None = None

    @property
    def leading_space(self) -> bool:
        """Did the milter ask for header values with their leading space (SMFIP_HDR_LEADSPC)?"""
        return self.dialogue.negotiated.has(Steps.HDR_LEADSPC)

    # --- events ---------------------------------------------------------------------------

    async def connect(self, command: cmd.Connect, context: Context) -> str | None:
        """Open the connection, negotiate, and report the SMTP client (SMFIC_CONNECT)."""
        if not await self._open():
            return self.dialogue.def_reply
        return await self.event(codes.CONNECT, command, context)

    async def event(self, event: bytes, command: Packet, context: Context) -> str | None:
        """An envelope event (CONNECT, HELO, MAIL, RCPT, DATA, UNKNOWN) and the milter's reply."""
        if not self.dialogue.accepts(event):
            return self.dialogue.def_reply
        return await self._guarded(event, self._exchange(event, command, context, self.spec.command_timeout,
                                                         flush=False))

    async def message(self, message: Message, hidden: Header | None, context: Context) -> tuple[str | None, list[Edit]]:
        """Headers (all but `hidden`), end of headers, body and end of message; the reply and the edits asked for."""
        if not self.dialogue.begin_message():
            return self.dialogue.def_reply, []
        requests = ModificationRequests(message.headers, hidden, self.leading_space)
        try:
            reply = await self._guarded(codes.BODYEOB, self._content(message, hidden, context, requests))
        finally:
            self.dialogue.end_message()
        return reply, requests.finish()

    async def abort(self) -> None:
        """The transaction ended without an end of message (RSET, a new MAIL)."""
        data = self.dialogue.abort()
        if data:
            self.pending += data
            await self._guarded(codes.ABORT, self._flush(self.spec.command_timeout))

    async def quit(self) -> None:
        """The SMTP session is over: SMFIC_QUIT if the milter still listens, then hang up."""
        data = self.dialogue.quit()
        if data and self.writer is not None:
            self.pending += data
            try:
                await self._flush(self.spec.command_timeout)
            except FAILURES:
                pass
        self.close()

    def close(self) -> None:
        """Hang up (Postfix closes the socket after a failure, and after the milter accepted or refused the
        connection)."""
        self.pending.clear()
        if self.writer is not None:
            self.writer.close()
            self.writer = self.reader = None

    # --- the protocol on the socket --------------------------------------------------------

    async def _open(self) -> bool:
        try:
            async with asyncio.timeout(self.spec.connect_timeout):
                self.reader, self.writer = await self._dial()
        except (OSError, TimeoutError) as error:
            maillog.warning(self.service, "connect to Milter service %s: %s", self.spec.name, reason(error))
            self.dialogue.fail()
            return False
        self._tcp = no_delay(self.writer.transport)
        return await self._handshake()

    async def _dial(self) -> tuple[asyncio.StreamReader, asyncio.StreamWriter]:
        if self.spec.transport == "inet":
            return await asyncio.open_connection(*self.spec.inet_address())
        return await asyncio.open_unix_connection(self.spec.unix_path())

    async def _handshake(self) -> bool:
        self.pending += self.dialogue.offer().encode()
        try:
            await self._flush(self.spec.command_timeout)
        except FAILURES as error:
            self._failed(codes.OPTNEG, error, "write error in initial handshake")
            return False
        try:
            self.dialogue.handshake(*await self._next_packet(codes.OPTNEG, self.spec.command_timeout))
        except FAILURES as error:
            self._failed(codes.OPTNEG, error, "read error in initial handshake")
            return False
        return True

    async def _guarded(self, event: bytes, work) -> str | None:
        """Run one exchange; a failure logs Postfix's warning and yields the default action's reply."""
        try:
            return await work
        except FAILURES as error:
            return self._failed(event, error)
        except asyncio.CancelledError:
            self.dialogue.fail()
            self.close()
            raise

    def _failed(self, event: bytes, error: BaseException, then: str = "") -> str | None:
        name = self.spec.name
        if isinstance(error, MilterError | ProtocolError):
            maillog.warning(self.service, "milter %s: %s", name, error)
        elif isinstance(error, _WriteError):
            maillog.warning(self.service, "milter %s: error writing command: %s", name, reason(error.__cause__))
        else:
            maillog.warning(self.service, "milter %s: can't read %s reply packet header: %s", name,
                            SMFIC.get(event, "(unknown MTA event)"), reason(error))
        if then and not isinstance(error, MilterError | ProtocolError):
            maillog.warning(self.service, "milter %s: %s", name, then)
        self.close()
        return self.dialogue.fail(conf=getattr(error, "conf", False))

    async def _exchange(self, event: bytes, command: Packet, context: Context, timeout: float,
                        requests: ModificationRequests | None = None, flush: bool = True) -> str | None:
        request = self.dialogue.request(event, command, macros(event, context, self.symbols, self.dialogue.macro_lists))
        if request is None:
            return self.dialogue.def_reply
        self.pending += request.data
        if request.expects_reply or flush:
            await self._flush(timeout)
        if not request.expects_reply:
            return self.dialogue.def_reply
        return await self._answer(event, timeout, requests)

    async def _answer(self, event: bytes, timeout: float, requests: ModificationRequests | None) -> str | None:
        while True:
            result = self.dialogue.response(*await self._next_packet(event, timeout))
            if isinstance(result, Decision):
                if result.warning:
                    maillog.warning(self.service, "milter %s: %s", self.spec.name, result.warning)
                if self.dialogue.state in (State.ACCEPT_CON, State.REJECT_CON):
                    self.close()
                return result.reply
            if result is not None and requests is not None:
                requests.add(result)

    async def _content(self, message: Message, hidden: Header | None, context: Context,
                       requests: ModificationRequests) -> str | None:
        timeout, dialogue = self.spec.content_timeout, self.dialogue
        if dialogue.negotiated.sends(codes.HEADER):
            for header in message.headers:
                if header is hidden:
                    continue
                command = cmd.Header(*from_header(header, self.leading_space))
                reply = await self._exchange(codes.HEADER, command, context, timeout, flush=False)
                if dialogue.message_done(reply):
                    return reply
        if dialogue.negotiated.sends(codes.EOH):
            reply = await self._exchange(codes.EOH, cmd.EndOfHeaders(), context, timeout, flush=False)
            if dialogue.message_done(reply):
                return reply
        return await self._body(message, context, requests)

    async def _body(self, message: Message, context: Context, requests: ModificationRequests) -> str | None:
        timeout, dialogue, reply = self.spec.content_timeout, self.dialogue, None
        if dialogue.negotiated.sends(codes.BODY):
            for chunk in message.body_chunks(codes.CHUNK_SIZE):
                reply = await self._exchange(codes.BODY, cmd.Body(chunk), context, timeout, flush=False)
                if dialogue.message_done(reply) or dialogue.skip_event == codes.BODY:
                    break
            if dialogue.message_done(reply):
                return reply
        return await self._exchange(codes.BODYEOB, cmd.EndOfBody(), context, timeout, requests)

    def _quick_ack(self) -> None:
        """ACK what arrives at once: libmilter writes each modification and the decision apart, and with Nagle
        on its side the decision would wait for our delayed ACK of the modification (40 ms on Linux)."""
        if self._tcp is not None:
            quick_ack(self._tcp)

    async def _flush(self, timeout: float) -> None:
        if not self.pending:
            return
        if self.writer is None:
            raise _WriteError() from BrokenPipeError(errno.EPIPE, os.strerror(errno.EPIPE))
        data, self.pending = bytes(self.pending), bytearray()
        try:
            self.writer.write(data)
            async with asyncio.timeout(timeout):
                await self.writer.drain()
        except (OSError, TimeoutError) as error:
            raise _WriteError() from error

    async def _next_packet(self, event: bytes, timeout: float) -> tuple[bytes, bytes]:
        while not self.inbox:
            if self.reader is None:
                raise EOFError
            self._quick_ack()
            async with asyncio.timeout(timeout):
                data = await self.reader.read(READ_SIZE)
            if not data:
                raise EOFError
            self.inbox.extend(self.packets.feed(data))
        return self.inbox.popleft()


class _WriteError(OSError):
    """Writing a command failed; the cause says why."""
