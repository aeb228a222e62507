"""A worker's connection to Dovecot's auth service, shared by all its SMTP sessions (as one Postfix smtpd process
keeps one), opened when a session first needs it and reopened after it is lost.

Requests carry ids, so sessions authenticate at once over the one connection: each reply goes to the request
with its id.
"""

from __future__ import annotations

import asyncio
import os

from filterd.sasl.dovecot_protocol import MAX_LINE, AuthRequest, Handshake, ProtocolError, Reply, \
    continue_request, hello, parse_reply


class AuthUnavailable(Exception):
    """Dovecot's auth service cannot be reached or broke the protocol; the text says why, in Postfix's words."""


def socket_address(path: str, queue_directory: str) -> tuple[str, int] | str:
    """smtpd_sasl_path as Postfix's dovecot client reads it: inet:HOST:PORT, or a unix socket, a relative path
    being under the queue directory (where Postfix's smtpd runs)."""
    if path.startswith("inet:"):
        host, _, port = path[5:].rpartition(":")
        return host.strip("[]"), int(port)
    return path if path.startswith("/") else os.path.join(queue_directory, path)


class _AuthStream(asyncio.Protocol):
    """The open connection: lines in, the handshake first, then each reply to the future waiting on its id."""

    def __init__(self) -> None:
        self.transport: asyncio.Transport | None = None
        self.buffer = b""
        self.handshake = Handshake()
        self.handshaken: asyncio.Future[Handshake] = asyncio.get_running_loop().create_future()
        self.waiting: dict[int, asyncio.Future[Reply]] = {}

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        self.transport = transport  # type: ignore[assignment]
        transport.write(hello(os.getpid()))  # type: ignore[attr-defined]

    def data_received(self, data: bytes) -> None:
        self.buffer += data
        try:
            while b"\n" in self.buffer:
                line, self.buffer = self.buffer.split(b"\n", 1)
                self._line(line.decode("utf-8", "replace"))
            if len(self.buffer) > MAX_LINE:
                raise ProtocolError("Protocol error")
        except ProtocolError as exc:
            self._close(AuthUnavailable(str(exc)))

    def _line(self, line: str) -> None:
        if not self.handshaken.done():
            self.handshake.feed_line(line)
            if self.handshake.done:
                self.handshaken.set_result(self.handshake)
            return
        reply = parse_reply(line)
        waiting = self.waiting.pop(reply.request_id, None) if reply is not None else None
        if waiting is not None and not waiting.done():
            waiting.set_result(reply)

    def send(self, request_id: int, request: bytes) -> asyncio.Future[Reply]:
        answer = asyncio.get_running_loop().create_future()
        self.waiting[request_id] = answer
        self.transport.write(request)  # type: ignore[union-attr]
        return answer

    def _close(self, error: Exception) -> None:
        if self.transport is not None:
            self.transport.abort()
        self._fail(error)

    def _fail(self, error: Exception) -> None:
        if not self.handshaken.done():
            self.handshaken.set_exception(error)
        for answer in self.waiting.values():
            if not answer.done():
                answer.set_exception(error)
        self.waiting.clear()

    def connection_lost(self, exc: Exception | None) -> None:
        self.transport = None
        self._fail(AuthUnavailable("Connection lost to authentication server"))

    @property
    def open(self) -> bool:
        return self.transport is not None and not self.transport.is_closing()


class DovecotAuth:
    """What a worker's sessions ask Dovecot: its mechanisms, and authentications, step by step."""

    def __init__(self, path: str, queue_directory: str = "", connect_timeout: float = 10.0):
        self.path = path
        self.address = socket_address(path, queue_directory)
        self.connect_timeout = connect_timeout
        self.stream: _AuthStream | None = None
        self.connecting: asyncio.Lock | None = None
        self.last_id = 0

    async def mechanisms(self) -> dict[str, frozenset[str]]:
        """The server's mechanisms with their flags; AuthUnavailable when it cannot be reached."""
        stream = await self._stream()
        return stream.handshake.mechanisms

    async def start(self, request: AuthRequest) -> Reply:
        """Send an AUTH request (its id from next_id()) and wait for the server's first reply."""
        stream = await self._stream()
        return await stream.send(request.request_id, request.encode())

    async def step(self, request_id: int, response: str) -> Reply:
        """Send the client's response to a challenge and wait for the next reply."""
        if self.stream is None or not self.stream.open:
            raise AuthUnavailable("Connection lost to authentication server")
        return await self.stream.send(request_id, continue_request(request_id, response))

    def next_id(self) -> int:
        self.last_id += 1
        return self.last_id

    async def _stream(self) -> _AuthStream:
        self.connecting = self.connecting or asyncio.Lock()
        async with self.connecting:
            if self.stream is None or not self.stream.open:
                self.stream = await self._connect()
            return self.stream

    async def _connect(self) -> _AuthStream:
        loop = asyncio.get_running_loop()
        try:
            async with asyncio.timeout(self.connect_timeout):
                if isinstance(self.address, tuple):
                    _, stream = await loop.create_connection(_AuthStream, *self.address)
                else:
                    _, stream = await loop.create_unix_connection(_AuthStream, self.address)
                await stream.handshaken
        except (OSError, TimeoutError) as exc:
            reason = os.strerror(exc.errno) if isinstance(exc, OSError) and exc.errno else str(exc) or "timed out"
            raise AuthUnavailable(f"Connect to Dovecot auth socket '{self.path}' failed: {reason}") from None
        return stream

    def close(self) -> None:
        if self.stream is not None and self.stream.transport is not None:
            self.stream.transport.close()
