"""The before-queue proxy's downstream: one SMTP session per transaction, replies passed back as they are.

Like Postfix's smtpd_proxy_filter: MAIL and RCPT are relayed in-session, XFORWARD is sent when the
downstream offers it, and DATA goes out only once the chain has accepted the whole message. Given a connection
cache (the `filter` listener, whose next hop is the MTA's reinjection smtpd), a session that ended its transaction
cleanly waits there for the next one, as Postfix's smtp(8) keeps its connections; one the server closed meanwhile is
replaced by a new one before MAIL.
"""

from __future__ import annotations

import asyncio

import aiosmtplib

from filterd import maillog
from filterd.connection_cache import QUIT_ERRORS, Connection, ConnectionCache
from filterd.content import encode
from filterd.handoff import CutShort, Reply, Routing
from filterd.model import Envelope, Message, Session
from filterd.pipelining import pipelined
from filterd.smtp_data import DataEncoder, send_content
from filterd.tls import ClientTls
from filterd.xtext import xtext

UNAVAILABLE = Reply(451, "4.3.0 Error: queue file write error")

class ProxyNextHop:
    """A downstream SMTP server reached with aiosmtplib, one session per transaction."""

    logs_delivery = True

    def __init__(self, host: str, port: int, timeout: float, ehlo: str, service: str = "smtpd",
                 line_length_limit: int = 998, tls: ClientTls = ClientTls(), cache: ConnectionCache | None = None):
        self.host, self.port, self.timeout, self.ehlo_name = host, port, timeout, ehlo
        self.cache = cache
        self.connection: Connection | None = None
        self.tls = tls
        self.line_length_limit = line_length_limit
        self.relay = f"{host}[{host}]:{port}"
        self.service = service
        self.smtp: aiosmtplib.SMTP | None = None
        self._envelope: Envelope | None = None

    async def begin(self, session: Session, envelope: Envelope) -> Reply:
        self._envelope = envelope
        while self.cache is not None and (kept := self.cache.take(self.relay)) is not None:
            self.connection, self.smtp = kept, kept.smtp
            try:
                reply = await self._start(session, envelope)
            except QUIT_ERRORS:
                kept.smtp.close()
                continue
            if reply.code != 421:
                return reply
            kept.smtp.close()
        try:
            await self._open(session)
            return await self._start(session, envelope)
        except QUIT_ERRORS as exc:
            return await self._fail("connect to", exc)

    async def _start(self, session: Session, envelope: Envelope) -> Reply:
        """XFORWARD (when offered) and MAIL on an open session, in one write where the server offers PIPELINING:
        the MAIL reply (a 421 to XFORWARD in its place)."""
        smtp = self.smtp
        assert smtp is not None
        mail = self._mail_command(envelope)
        if not smtp.supports_extension("xforward"):
            return await self._command(mail)
        if smtp.supports_extension("pipelining"):
            commands = [encode(self._xforward(session)), encode(mail)]
            xforward, reply = (Reply(r.code, r.message) for r in await pipelined(smtp, commands, self.timeout))
        else:
            xforward, reply = await self._command(self._xforward(session)), None
        if xforward.code == 421:
            return xforward
        if not xforward.ok:
            maillog.warning(self.service, "%s: XFORWARD refused: %s", self.relay, xforward)
        return reply or await self._command(mail)

    async def recipient(self, address: str, options: list[str]) -> Reply:
        dsn = self.smtp is not None and self.smtp.supports_extension("dsn")
        wanted = [o for o in options if dsn and o.split("=", 1)[0].upper() in ("NOTIFY", "ORCPT")]
        return await self._guarded(f"RCPT TO:<{address}>" + "".join(f" {o}" for o in wanted))

    async def restart(self, sender: str, recipients: tuple[str, ...]) -> Reply:
        """Begin the downstream transaction anew for a changed sender or recipient list."""
        assert self._envelope is not None
        self._envelope.sender = sender
        reply = await self._guarded("RSET")
        for command in (self._mail_command(self._envelope), *(f"RCPT TO:<{r}>" for r in recipients)):
            if reply.ok:
                reply = await self._guarded(command)
        return reply

    async def deliver(self, message: Message, routing: Routing | None = None) -> Reply:
        reusable = False
        try:
            if self.smtp is None or not self.smtp.is_connected:
                return UNAVAILABLE
            encoder = DataEncoder(self.line_length_limit)
            response = await send_content(self.smtp, message.chunks(), self.timeout, encoder)
            if encoder.broke_lines:
                maillog.info(self.service, "%s: breaking line > %d bytes with <CR><LF>SPACE",
                             self._queue_id(), self.line_length_limit)
            reusable = response.code == 250
            return Reply(response.code, response.message)
        except (OSError, aiosmtplib.SMTPException, asyncio.TimeoutError) as exc:
            return await self._fail("lost connection with", exc)
        finally:
            await self._close(reusable)

    async def abort(self, cut: CutShort | None = None) -> None:
        reusable = False
        if self.smtp is not None and self.smtp.is_connected:
            try:
                reusable = (await asyncio.wait_for(self.smtp.execute_command(b"RSET"), self.timeout)).code == 250
            except (OSError, aiosmtplib.SMTPException, asyncio.TimeoutError):
                pass
        await self._close(reusable)

    async def _open(self, session: Session) -> None:
        self.smtp = aiosmtplib.SMTP(hostname=self.host, port=self.port, timeout=self.timeout,
                                    local_hostname=self.ehlo_name, start_tls=False)
        self.connection = Connection(self.smtp)
        await self.smtp.connect()
        await self.smtp.ehlo()
        await self.tls.start(self.smtp, self.host, self.host, self.port, self.service)

    def _mail_command(self, envelope: Envelope) -> str:
        assert self.smtp is not None
        wanted = []
        for option in envelope.mail_options:
            keyword = option.split("=", 1)[0].upper()
            if keyword == "BODY" and self.smtp.supports_extension("8bitmime"):
                wanted.append(option)
            elif keyword == "SMTPUTF8" and self.smtp.supports_extension("smtputf8"):
                wanted.append(option)
            elif keyword in ("RET", "ENVID") and self.smtp.supports_extension("dsn"):
                wanted.append(option)
        return f"MAIL FROM:<{envelope.sender}>" + "".join(f" {o}" for o in wanted)

    @staticmethod
    def _xforward(session: Session) -> str:
        attrs = {
            "NAME": session.client_name if session.client_name != "unknown" else "[UNAVAILABLE]",
            "ADDR": session.client_address, "PORT": str(session.client_port),
            "PROTO": session.protocol, "HELO": session.helo or "[UNAVAILABLE]",
            **({"IDENT": session.forwarded_ident} if session.forwarded_ident else {}),
            "SOURCE": session.forwarded_source or "REMOTE",
        }
        return "XFORWARD " + " ".join(f"{k}={xtext(v)}" for k, v in attrs.items())

    async def _guarded(self, command: str) -> Reply:
        try:
            return await self._command(command)
        except (OSError, aiosmtplib.SMTPException, asyncio.TimeoutError) as exc:
            return await self._fail("lost connection with", exc)

    async def _command(self, command: str) -> Reply:
        if self.smtp is None or not self.smtp.is_connected:
            return UNAVAILABLE
        response = await self.smtp.execute_command(encode(command))
        return Reply(response.code, response.message)

    async def _fail(self, what: str, exc: BaseException) -> Reply:
        reason = "timeout" if isinstance(exc, (asyncio.TimeoutError, aiosmtplib.SMTPTimeoutError)) else str(exc) or type(exc).__name__
        maillog.warning(self.service, "%s: %s proxy filter %s:%d: %s", self._queue_id(), what, self.host, self.port,
                        reason)
        await self._close()
        return UNAVAILABLE

    def _queue_id(self) -> str:
        return self._envelope.queue_id if self._envelope and self._envelope.queue_id else "NOQUEUE"

    async def _close(self, reusable: bool = False) -> None:
        """QUIT, or with a cache and a session between transactions (`reusable`), keep it there."""
        smtp, connection, self.smtp, self.connection = self.smtp, self.connection, None, None
        if smtp is None:
            return
        if reusable and self.cache is not None and connection is not None and smtp.is_connected:
            connection.uses += 1
            if self.cache.store(self.relay, connection):
                return
        try:
            if smtp.is_connected and smtp.protocol is not None:
                smtp.protocol.write(b"QUIT\r\n")
        except (OSError, aiosmtplib.SMTPException):
            pass
        smtp.close()
