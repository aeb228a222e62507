"""The policy listener on asyncio: bytes in through the sans-IO RecordReader, each request to the connection's
PolicyHandler, its action out. Requests are answered one at a time, in order, as Postfix sends them.

A request that breaks the protocol (or that the server fails on) is answered with nothing: a warning is logged
and the connection closed, as SMTPD_POLICY_README asks ("in case of trouble the policy server must not send a
reply"), and Postfix retries on a new connection. A connection idle for max_idle is closed, as is one that has
lived max_ttl or carried request_limit requests, once its last request is answered.
"""

from __future__ import annotations

import asyncio
import socket
import time
from collections import deque

from filterd import maillog
from filterd.chain import Chain
from filterd.policy.protocol import ProtocolError, Record, RecordReader, encode_reply
from filterd.policy.server.handler import PolicyHandler
from filterd.policy.server.settings import PolicySettings


class PolicyConnection(asyncio.Protocol):
    """One policy client's connection (an smtpd process of Postfix's)."""

    def __init__(self, handler: PolicyHandler, settings: PolicySettings):
        self.handler = handler
        self.settings = settings
        self.reader = RecordReader()
        self.inbox: deque[Record] = deque()
        self.transport: asyncio.Transport | None = None
        self.task: asyncio.Task | None = None
        self.answered = 0
        self.peer = "local"
        self._idle: asyncio.TimerHandle | None = None

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        self.transport = transport  # type: ignore[assignment]
        self.loop = asyncio.get_running_loop()
        self.born = time.monotonic()
        peer = transport.get_extra_info("peername")
        if isinstance(peer, tuple):
            self.peer = f"{peer[0]}:{peer[1]}"
        self._wait_idle()

    def data_received(self, data: bytes) -> None:
        try:
            self.inbox.extend(self.reader.feed(data))
        except ProtocolError as exc:
            self._refuse(exc)
            return
        if self.inbox and self.task is None:
            self._stop_idle()
            self.task = self.loop.create_task(self._serve())

    async def _serve(self) -> None:
        """Answer the requests waiting, in order; then wait idle, or close at a limit."""
        while self.inbox and not self.transport.is_closing():
            try:
                reply = await self.handler.answer(self.inbox.popleft())
            except ProtocolError as exc:
                self._refuse(exc)
                break
            except Exception as exc:
                maillog.error(self.settings.service, "policy request from %s failed: %s", self.peer, exc,
                              exc_info=True)
                self.transport.close()
                break
            self.transport.write(encode_reply(reply))
            self.answered += 1
        self.task = None
        if not self.transport.is_closing():
            self._close_at_limits()

    def _close_at_limits(self) -> None:
        limit = self.settings.request_limit
        if (limit and self.answered >= limit) or time.monotonic() - self.born >= self.settings.max_ttl:
            self.transport.close()
        elif not self.inbox:
            self._wait_idle()

    def _refuse(self, exc: ProtocolError) -> None:
        """A request Postfix would never send: no reply, a warning, the connection closed."""
        maillog.warning(self.settings.service, "malformed request from %s: %s; closing the connection",
                        self.peer, exc)
        self.inbox.clear()
        self.transport.close()

    def _wait_idle(self) -> None:
        self._stop_idle()
        self._idle = self.loop.call_later(self.settings.max_idle, self.transport.close)

    def _stop_idle(self) -> None:
        if self._idle is not None:
            self._idle.cancel()
            self._idle = None

    def connection_lost(self, exc: Exception | None) -> None:
        self._stop_idle()
        self.loop.create_task(self._closed(self.task))

    async def _closed(self, task: asyncio.Task | None) -> None:
        """The request in progress is cut, then the session ends."""
        if task is not None:
            task.cancel()
            await asyncio.gather(task, return_exceptions=True)
        try:
            await self.handler.close()
        except Exception:
            maillog.error(self.settings.service, "%s: disconnect failed", self.peer, exc_info=True)


async def serve_policy(sock: socket.socket, chain: Chain, settings: PolicySettings) -> asyncio.AbstractServer:
    """Serve the policy protocol on a bound, listening socket (inet or unix). Its connections are not counted for
    a stop that lets sessions finish: Postfix keeps them open for minutes, and retries a request that was cut."""
    loop = asyncio.get_running_loop()

    def factory() -> PolicyConnection:
        return PolicyConnection(PolicyHandler(chain, settings.service), settings)

    if sock.family == socket.AF_UNIX:
        return await loop.create_unix_server(factory, sock=sock)
    return await loop.create_server(factory, sock=sock)
