"""filterd as a policy client, as Postfix's check_policy_service: a request over a connection kept for the next
one, and the server's action; when the server cannot be asked, the service's default action.

A service's settings (filterd.policy.services) rule it: timeout (to connect, send, receive), max_idle (an unused
connection is closed), max_ttl (a connection is not used past this age), request_limit (requests per connection,
0: no limit), try_limit (attempts per request), retry_delay (between attempts), default_action, policy_context.
Postfix's smtpd has one session at a time, so one connection; filterd serves many sessions at once, so a client
keeps as many connections as it has requests in flight, each reused as Postfix reuses its one.
"""

from __future__ import annotations

import asyncio
import errno
import os
import time

from filterd import maillog
from filterd.config import Config
from filterd.parameters.policy import POLICY_PARAMETERS
from filterd.policy.protocol import ProtocolError, Record, RecordReader, action_of, encode
from filterd.policy.requests import request_attributes
from filterd.policy.services import PREFIX, PolicyService, parse_endpoint, read_service

__all__ = ["PolicyClient", "PolicyClients", "PolicyService", "read_service", "request_attributes"]
"""What plugins use (as `filterd.policy_client`): read_service at start-up, PolicyClients' clients, the request."""

READ_SIZE = 4096


class Connection:
    """One connection to a policy server: its streams, its age and how many requests it carried."""

    def __init__(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter):
        self.reader, self.writer = reader, writer
        self.opened = time.monotonic()
        self.used = 0
        self.idle: asyncio.TimerHandle | None = None

    async def exchange(self, request: bytes) -> Record:
        """Send one request, read its reply."""
        self.writer.write(request)
        framing = RecordReader()
        while True:
            data = await self.reader.read(READ_SIZE)
            if not data:
                raise EOFError("lost connection")
            records = framing.feed(data)
            if records:
                self.used += 1
                return records[0]

    def close(self) -> None:
        if self.idle is not None:
            self.idle.cancel()
        self.writer.close()


class PolicyClient:
    """One policy service, asked over connections kept from request to request."""

    def __init__(self, service: PolicyService, queue_directory: str = "", log_service: str = "smtpd"):
        self.service = service
        self.where = parse_endpoint(service.endpoint, queue_directory)
        self.log_service = log_service
        self.idle: list[Connection] = []

    async def ask(self, attributes: Record) -> str:
        """The server's action on one request; after try_limit failed attempts, the default action. Each failure
        is logged as Postfix logs it, but for a first one that a stale connection explains (the server hung up)."""
        request = encode({**attributes, "policy_context": self.service.policy_context or
                          attributes.get("policy_context", "")})
        for attempt in range(self.service.try_limit):
            if attempt:
                await asyncio.sleep(self.service.retry_delay)
            try:
                return await asyncio.wait_for(self._exchange(request), self.service.timeout)
            except (OSError, EOFError, ProtocolError, asyncio.TimeoutError) as exc:
                if attempt or not _stale(exc):
                    maillog.warning(self.log_service, "problem talking to server %s: %s", self.service.address,
                                    _reason(exc))
        return self.service.default_action

    async def _exchange(self, request: bytes) -> str:
        """One request and its reply, on a kept connection or a new one; one that fails is closed."""
        connection = self._kept() or await self._connect()
        try:
            record = await connection.exchange(request)
            action = action_of(record)
        except BaseException:
            connection.close()
            raise
        self._keep(connection)
        return action

    def _kept(self) -> Connection | None:
        """An idle connection younger than max_ttl; older ones are closed on the way."""
        while self.idle:
            connection = self.idle.pop()
            if connection.idle is not None:
                connection.idle.cancel()
            if time.monotonic() - connection.opened < self.service.max_ttl:
                return connection
            connection.close()
        return None

    def _keep(self, connection: Connection) -> None:
        """Back to the idle ones, closed after max_idle unused; closed at once past request_limit."""
        if self.service.request_limit and connection.used >= self.service.request_limit:
            connection.close()
            return
        self.idle.append(connection)
        connection.idle = asyncio.get_running_loop().call_later(self.service.max_idle, self._expire, connection)

    def _expire(self, connection: Connection) -> None:
        if connection in self.idle:
            self.idle.remove(connection)
        connection.idle = None
        connection.close()

    async def _connect(self) -> Connection:
        host, port = self.where
        try:
            if port:
                return Connection(*await asyncio.open_connection(host, port))
            return Connection(*await asyncio.open_unix_connection(host))
        except OSError as exc:
            maillog.warning(self.log_service, "connect to %s: %s", self.service.address, _reason(exc))
            raise

    def close(self) -> None:
        """Close every kept connection: the next request opens another."""
        while self.idle:
            self.idle.pop().close()


class PolicyClients:
    """The clients of every policy service a configuration names, one each, made on first use."""

    def __init__(self, values: dict[str, str], queue_directory: str = "", log_service: str = "smtpd"):
        self.values = values
        self.queue_directory = queue_directory
        self.log_service = log_service
        self.clients: dict[tuple[str, tuple[tuple[str, str], ...]], PolicyClient] = {}

    @classmethod
    def from_config(cls, config: Config, log_service: str = "smtpd") -> PolicyClients:
        values = {name: config.get(name) for name in POLICY_PARAMETERS if name.startswith(PREFIX)}
        return cls(values, config.get("queue_directory"), log_service)

    def client(self, endpoint: str, overrides: dict[str, str]) -> PolicyClient:
        key = (endpoint, tuple(sorted(overrides.items())))
        if key not in self.clients:
            service = PolicyService.from_values(self.values, endpoint, overrides)
            self.clients[key] = PolicyClient(service, self.queue_directory, self.log_service)
        return self.clients[key]


def _stale(exc: BaseException) -> bool:
    """Does the failure say the kept connection was gone (Postfix retries those without a warning)?"""
    return isinstance(exc, EOFError) or (isinstance(exc, OSError) and exc.errno in STALE)


STALE = (errno.EPIPE, errno.ECONNRESET, errno.ENOENT)


def _reason(exc: BaseException) -> str:
    """Why a request failed, in the words of Postfix's warnings (strerror; a reply broken or missing is its
    "Application error")."""
    if isinstance(exc, asyncio.TimeoutError):
        return "Connection timed out"
    if isinstance(exc, (EOFError, ProtocolError)):
        return "Application error"
    if isinstance(exc, OSError) and exc.errno:
        return os.strerror(exc.errno)
    return str(exc) or type(exc).__name__
