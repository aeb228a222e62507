"""The SMTP delivery agent (Postfix's smtp(8)): one transaction for up to N recipients of a destination.

Each recipient ends sent (2xx), deferred (4xx, or no connection) or bounced (5xx); the reason is
kept in Postfix's words: `host NAME[ADDR] said: 550 ... (in reply to RCPT TO command)`.
"""

from __future__ import annotations

import asyncio
import os
import socket
import time
from dataclasses import dataclass
from typing import Callable

import aiosmtplib

from filterd import maillog
from filterd.pipelining import pipelined
from filterd.qmgr.sasl_client import ClientSasl, SaslFailed
from filterd.qmgr.xforward import commands as xforward_commands
from filterd.connection_cache import CacheLimits, Connection, ConnectionCache, quit_politely
from filterd.queue.queuefile import QueueFile, Recipient
from filterd.smtp_data import DataEncoder, send_body
from filterd.tls import ClientTls

_ERRORS = (OSError, aiosmtplib.SMTPException, asyncio.TimeoutError)


@dataclass
class Timing:
    """Postfix's delays=a/b/c/d: c (connection set-up) and d (transmission) come from here."""

    connect: float = 0.0
    transmit: float = 0.0


@dataclass
class SmtpSettings:
    helo: str
    connect_timeout: float = 30.0
    command_timeout: float = 300.0
    data_timeout: float = 600.0
    line_length_limit: int = 998
    tls: ClientTls = ClientTls()
    helo_timeout: float = 300.0
    sasl: ClientSasl | None = None


class SmtpDelivery:
    """Delivers to one host at a time; a connection is QUIT when done, or kept in Postfix's connection cache
    when the queue manager says more mail for the next hop is waiting."""

    def __init__(self, settings: SmtpSettings, limits: CacheLimits = CacheLimits()):
        self.settings = settings
        self.cache = ConnectionCache(limits)

    async def deliver(self, qf: QueueFile, recipients: list[Recipient], host: tuple[str, str, int],
                      nexthop: str = "", keep: bool = False, send_xforward: bool = False,
                      completed: Callable[[], None] = lambda: None) -> Timing:
        """Try one host; sets each recipient's status and calls `completed` at once, before QUIT or anything else
        awaits, as Postfix's smtp(8) calls deliver_completed() on the end of DATA's reply. Raises ConnectionError
        when the host cannot be reached. With send_xforward, the message's original client goes first as XFORWARD,
        when the server offers it."""
        name, address, port = host
        relay, key = f"{name}[{address}]:{port}", (nexthop, address, port)
        timing, started = Timing(), time.monotonic()
        connection = await self._connection(key, name)
        timing.connect = time.monotonic() - started
        record = _once(completed)
        try:
            await self._transaction(connection.smtp, qf, recipients, relay, name, address, send_xforward, record)
        except _ERRORS as exc:
            connection.smtp.close()
            _set(recipients, "deferred", "4.4.2", f"lost connection with {name}[{address}] while sending message: "
                 f"{exc or type(exc).__name__}", relay, only_pending=True)
            record()
        else:
            try:
                record()
            finally:
                await self._release(connection, key, keep)
        timing.transmit = time.monotonic() - started - timing.connect
        return timing

    async def _release(self, connection: Connection, key: tuple[str, str, int], keep: bool) -> None:
        """A connection after a transaction: kept in the cache when asked and allowed, else QUIT."""
        connection.uses += 1
        if not (keep and self.cache.store(key, connection)):
            await quit_politely(connection.smtp, self.settings.command_timeout)

    async def _connection(self, key: tuple[str, str, int], name: str = "") -> Connection:
        """A cached connection that answers RSET, as Postfix checks one before reuse, else a new one."""
        while (cached := self.cache.take(key)) is not None:
            try:
                await asyncio.wait_for(cached.smtp.rset(), self.settings.command_timeout)
                return cached
            except _ERRORS:
                cached.smtp.close()
        _nexthop, address, port = key
        smtp = aiosmtplib.SMTP(timeout=self.settings.command_timeout, local_hostname=self.settings.helo,
                               start_tls=False)
        try:
            sock = await asyncio.wait_for(_tcp_connect(address, port), self.settings.connect_timeout)
            await smtp.connect(sock=sock, timeout=self.settings.helo_timeout)
            await smtp.ehlo(timeout=self.settings.helo_timeout)
            await self.settings.tls.start(smtp, name or address, address, port)
            if self.settings.sasl is not None:
                tls = smtp.transport is not None and smtp.transport.get_extra_info("ssl_object") is not None
                await self.settings.sasl.log_in(smtp, _nexthop, name or address, address, tls)
        except SaslFailed:
            smtp.close()
            raise
        except _ERRORS as exc:
            smtp.close()
            raise ConnectionError(_reason(exc)) from exc
        return Connection(smtp)

    async def _transaction(self, smtp, qf: QueueFile, recipients: list[Recipient], relay: str, name: str,
                           address: str, send_xforward: bool = False, record: Callable[[], None] = lambda: None
                           ) -> None:
        said = f"host {name}[{address}] said:"
        envelope = self._pipelined if smtp.supports_extension("pipelining") else self._one_by_one
        accepted, data = await envelope(smtp, qf, recipients, relay, said, send_xforward)
        if not accepted:
            if data is not None and data.code == 354:
                await smtp.execute_command(b".")
            await smtp.rset()
            return

        def outcome(reply, stage: str = "end of DATA") -> None:
            if reply.code == 250:
                _set(accepted, "sent", _dsn(reply), f"{reply.code} {_one_line(reply)}", relay)
            else:
                _refused(accepted, reply, stage, relay, said)
            record()

        outcome = _once(outcome)
        if data.code != 354:
            outcome(data, "DATA")
            await smtp.rset()
            return
        outcome(await self._send_content(smtp, qf, outcome))

    async def _one_by_one(self, smtp, qf: QueueFile, recipients: list[Recipient], relay: str, said: str,
                          send_xforward: bool):
        """The envelope a command at a time, to a server without PIPELINING: the recipients accepted, and the reply
        to DATA (None when it was not sent)."""
        stage, reply = "XFORWARD", await self._xforward(smtp, qf) if send_xforward else None
        if reply is None:
            stage, reply = "MAIL FROM", await smtp.execute_command(_wire(_mail_command(smtp, qf)))
        if reply.code != 250:
            _refused(recipients, reply, stage, relay, said)
            return [], None
        accepted = []
        for rcpt in recipients:
            if _recipient_accepted(rcpt, await smtp.execute_command(_wire(_rcpt_command(smtp, rcpt))), relay, said):
                accepted.append(rcpt)
        return accepted, (await smtp.execute_command(b"DATA") if accepted else None)

    async def _pipelined(self, smtp, qf: QueueFile, recipients: list[Recipient], relay: str, said: str,
                         send_xforward: bool):
        """The envelope in one write (XFORWARD, MAIL, every RCPT, DATA), its replies read in order, as Postfix's
        smtp(8) sends it to a server that offers PIPELINING: the recipients accepted, and the reply to DATA."""
        xforward = xforward_commands(qf.envelope, _offered_xforward(smtp)) if send_xforward else []
        commands = [*xforward, _mail_command(smtp, qf), *(_rcpt_command(smtp, rcpt) for rcpt in recipients), "DATA"]
        replies = await pipelined(smtp, [_wire(command) for command in commands], self.settings.command_timeout)
        data = replies.pop()
        stages = ["XFORWARD"] * len(xforward) + ["MAIL FROM"]
        for stage, reply in zip(stages, replies):
            if reply.code != 250:
                _refused(recipients, reply, stage, relay, said)
                return [], data
        accepted = [rcpt for rcpt, reply in zip(recipients, replies[len(stages):])
                    if _recipient_accepted(rcpt, reply, relay, said)]
        return accepted, data

    @staticmethod
    async def _xforward(smtp, qf: QueueFile):
        """Send XFORWARD for the attributes the server offers; its refusal, or None when all went well."""
        for command in xforward_commands(qf.envelope, _offered_xforward(smtp)):
            reply = await smtp.execute_command(_wire(command))
            if reply.code != 250:
                return reply
        return None

    async def _send_content(self, smtp, qf: QueueFile, on_reply: Callable[[object], None]):
        """After DATA's 354: the content, with long lines broken as Postfix's smtp(8) breaks them, and logged as it
        logs that; on_reply gets the final reply as soon as it is read."""
        encoder = DataEncoder(self.settings.line_length_limit)
        reply = await send_body(smtp, qf.content(), self.settings.data_timeout, encoder, on_reply)
        if encoder.broke_lines:
            maillog.info("smtp", "%s: breaking line > %d bytes with <CR><LF>SPACE", qf.envelope.queue_id,
                         self.settings.line_length_limit)
        return reply

    async def quit_all(self) -> None:
        """QUIT the cached connections (the queue manager is stopping)."""
        await self.cache.quit_all()

    def close(self) -> None:
        self.cache.close()


async def _tcp_connect(address: str, port: int) -> socket.socket:
    """The TCP connection alone, which smtp_connect_timeout limits; the greeting and EHLO reply get
    smtp_helo_timeout, as in Postfix: a server whose processes are all busy leaves a client in its listen queue."""
    sock = socket.socket(socket.AF_INET6 if ":" in address else socket.AF_INET, socket.SOCK_STREAM)
    sock.setblocking(False)
    try:
        await asyncio.get_running_loop().sock_connect(sock, (address, port))
    except BaseException:
        sock.close()
        raise
    return sock


def _reason(exc: BaseException) -> str:
    """The system's words for a failed connection (`Connection refused`), as Postfix logs them: strerror(errno),
    not asyncio's own text (`Connect call failed ('127.0.0.1', 25)`)."""
    seen: BaseException | None = exc
    while seen is not None:
        if isinstance(seen, OSError) and (seen.errno or seen.strerror):
            return os.strerror(seen.errno) if seen.errno else seen.strerror
        if isinstance(seen, (asyncio.TimeoutError, aiosmtplib.SMTPTimeoutError)):
            return "Connection timed out"
        seen = seen.__cause__ or seen.__context__
    return str(exc) or type(exc).__name__


def _mail_command(smtp, qf: QueueFile) -> str:
    env = qf.envelope
    command = f"MAIL FROM:<{env.sender}>"
    if smtp.supports_extension("size"):
        command += f" SIZE={env.size}"
    if env.body_type and smtp.supports_extension("8bitmime"):
        command += f" BODY={env.body_type}"
    if env.smtputf8 and smtp.supports_extension("smtputf8"):
        command += " SMTPUTF8"
    if smtp.supports_extension("dsn"):
        command += (f" RET={env.ret}" if env.ret else "") + (f" ENVID={env.envid}" if env.envid else "")
    return command


def _rcpt_command(smtp, rcpt: Recipient) -> str:
    command = f"RCPT TO:<{rcpt.address}>"
    if smtp.supports_extension("dsn"):
        command += (f" NOTIFY={rcpt.notify}" if rcpt.notify else "") + (f" ORCPT={rcpt.orcpt}" if rcpt.orcpt else "")
    return command


def _wire(command: str) -> bytes:
    return command.encode("utf-8", "surrogateescape")


def _offered_xforward(smtp) -> set[str]:
    return set(smtp.esmtp_extensions.get("xforward", "").upper().split())


def _refused(recipients: list[Recipient], reply, stage: str, relay: str, said: str) -> None:
    """The recipients refused with the reply to `stage`'s command (XFORWARD, MAIL FROM, RCPT TO, DATA, end of
    DATA), in Postfix's words."""
    _set(recipients, _status(reply.code), _dsn(reply), f"{said} {reply.code} {_one_line(reply)} (in reply to {stage} "
         "command)", relay)


def _recipient_accepted(rcpt: Recipient, reply, relay: str, said: str) -> bool:
    """Whether RCPT TO was accepted; the recipient's status from the refusal when it was not."""
    if reply.code in (250, 251):
        return True
    _refused([rcpt], reply, "RCPT TO", relay, said)
    return False


def _status(code: int) -> str:
    return "bounced" if code >= 500 else "deferred"


def _dsn(reply) -> str:
    first = reply.message.split(None, 1)[0] if reply.message else ""
    if first[:1] in "245" and first.count(".") == 2:
        return first
    return f"{str(reply.code)[0]}.0.0"


def _one_line(reply) -> str:
    return reply.message.replace("\n", " ")


def _once(function: Callable[..., None]) -> Callable[..., None]:
    """`function`, run by the first call that gets through it (a later call, after it raised, tries again)."""
    done = False

    def once(*args) -> None:
        nonlocal done
        if not done:
            function(*args)
            done = True
    return once


def _set(recipients: list[Recipient], status: str, dsn: str, text: str, relay: str, only_pending: bool = False) -> None:
    for rcpt in recipients:
        if only_pending and rcpt.status:
            continue
        rcpt.status, rcpt.dsn, rcpt.text, rcpt.relay = status, dsn, text, relay
