"""A worker's side of anvil: one unix-socket connection per worker, shared by all its SMTP sessions.

Requests are pipelined (anvil answers in order, so each answer goes to the oldest request waiting); a disconnect
is sent without waiting for its answer. anvil is advisory, as it is for Postfix's smtpd: when it cannot be
reached, or does not answer in time, the session goes on unlimited and a warning says why.
"""

from __future__ import annotations

import asyncio
import time
from collections import deque

from filterd import maillog
from filterd.anvil.protocol import PROTOCOL, Counts, ProtocolError, RecordReader, event_rate, event_request, \
    connect_request, disconnect_request

REPLY_TIMEOUT = 10.0
"""How long a session waits for anvil's answer before it goes on without one."""
RETRY_DELAY = 1.0
"""After anvil could not be reached, sessions go on without asking it for this long (Postfix's try delay)."""


class AnvilStream(asyncio.Protocol):
    """The connection to anvil: requests written as they come, answers handed to the waiting futures in order."""

    def __init__(self, path: str, service: str):
        self.path, self.service = path, service
        self.reader = RecordReader()
        self.transport: asyncio.Transport | None = None
        self.announced = False
        self.waiting: deque[asyncio.Future | None] = deque()

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        self.transport = transport  # type: ignore[assignment]

    def send(self, request: bytes, answer: asyncio.Future | None) -> None:
        self.waiting.append(answer)
        self.transport.write(request)

    def data_received(self, data: bytes) -> None:
        try:
            records = self.reader.feed(data)
            for record in records:
                self._answer(record)
        except ProtocolError as exc:
            self._fail(f"problem talking to server {self.path}: {exc}")

    def _answer(self, record: dict[str, str]) -> None:
        if not self.announced:
            if record != PROTOCOL:
                raise ProtocolError(f"unexpected protocol announcement {record!r}")
            self.announced = True
            return
        if not self.waiting:
            raise ProtocolError("an answer to no request")
        answer = self.waiting.popleft()
        if answer is not None and not answer.done():
            answer.set_result(record)

    def _fail(self, warning: str) -> None:
        maillog.warning(self.service, "%s", warning)
        if self.transport is not None:
            self.transport.abort()

    def connection_lost(self, exc: Exception | None) -> None:
        self.transport = None
        while self.waiting:
            answer = self.waiting.popleft()
            if answer is not None and not answer.done():
                answer.set_exception(ConnectionResetError(f"problem talking to server {self.path}: "
                                                          "connection closed"))

    @property
    def open(self) -> bool:
        return self.transport is not None and not self.transport.is_closing()


class AnvilClient:
    """What a worker's sessions ask anvil: connect (the counts) and disconnect."""

    def __init__(self, path: str, service: str = "smtpd"):
        self.path, self.service = path, service
        self.stream: AnvilStream | None = None
        self.opening: asyncio.Future | None = None
        self.retry_at = 0.0

    async def connect(self, key: str) -> Counts | None:
        """Count a new connection of the (service, client) pair `key`; None when anvil gave no answer."""
        stream = await self._stream()
        if stream is None or not stream.open:
            return None
        answer = asyncio.get_running_loop().create_future()
        stream.send(connect_request(key), answer)
        try:
            return Counts.from_reply(await asyncio.wait_for(answer, REPLY_TIMEOUT))
        except asyncio.TimeoutError:
            maillog.warning(self.service, "problem talking to server %s: timeout", self.path)
            self.disconnect(key)
        except asyncio.CancelledError:
            self.disconnect(key)
            raise
        except (ConnectionError, ProtocolError) as exc:
            maillog.warning(self.service, "%s", exc)
        return None

    async def event(self, event: str, key: str) -> int | None:
        """Count an AUTH ("auth"), MAIL ("message") or RCPT ("recipient") of the (service, client) pair `key`: its
        rate; None when anvil gave no answer (the command goes ahead, as in Postfix)."""
        stream = await self._stream()
        if stream is None or not stream.open:
            return None
        answer = asyncio.get_running_loop().create_future()
        stream.send(event_request(event, key), answer)
        try:
            return event_rate(await asyncio.wait_for(answer, REPLY_TIMEOUT), event)
        except asyncio.TimeoutError:
            maillog.warning(self.service, "problem talking to server %s: timeout", self.path)
        except (ConnectionError, ProtocolError) as exc:
            maillog.warning(self.service, "%s", exc)
        return None

    def disconnect(self, key: str) -> None:
        """The connection counted by `connect` has ended; anvil's answer is not waited for."""
        if self.stream is not None and self.stream.open:
            self.stream.send(disconnect_request(key), None)

    async def _stream(self) -> AnvilStream | None:
        """The open connection to anvil, opened once for every session that asks meanwhile; None while anvil
        is out of reach."""
        if self.stream is not None and self.stream.open:
            return self.stream
        if self.opening is None or self.opening.done():
            if time.monotonic() < self.retry_at:
                return None
            self.opening = asyncio.ensure_future(self._open())
        return await asyncio.shield(self.opening)

    async def _open(self) -> AnvilStream | None:
        loop = asyncio.get_running_loop()
        try:
            _, stream = await loop.create_unix_connection(lambda: AnvilStream(self.path, self.service), self.path)
        except OSError as exc:
            maillog.warning(self.service, "connect to %s: %s", self.path, exc.strerror or exc)
            self.retry_at = time.monotonic() + RETRY_DELAY
            return None
        self.stream = stream
        return stream

    def close(self) -> None:
        if self.stream is not None and self.stream.transport is not None:
            self.stream.transport.close()
