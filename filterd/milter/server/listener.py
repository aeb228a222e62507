"""The milter listener on asyncio: bytes in through the sans-IO framing, each command to the connection's
MilterHandler, its responses out in one write per batch, on a socket with TCP_NODELAY (milters on loopback
TCP are latency-bound: a reply split over two sends waits for a delayed ACK). A read that needs no reply
(CONNECT to RCPT when no plugin decides there) is acknowledged at once with TCP_QUICKACK: Postfix's smtpd
sends those commands and its cleanup then sends end of message on the same socket, which Nagle holds
until the first is acknowledged; with the ACK delayed, every message waited 40 ms.

Every command that expects a reply gets one: an internal error is logged and answered with a temporary
failure, and a slow end of message sends SMFIR_PROGRESS so that the MTA does not time out.
"""

from __future__ import annotations

import asyncio
import inspect
import socket
from collections import deque
from typing import Callable, Coroutine, Iterator

from filterd import maillog
from filterd.chain import Chain
from filterd.milter.protocol import codes
from filterd.milter.protocol.framing import PacketReader, ProtocolError
from filterd.milter.protocol.packets import Packet
from filterd.milter.protocol.responses import DECISIONS, Progress
from filterd.milter.server.handler import Answer, MilterHandler, Responses, UnknownPacket
from filterd.milter.server.settings import MilterSettings
from filterd.network import no_delay, quick_ack

FLUSH_SIZE = 256 * 1024
"""Bytes of responses gathered before a write that does not wait for the end of the batch (body replacement)."""

MAX_QUEUED = 256
"""Packets waiting for the handler before the connection stops reading."""

ANSWERS = DECISIONS | {codes.OPTNEG}
PROGRESS = Progress().encode()


class MilterConnection(asyncio.Protocol):
    """One MTA connection. Packets are answered as they arrive, in order; only when a plugin has to be
    awaited does a task take over, and it hands back once the queue is answered."""

    def __init__(self, handler: MilterHandler, tcp: bool = True):
        self.handler = handler
        self.tcp = tcp
        self.service = handler.settings.service
        self.reader = PacketReader()
        self.inbox: deque[tuple[bytes, bytes]] = deque()
        self.transport: asyncio.Transport | None = None
        self.task: asyncio.Task | None = None
        self.closed = False
        self.reading_paused = False
        self._writable: asyncio.Future | None = None
        self._progress: asyncio.TimerHandle | None = None
        self._tcp: socket.socket | None = None

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        self.transport = transport  # type: ignore[assignment]
        self.loop = asyncio.get_running_loop()
        if self.tcp:
            self._tcp = no_delay(transport)

    def data_received(self, data: bytes) -> None:
        """Queue the packets that are now whole and answer them, unless a plugin is still being awaited; over
        TCP, acknowledge at once what got no answer."""
        try:
            self.inbox.extend(self.reader.feed(data))
        except ProtocolError as exc:
            self._give_up(exc)
            return
        if len(self.inbox) > MAX_QUEUED and not self.reading_paused:
            self.reading_paused = True
            self.transport.pause_reading()
        answered = self.task is None and self._answer_queued()
        if not answered and self._tcp is not None and not self.closed:
            quick_ack(self._tcp)

    def _give_up(self, exc: ProtocolError) -> None:
        """Input that is no milter protocol: logged, and the connection closed unanswered, as libmilter does (the
        session ends with the connection)."""
        maillog.warning(self.service, "%s: milter protocol error: %s", self.handler.session.client, exc)
        self.transport.close()

    def connection_lost(self, exc: Exception | None) -> None:
        self.closed = True
        self.resume_writing()
        if self.task is None:
            self._end_session()

    def pause_writing(self) -> None:
        self._writable = self.loop.create_future()

    def resume_writing(self) -> None:
        waiter, self._writable = self._writable, None
        if waiter is not None and not waiter.done():
            waiter.set_result(None)

    def _answer_queued(self) -> bool:
        """Answer the queued packets; all answers that need no waiting go out in one write. Was any?"""
        out, inbox, handler = bytearray(), self.inbox, self.handler
        while inbox and not handler.finished:
            code, payload = inbox.popleft()
            try:
                answer = handler.receive(code, payload)
            except UnknownPacket as exc:
                self._write(out)
                self._give_up(exc)
                return True
            except Exception as exc:
                answer = self._failed(code, exc)
            if not answer:
                continue
            if type(answer) is tuple or type(answer) is list:
                for response in answer:
                    out += response.encode()
                continue
            if not inspect.iscoroutine(answer):
                out, answer = self._gather(answer, code, out)
                if answer is None:
                    continue
            self._write(out)
            self.task = self.loop.create_task(self._answer_later(answer, code))
            return bool(out)
        wrote = bool(out)
        self._write(out)
        if self.reading_paused and len(inbox) <= MAX_QUEUED // 2:
            self.reading_paused = False
            self.transport.resume_reading()
        if handler.finished or self.closed:
            self.transport.close()
            self._end_session()
            return True
        return wrote

    async def _answer_later(self, answer: Answer, code: bytes) -> None:
        """Await a plugin's answer (or stream a long one), write it, then go on with the queue."""
        try:
            if inspect.iscoroutine(answer):
                answer = await self._awaited(answer, code)
            self._write(await self._stream(answer, code))
        except Exception:
            maillog.error(self.service, "%s: milter connection failed", self.handler.session.client, exc_info=True)
            self.transport.close()
        self.task = None
        self._answer_queued()

    async def _awaited(self, answer: Coroutine, code: bytes) -> Responses:
        """A plugin's answer; at end of message SMFIR_PROGRESS goes out while the chain works."""
        if code == codes.BODYEOB:
            self._progress = self.loop.call_later(self.handler.settings.progress_interval, self._send_progress)
        try:
            return await answer
        except Exception as exc:
            return self._failed(code, exc)
        finally:
            if self._progress is not None:
                self._progress.cancel()
                self._progress = None

    def _gather(self, answer: Responses, code: bytes, out: bytearray) -> tuple[bytearray, Iterator | None]:
        """Gather a generator's responses; past FLUSH_SIZE (a body replacement) the rest is left for a task."""
        answer, answered = iter(answer), False
        try:
            for response in answer:
                out += response.encode()
                answered = response.code in ANSWERS
                if len(out) >= FLUSH_SIZE:
                    return out, answer
        except Exception as exc:
            if not answered:
                out += b"".join(response.encode() for response in self._failed(code, exc))
        return out, None

    async def _stream(self, answer: Responses, code: bytes) -> bytearray:
        """Responses from a generator (end of message, a body replacement perhaps), written as they come."""
        out, answered = bytearray(), False
        try:
            for response in answer:
                out += response.encode()
                answered = response.code in ANSWERS
                if len(out) >= FLUSH_SIZE:
                    out = self._write(out)
                    if self._writable is not None:
                        await self._writable
        except Exception as exc:
            if not answered:
                out += b"".join(response.encode() for response in self._failed(code, exc))
        return out

    def _failed(self, code: bytes, exc: Exception) -> tuple[Packet, ...]:
        maillog.error(self.service, "%s: milter command %r failed: %s", self.handler.session.client, code, exc,
                      exc_info=not isinstance(exc, ProtocolError))
        return tuple(self.handler.fail(code))

    def _send_progress(self) -> None:
        if self.closed or self._progress is None:
            return
        self.transport.write(PROGRESS)
        self._progress = self.loop.call_later(self.handler.settings.progress_interval, self._send_progress)

    def _write(self, out: bytearray) -> bytearray:
        """Send what is gathered (one write); a fresh buffer for what follows."""
        if not out:
            return out
        if not self.closed:
            self.transport.write(out)
        return bytearray()

    def _end_session(self) -> None:
        """The MTA said QUIT or went away: end the session, running the disconnect hook if a plugin has one."""
        closing = self.handler.close()
        if closing is not None:
            self.loop.create_task(self._closing(closing))

    async def _closing(self, closing: Coroutine) -> None:
        try:
            await closing
        except Exception:
            maillog.error(self.service, "%s: disconnect failed", self.handler.session.client, exc_info=True)


async def serve_milter(sock: socket.socket, chain: Chain, settings: MilterSettings,
                       track: Callable[[Callable[[], MilterConnection]], Callable[[], MilterConnection]] = lambda f: f,
                       ) -> asyncio.AbstractServer:
    """Serve the milter protocol on a bound, listening socket (inet or unix); `track` wraps the connection factory
    (the worker counts its open sessions with it)."""
    loop = asyncio.get_running_loop()
    tcp = sock.family != socket.AF_UNIX

    def factory() -> MilterConnection:
        return MilterConnection(MilterHandler(settings, chain), tcp)

    if sock.family == socket.AF_UNIX:
        return await loop.create_unix_server(track(factory), sock=sock)
    return await loop.create_server(track(factory), sock=sock)
