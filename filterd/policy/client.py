"""filterd as a policy client, as Postfix's check_policy_service: a request of the attributes Postfix's smtpd
sends, over a connection kept for the next request, and the server's action; when the server cannot be asked,
smtpd_policy_service_default_action.

Postfix's smtpd_policy_service_* parameters rule it, each overridable per service without the prefix (as in
`check_policy_service { inet:host:port, timeout=10s, default_action=DUNNO }`): timeout (to connect, send, receive),
max_idle (an unused connection is closed), max_ttl (a connection is not used past this age), request_limit
(requests per connection, 0: no limit), try_limit (attempts per request), retry_delay (between attempts),
default_action, policy_context (sent with every request).
"""

from __future__ import annotations

import asyncio
import errno
import os
import time
from dataclasses import dataclass
from typing import Mapping

from filterd import __version__, maillog
from filterd.config import Config
from filterd.model import Envelope, Session
from filterd.parameters.policy import POLICY_PARAMETERS
from filterd.policy.protocol import REQUEST, ProtocolError, Record, RecordReader, action_of, encode

PREFIX = "smtpd_policy_service_"
READ_SIZE = 4096


@dataclass(frozen=True)
class PolicyService:
    """One policy server and the settings filterd asks it with."""

    endpoint: str
    timeout: float = 100.0
    max_idle: float = 300.0
    max_ttl: float = 1000.0
    request_limit: int = 0
    try_limit: int = 2
    retry_delay: float = 1.0
    default_action: str = "451 4.3.5 Server configuration problem"
    policy_context: str = ""

    @classmethod
    def from_config(cls, config: Config, endpoint: str, overrides: Mapping[str, str] | None = None) -> PolicyService:
        """main.cf's smtpd_policy_service_* with this service's own settings (names without the prefix) over them;
        a bad endpoint or setting is a ConfigError."""
        values = {name: config.get(name) for name in POLICY_PARAMETERS if name.startswith(PREFIX)}
        values.update({PREFIX + name: value for name, value in (overrides or {}).items()})
        own = Config([], POLICY_PARAMETERS, f"check_policy_service {endpoint}", values)
        try:
            parse_endpoint(endpoint, config.get("queue_directory"))
        except ValueError as exc:
            raise own.error(PREFIX + "timeout", str(exc)) from None
        return cls(endpoint, own.time(PREFIX + "timeout"), own.time(PREFIX + "max_idle"),
                   own.time(PREFIX + "max_ttl"), own.int(PREFIX + "request_limit"),
                   max(1, own.int(PREFIX + "try_limit")), own.time(PREFIX + "retry_delay"),
                   own.get(PREFIX + "default_action"), own.get(PREFIX + "policy_context"))

    @property
    def address(self) -> str:
        """The server as Postfix's warnings name it: HOST:PORT, or the socket's path."""
        return self.endpoint.partition(":")[2]


def parse_endpoint(endpoint: str, queue_directory: str = "") -> tuple[str, int]:
    """inet:HOST:PORT as (host, port), unix:PATH (local:PATH) as (path, 0), a relative path under the queue
    directory, as Postfix's `unix:private/policy`; ValueError when malformed."""
    kind, sep, rest = endpoint.partition(":")
    if kind in ("unix", "local") and rest:
        return os.path.join(queue_directory, rest), 0
    host, sep2, port = rest.rpartition(":")
    if kind == "inet" and sep and sep2 and host and port.isdigit() and 0 < int(port) < 65536:
        return host.strip("[]"), int(port)
    raise ValueError(f'bad policy service "{endpoint}": expected inet:HOST:PORT or unix:PATH')


def request_attributes(session: Session, envelope: Envelope | None, state: str, recipient: str = "",
                       context: str = "") -> Record:
    """The request Postfix's smtpd sends at `state`, its attributes in Postfix's order; those filterd does not
    know are sent empty, as Postfix sends what it does not have."""
    envelope = envelope or Envelope()
    sender = envelope.sender or ""
    count = len(envelope.recipients) if state in ("DATA", "END-OF-MESSAGE") else 0
    if not recipient and state in ("DATA", "END-OF-MESSAGE") and len(envelope.recipients) == 1:
        recipient = envelope.recipients[0]
    size = next((option[5:] for option in envelope.mail_options if option.upper().startswith("SIZE=")), "0")
    return {
        "request": REQUEST, "protocol_state": state, "protocol_name": session.protocol, "helo_name": session.helo,
        "queue_id": envelope.queue_id, "sender": sender, "recipient": recipient, "recipient_count": str(count),
        "client_address": session.client_address, "client_name": session.client_name,
        "reverse_client_name": session.client_name, "instance": _instance(session, envelope),
        "sasl_method": "", "sasl_username": session.sasl_username, "sasl_sender": "", "size": size,
        "ccert_subject": "", "ccert_issuer": "", "ccert_fingerprint": "", "encryption_protocol": "",
        "encryption_cipher": "", "encryption_keysize": "0", "etrn_domain": "", "stress": "",
        "ccert_pubkey_fingerprint": "", "client_port": str(session.client_port), "policy_context": context,
        "server_address": "", "server_port": "0", "compatibility_level": "", "mail_version": __version__,
    }


def _instance(session: Session, envelope: Envelope) -> str:
    """What ties the requests about one message together, as Postfix's pid.seconds.microseconds.count."""
    return f"{os.getpid():x}.{id(session):x}.{int(envelope.arrival * 1e6):x}"


class PolicyClient:
    """One policy service's connection, reused from request to request as Postfix's smtpd reuses it; requests
    wait for each other (the protocol has one request in flight)."""

    def __init__(self, service: PolicyService, queue_directory: str = "", log_service: str = "smtpd"):
        self.service = service
        self.where = parse_endpoint(service.endpoint, queue_directory)
        self.log_service = log_service
        self.lock = asyncio.Lock()
        self.reader: asyncio.StreamReader | None = None
        self.writer: asyncio.StreamWriter | None = None
        self.opened = 0.0
        self.used = 0
        self._idle: asyncio.TimerHandle | None = None

    async def ask(self, attributes: Record) -> str:
        """The server's action on one request; after try_limit failed attempts, the default action. Each failure
        is logged as Postfix logs it, but for a first one that a stale connection explains (the server hung up)."""
        request = encode({**attributes, "policy_context": self.service.policy_context or
                          attributes.get("policy_context", "")})
        async with self.lock:
            for attempt in range(self.service.try_limit):
                if attempt:
                    await asyncio.sleep(self.service.retry_delay)
                try:
                    return await asyncio.wait_for(self._exchange(request), self.service.timeout)
                except (OSError, EOFError, ProtocolError, asyncio.TimeoutError) as exc:
                    self.close()
                    if attempt or not _stale(exc):
                        maillog.warning(self.log_service, "problem talking to server %s: %s",
                                        self.service.address, _reason(exc))
        return self.service.default_action

    async def _exchange(self, request: bytes) -> str:
        """One request and its reply, on the connection kept or a new one."""
        self._stop_idle()
        if self.writer is None or time.monotonic() - self.opened >= self.service.max_ttl:
            self.close()
            await self._connect()
        self.writer.write(request)
        record = await self._reply()
        self.used += 1
        if self.service.request_limit and self.used >= self.service.request_limit:
            self.close()
        else:
            self._idle = asyncio.get_running_loop().call_later(self.service.max_idle, self.close)
        return action_of(record)

    async def _connect(self) -> None:
        host, port = self.where
        try:
            if port:
                self.reader, self.writer = await asyncio.open_connection(host, port)
            else:
                self.reader, self.writer = await asyncio.open_unix_connection(host)
        except OSError as exc:
            maillog.warning(self.log_service, "connect to %s: %s", self.service.address, _reason(exc))
            raise
        self.opened, self.used = time.monotonic(), 0

    async def _reply(self) -> Record:
        framing = RecordReader()
        while True:
            data = await self.reader.read(READ_SIZE)
            if not data:
                raise EOFError("lost connection")
            records = framing.feed(data)
            if records:
                return records[0]

    def _stop_idle(self) -> None:
        if self._idle is not None:
            self._idle.cancel()
            self._idle = None

    def close(self) -> None:
        """Close the connection, if there is one: the next request opens another."""
        self._stop_idle()
        if self.writer is not None:
            self.writer.close()
        self.reader = self.writer = None


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
