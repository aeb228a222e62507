"""aiosmtpd's SMTP protocol, bent to Postfix's replies and limits, with DATA streamed instead of buffered.

aiosmtpd parses the commands; this subclass answers in Postfix's words, counts errors
(smtpd_soft/hard_error_limit), streams DATA through the sans-IO decoder into the handler, and
keeps a connection summary for the `disconnect from` log line.
"""

from __future__ import annotations

import asyncio
import collections
import functools
import re
import ssl
from typing import Any

from aiosmtpd.smtp import SMTP, login_always_fail

from filterd import client_names, maillog
from filterd.smtp import auth, footer, mail_parameters, replies, starttls
from filterd.smtp.address_argument import envelope_address, illegal_word
from filterd.smtp.bdat import BdatCommand
from filterd.smtp.forbidden import ForbiddenCommands
from filterd.smtp.handler import SmtpHandler, verdict_reply
from filterd.smtp.limits import PORTS_BUSY, ConnectionGate
from filterd.smtp.reader import CommandReader, read_limited_line
from filterd.smtp.special_commands import SpecialCommands
from filterd.smtp.upstream import UpstreamProxy
from filterd.smtp.xclient import XclientCommand
from filterd.smtp.xforward import XforwardCommand

LAST_IN_GROUP = frozenset({"HELO", "EHLO", "DATA", "NOOP", "VRFY", "STARTTLS", "XCLIENT"})
"""The commands after which a client must wait for the reply (Postfix's SMTPD_CMD_FLAG_LAST)."""
_ESCAPES = {7: "\\a", 8: "\\b", 9: "\\t", 10: "\\n", 11: "\\v", 12: "\\f", 13: "\\r", 92: "\\\\"}


def _escaped(data: bytes) -> str:
    """Bytes as Postfix's escape() shows them in a log line: C escapes, octal for the rest of the unprintable."""
    return "".join(_ESCAPES.get(b) or (chr(b) if 32 <= b < 127 else f"\\{b:03o}") for b in data)


JUNK = frozenset({"HELO", "EHLO", "RSET", "NOOP", "VRFY", "ETRN"})
"""The commands that deliver nothing, counted toward smtpd_junk_command_limit (Postfix's SMTPD_CMD_FLAG_LIMIT)."""
PIPELINED = frozenset({"MAIL", "RCPT", "RSET", "XFORWARD", "BDAT"})
"""The commands RFC 2920 lets a client follow with more before it reads the reply (XFORWARD: Postfix's smtp(8)
pipelines it too; BDAT: RFC 3030); the reply to any other command is sent at once."""
_HANDLER_HOOKS = ("handle_EHLO", "handle_HELO", "handle_MAIL", "handle_RCPT", "handle_RSET", "handle_QUIT")
_SUMMARY_ORDER = ("helo", "ehlo", "xclient", "xforward", "starttls", "auth", "mail", "rcpt", "data", "bdat", "rset",
                  "noop", "vrfy", "etrn", "quit", "unknown")


class SmtpServer(BdatCommand, XclientCommand, XforwardCommand, UpstreamProxy, SpecialCommands, SMTP):
    """One client connection."""

    line_length_limit = 2048

    def __init__(self, handler: SmtpHandler, loop: asyncio.AbstractEventLoop, gate: ConnectionGate | None = None,
                 service_name: str = "smtp"):
        self._fast_init(handler, loop)
        self.gate, self.service_name = gate, service_name
        self.admission, self.counted_address = "", ""
        self.handler = handler
        self.settings = handler.settings
        self.errors = self.junk = 0
        self.greeted = False
        self.access_denied = False
        self.verbose = False
        self.counts: dict[str, list[int]] = {}
        self.current: str = "CONNECT"
        self.current_ok = False
        self._held: list[bytes] = []
        self.hung_up_here = False
        self.pipelining_noted = False

    def _fast_init(self, handler: SmtpHandler, loop: asyncio.AbstractEventLoop) -> None:
        """aiosmtpd's SMTP.__init__ without its per-connection introspection (measured: 15% of a proxy worker).

        Sets the same attributes; tests/smtp/test_server.py fails if aiosmtpd grows new ones.
        """
        settings = handler.settings
        self.__ident__ = "filterd"
        self.loop = loop
        asyncio.StreamReaderProtocol.__init__(
            self, CommandReader(loop=loop, limit=self.line_length_limit),
            client_connected_cb=self._cb_client_connected, loop=loop)
        self.event_handler = handler
        self.data_size_limit = settings.message_size_limit
        self.enable_SMTPUTF8 = True
        self._decode_data = False
        self.command_size_limit = self.line_length_limit
        self.command_size_limits = collections.defaultdict(lambda: self.line_length_limit)
        self.hostname = settings.myhostname
        self.tls_context = None
        self.require_starttls = False
        self._timeout_duration = settings.timeout
        self._timeout_handle = None
        self._tls_handshake_okay = True
        self._tls_protocol = None
        self._original_transport = None
        self.session = self.envelope = self.transport = self._handler_coroutine = None
        self._auth_require_tls = True
        self._proxy_timeout = None
        self._authenticator = None
        self._auth_callback = login_always_fail
        self._auth_required = False
        self._auth_methods = {}
        self._handle_hooks = {name[7:]: getattr(handler, name) for name in _HANDLER_HOOKS}
        self._ehlo_hook_ver = "new"
        self._enforce_call_limit = False
        self._smtp_methods = _Commands({name[5:]: self._counted(name[5:], getattr(self, name))
                                        for name in _smtp_method_names()}, settings.forbidden, self._non_smtp,
                                       self._unknown, self._resplit, self._special)
        self.parameters, self.parameter_refusal = "", None
        self.sender_given = ""
        self.out_of_sync = False

    # --- replies ---------------------------------------------------------------

    async def push(self, status: Any) -> None:
        if isinstance(status, bytes):
            status = status.decode("utf-8", "surrogateescape")
        if not self.greeted:
            self.greeted, status = True, self._greeting()
            if self._note_pipelining("CONNECT") and self.settings.forbid_unauth_pipelining:
                status, self.out_of_sync = replies.SYNCHRONIZATION, True
        if self.parameter_refusal:
            status, self.parameter_refusal = self.parameter_refusal, None
        status = replies.translate(status, self.current)
        if status == replies.SIZE_TOO_BIG and self.current == "MAIL":
            self._log_size_refusal(status)
        if self.settings.soft_bounce:
            status = replies.soften(status)
        if status == replies.UNKNOWN_COMMAND:
            self.current = "UNKNOWN"
            ok, total = self.counts.get("unknown", [0, 0])
            self.counts["unknown"] = [ok, total + 1]
        if status[:1] in "23":
            self.current_ok = status[:1] == "2"
        if status[:1] in "45" and self.handler.error_exempt:
            self.handler.error_exempt, self.current_ok = False, True
        elif status[:1] in "45":
            self.errors += 1
            if self.errors > self.settings.soft_error_limit and self.settings.error_sleep_time:
                await asyncio.sleep(self.settings.error_sleep_time)
        if self.verbose:
            self._log_verbose(">", status)
        held = self.current in PIPELINED and status[:3] not in ("421", "521") and not self.out_of_sync and \
            self._next_command_read()
        await self._reply(status, held=held)
        if self.out_of_sync:
            self._hang_up()
        elif not status.startswith("421"):
            await self._enforce_error_limit()

    async def _enforce_error_limit(self) -> None:
        """smtpd_hard_error_limit reached: Postfix's 421 and the end of the session."""
        if self.errors >= self.settings.hard_error_limit and self.transport and not self.hung_up_here:
            maillog.info(self.settings.service, "too many errors after %s from %s", self.current,
                         self.handler.session.client)
            await self._reply(replies.TOO_MANY_ERRORS.format(host=self.settings.myhostname))
            self._hang_up()

    async def _count_junk(self) -> None:
        """smtpd_junk_command_limit: past it, each command that delivers nothing is an error too, as in Postfix."""
        self.junk += 1
        if self.junk > self.settings.junk_command_limit + 1:
            self.errors += 1
            await self._enforce_error_limit()

    async def _reply(self, status: str, held: bool = False) -> None:
        """Send a reply with those held before it; `held` keeps it back while the client's next pipelined command
        is already read, as Postfix's smtpd flushes only before it waits for input: one write a pipelined group."""
        if status[:1] in "45" and self.settings.reject_footer.wanted:
            values = footer.session_values(self.handler.session, self.handler.txn, self.settings.myhostname)
            status = self.settings.reject_footer.apply(status, values, self.settings.service)
        self._held.append(status.encode("utf-8", "surrogateescape") + b"\r\n")
        if held or self._writer is None:
            return
        self._writer.write(b"".join(self._held))
        self._held.clear()
        await self._writer.drain()

    async def _flush_held(self) -> None:
        """Send the replies held back, before waiting for input that is not there yet (a chunk's rest)."""
        if self._held and self._writer is not None:
            self._writer.write(b"".join(self._held))
            self._held.clear()
            await self._writer.drain()

    def _next_command_read(self) -> bool:
        return self._reader is not None and b"\n" in self._reader._buffer  # type: ignore[attr-defined]

    def _greeting(self) -> str:
        """The 220 banner; with smtpd_delay_reject = no, a refusal at connect in its place, and from then on
        Postfix's 503 to every command but QUIT."""
        refusal = self.handler.life.refusal
        if self.settings.delay_reject or refusal is None:
            return f"220 {self.settings.banner}"
        self.access_denied = True
        return verdict_reply(refusal)

    def _note_pipelining(self, after: str) -> bool:
        """Postfix's `improper command pipelining after CMD from CLIENT: NEXT`, once a session: input sent before
        the greeting, or after a command that must end a pipelined group (RFC 2920; any command before EHLO).
        Whether it was noted now (smtpd_forbid_unauth_pipelining then ends the session)."""
        pending = bytes(self._reader._buffer) if self._reader is not None else b""  # type: ignore[attr-defined]
        if pending and not self.pipelining_noted:
            self.pipelining_noted = self.handler.session.improper_pipelining = True
            maillog.info(self.settings.service, "improper command pipelining after %s from %s: %s", after,
                         self.handler.session.client, _escaped(pending[:100]))
            return True
        return False

    def _counted(self, name: str, method: Any) -> Any:
        async def counted(arg: str | None) -> None:
            self.current, self.current_ok = name, False
            if self.verbose:
                self._log_verbose("<", f"{name} {arg}" if arg else name)
            counts = self.counts.setdefault(name.lower(), [0, 0])
            counts[1] += 1
            if name in LAST_IN_GROUP or not self.handler.session.protocol.startswith("ESMTP"):
                if self._note_pipelining(name) and self.settings.forbid_unauth_pipelining:
                    self.out_of_sync = True
                    await self.push(replies.SYNCHRONIZATION)
                    return
            try:
                if self.access_denied and name != "QUIT":
                    await self.push(replies.ACCESS_DENIED.format(client=self.handler.session.client))
                elif self.settings.tls.needs_starttls(self.handler.session, name):
                    await self.push(starttls.MUST_STARTTLS)
                elif arg and "\x00" in arg:
                    await self.push(replies.BAD_SYNTAX)
                elif arg and self.settings.smtputf8 and not arg.isascii() and not _valid_utf8(arg):
                    await self.push(replies.BAD_UTF8)
                else:
                    if name in ("MAIL", "RCPT") and arg:
                        arg, self.handler.dsn_options = take_dsn(arg, name)
                    await method(arg)
                    if name in JUNK:
                        await self._count_junk()
            finally:
                counts[0] += self.current_ok
        counted.__smtp_syntax__ = getattr(method, "__smtp_syntax__", None)  # type: ignore[attr-defined]
        counted.__smtp_syntax_when__ = getattr(method, "__smtp_syntax_when__", None)  # type: ignore[attr-defined]
        return counted

    def _log_verbose(self, direction: str, line: str) -> None:
        """debug_peer_list: Postfix's `< client: COMMAND` and `> client: REPLY` lines."""
        for part in line.split("\r\n"):
            maillog.info(self.settings.service, "%s %s: %s", direction, self.handler.session.client, part)

    def summary(self) -> str:
        """Postfix's `ehlo=1 mail=1 rcpt=0/1 data=1 quit=1 commands=4`; `commands=0/0` for a session without any."""
        names = sorted(self.counts, key=lambda n: (_SUMMARY_ORDER.index(n) if n in _SUMMARY_ORDER else 99, n))
        parts = [f"{n}={ok}" if ok == total else f"{n}={ok}/{total}" for n in names for ok, total in [self.counts[n]]]
        ok_all = sum(ok for ok, _ in self.counts.values())
        total_all = sum(total for _, total in self.counts.values())
        parts.append(f"commands={ok_all}" if ok_all == total_all and total_all else f"commands={ok_all}/{total_all}")
        return " ".join(parts)

    # --- connection ------------------------------------------------------------

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        if self.gate is not None and not self.gate.enter(self.service_name, self.settings.service):
            self.admission = "refused"
            refuse_busy(transport, self.settings.service)
            return
        self.admission = "entered"
        super().connection_made(transport)

    async def _handle_client(self) -> None:
        peer = self.transport.get_extra_info("peername") if self.transport else None
        session = self.handler.session
        asking, proxied = None, True
        if isinstance(peer, tuple):
            session.client_address, session.client_port = peer[0], peer[1]
            local = self.transport.get_extra_info("sockname")
            if isinstance(local, tuple):
                session.server_address, session.server_port = local[0], local[1]
            if self.settings.upstream_proxy:
                proxied = await self._upstream_proxy(session)
            if proxied and self.gate is not None:
                asking = self.gate.ask(self.service_name, session.client_address)
        try:
            if isinstance(peer, tuple):
                await self._look_up_names(session, session.client_address)
                self.verbose = self.settings.debug_peers.matches(session.client_name, session.client_address)
                if asking is not None and self.settings.xclient_allowed(session.client_name, session.client_address):
                    self.gate.forget(asking, self.service_name, session.client_address)  # as Postfix: not counted
                    asking = None
            await self.handler.on_connect()
            if self.transport and self.transport.get_extra_info("ssl_object") is not None:
                starttls.record(session, self.transport.get_extra_info("ssl_object"), self.settings.tls,
                                self.settings.service)
            refusal = await self._client_limits(asking, session.client_address) if proxied else \
                replies.LOCAL_ERROR.format(host=self.settings.myhostname)
        except asyncio.CancelledError:
            if asking is not None:
                self.gate.forget(asking, self.service_name, session.client_address)
            raise
        if refusal is not None:
            self.greeted = True
            await self._reply(refusal)
            self._reset() if self.unread_handshake else self._hang_up()
            return
        if self.handler.sasl is not None and not await self._activate_sasl():
            return
        await super()._handle_client()

    async def _activate_sasl(self) -> bool:
        """Dovecot's mechanisms, asked before the greeting as Postfix's smtpd asks; without them the session ends
        before it starts, as Postfix's smtpd exits."""
        self.handler.sasl.server_address = self.handler.session.server_address
        if await self.handler.sasl.activate():
            return True
        self.greeted = True
        self._hang_up()
        return False

    async def _client_limits(self, asking: asyncio.Future | None, address: str) -> str | None:
        """anvil's count and rate for this client, as smtpd takes them before its greeting: the 421 when over a
        limit."""
        counts = await asking if asking is not None else None
        if counts is None:
            return None
        self.admission, self.counted_address = "counted", address
        return self.gate.refusal(counts, self.service_name, address, self.handler.session.client, self.settings.service)

    async def _look_up_names(self, session: Any, address: str) -> None:
        found = await client_names.look_up(address, self.settings.service) if self.settings.peername_lookup \
            else client_names.ClientNames()
        session.client_name, session.reverse_client_name = found.name, found.reverse_name
        session.client_name_status, session.reverse_client_name_status = found.name_status, found.reverse_name_status

    def eof_received(self) -> bool:
        """The client half-closed: the commands it sent before are still answered, as Postfix's smtpd answers what
        it has read; aiosmtpd cancels the session at once, a message perhaps delivered and its 250 never sent."""
        self._reader.feed_eof()
        return not self.handler.session.tls

    def _hang_up(self) -> None:
        """Close the connection from this side: no "lost connection" line for it, and no command the client
        pipelined after is read (as Postfix's smtpd leaves its loop; BDAT's chunk would be read as commands)."""
        self.hung_up_here = True
        if self._reader is not None:
            self._reader._buffer.clear()  # type: ignore[attr-defined]
            self._reader.feed_eof()
        if self.transport:
            self.transport.close()

    def _where(self, timeout: str | None = None) -> str:
        """Where the session was, as Postfix's smtpd names it in its lost-connection lines (and, with its reply, in
        its timeout lines)."""
        if self.current == "BDAT" and self.handler.chunking.receiving:
            return f"BDAT ({self.handler.chunking.counter.received(timeout)} bytes)"
        if self.handler.decoder is not None and self.current == "DATA":
            return f"DATA ({self.handler.data_state().size} bytes)"
        return self.current

    def connection_lost(self, error: Exception | None) -> None:
        if self.admission == "refused":
            return
        if not self.hung_up_here and self.current not in ("QUIT", "END-OF-MESSAGE"):
            maillog.info(self.settings.service, "lost connection after %s from %s", self._where(),
                         self.handler.session.client)
            self.hung_up_here = True
        if self.gate is not None:
            self.gate.leave()
            if self.admission == "counted":
                self.gate.release(self.service_name, self.counted_address)
        super().connection_lost(error)
        self.loop.create_task(self.handler.on_disconnect(self.summary()))

    def _timeout_cb(self) -> None:
        if self.transport is not None and not self.transport.is_closing():
            self.hung_up_here = True
            reply = replies.TIMEOUT.format(host=self.settings.myhostname)
            maillog.info(self.settings.service, "timeout after %s from %s", self._where(reply),
                         self.handler.session.client)
            self._writer.write(b"".join(self._held) + reply.encode() + b"\r\n")
            self._held.clear()
        super()._timeout_cb()

    def _getaddr(self, arg: str) -> tuple[str | None, str | None]:
        """The address and parameters of MAIL or RCPT as Postfix's smtpd reads them; (None, None) when malformed."""
        sender = self.current == "MAIL"
        if sender:
            smtputf8 = "SMTPUTF8" not in self.handler.discarded and "SMTPUTF8" in arg.upper().split()
        else:
            smtputf8 = bool(self.envelope and self.envelope.smtp_utf8)
        found = envelope_address(arg, self.settings.addresses, sender, smtputf8, self.settings.strict_rfc821)
        if found is None:
            word = illegal_word(arg)
            if word is not None:
                maillog.warning(self.settings.service, "Illegal address syntax from %s in %s command: %s",
                                self.handler.session.unforwarded().client, self.current, word)
            return None, None
        self.parameters = found[1] or ""
        if sender:
            self.sender_given = found[0]
        return found

    def _getparams(self, params: Any) -> dict[str, str | bool] | None:
        """MAIL and RCPT parameters as Postfix's smtpd takes them, from the words as the client wrote them; a refusal
        is kept for push() to send in place of aiosmtpd's syntax error."""
        words = self.parameters.split()
        if self.current == "MAIL" and self.handler.sasl is not None:
            words, self.parameter_refusal = auth.take_auth_sender(words, self.handler.session)
        self.parameter_refusal = self.parameter_refusal or mail_parameters.refusal(self.current, words,
                                                                                     self.handler.discarded)
        if self.parameter_refusal:
            return None
        return {word.partition("=")[0].upper(): word.partition("=")[2].upper() if "=" in word else True
                for word in words}

    async def _resplit(self, arg: str | None) -> None:
        """The command line split as Postfix's smtpd_token() splits it, on spaces and TABs after any leading ones
        (aiosmtpd splits at the first space: `MAIL<TAB>FROM:<a>` was an unknown command), then run; a line of
        blanks alone is Postfix's bad syntax."""
        line = self._reader.last_line.rstrip(b"\r\n").lstrip(b" \t") if self._reader else b""
        word, rest = (re.split(rb"[ \t]", line, maxsplit=1) + [b""])[:2] if line else (b"", b"")
        if not word:
            await self.push("500 Error: bad syntax")
            return
        method = self._smtp_methods.get(word.upper().decode("ascii", "replace"))
        rest = rest.strip(b" \t")
        await method(rest.decode("utf-8", "surrogateescape") if rest else None)

    async def _unknown(self, arg: str | None) -> None:
        """A command Postfix's smtpd does not know: 500, an error toward smtpd_hard_error_limit (aiosmtpd's own
        limit of five unknown commands, then 502 and a hang-up, is never reached)."""
        await self.push(replies.UNKNOWN_COMMAND)

    async def _non_smtp(self, arg: str | None) -> None:
        """A header line or a forbidden command: Postfix's smtpd logs it, says 221 and hangs up."""
        self.current, self.current_ok = "UNKNOWN", False
        ok, total = self.counts.get("unknown", [0, 0])
        self.counts["unknown"] = [ok, total + 1]
        line = self._reader.last_line.rstrip(b"\r\n").decode("utf-8", "replace") if self._reader else ""
        maillog.warning(self.settings.service, "non-SMTP command from %s: %.100s", self.handler.session.client, line)
        await self._reply(replies.NON_SMTP)
        self._hang_up()

    async def check_helo_needed(self, helo: str = "HELO") -> bool:
        """aiosmtpd asks before MAIL, RCPT, DATA and AUTH: Postfix's own checks (`_helo_refusal`) are made where it
        makes them instead."""
        return False

    def _helo_refusal(self, enhanced: bool = True) -> str | None:
        """smtpd_helo_required and no HELO or EHLO yet: Postfix's 503 (ETRN's without an enhanced status code)."""
        if not self.settings.helo_required or self.handler.session.helo:
            return None
        return "503 5.5.1 Error: send HELO/EHLO first" if enhanced else "503 Error: send HELO/EHLO first"

    # --- commands ---------------------------------------------------------------

    async def smtp_VRFY(self, arg: str | None) -> None:
        await self.push(await self.handler.vrfy(arg))

    async def smtp_ETRN(self, arg: str | None) -> None:
        await self.push(self._helo_refusal(enhanced=False) or await self.handler.etrn(arg))

    async def smtp_STARTTLS(self, arg: str | None) -> None:
        refusal = self.settings.tls.refusal(self.handler.session, arg, "STARTTLS" in self.handler.discarded)
        if refusal:
            await self.push(refusal)
            return
        await self.push(starttls.READY)
        try:
            await self._start_tls()
        except (OSError, ssl.SSLError, asyncio.TimeoutError, ConnectionError) as exc:
            self.current_ok = False
            maillog.info(self.settings.service, "SSL_accept error from %s: %s", self.handler.session.client,
                         str(exc) or "lost connection")
            if self.transport:
                self.transport.close()
            return
        await self.handler.abort()
        self.handler.session.helo = ""
        self._set_rset_state()
        self.session.host_name, self.session.extended_smtp = None, False
        starttls.record(self.handler.session, self.transport.get_extra_info("ssl_object"), self.settings.tls,
                        self.settings.service)
        if self.handler.sasl is not None:
            self.handler.sasl.reset()

    async def _start_tls(self) -> None:
        """Switch the connection to TLS. Plaintext that the client pipelined after STARTTLS is thrown away, never
        read as commands of the TLS session (RFC 3207, CVE-2011-0411); start_tls stops reading before it awaits.
        A client that already hung up would leave the handshake waiting for smtpd_starttls_timeout."""
        self._reader._buffer.clear()  # type: ignore[attr-defined]
        if self._reader.at_eof():
            raise ConnectionResetError()
        transport = await self.loop.start_tls(self.transport, self, self.settings.tls.context, server_side=True,
                                              ssl_handshake_timeout=self.settings.tls.handshake_timeout)
        if transport is None:
            raise ConnectionError("lost connection")
        self._reader._transport = self._writer._transport = transport  # type: ignore[attr-defined]
        self.transport = self._transport = transport
        self._over_ssl = True

    async def smtp_AUTH(self, arg: str | None) -> None:
        sasl = self.handler.sasl
        offered = sasl is not None and "AUTH" not in self.handler.discarded
        refusal = self._helo_refusal() or (sasl.refusal(arg, self.handler.txn is not None) if offered
                                           else auth.NOT_ENABLED)
        if not refusal:
            over = await self._over_rate("auth")
            if over is not None:
                maillog.warning(self.settings.service, "%s", over[1])
                refusal = over[0]
        if refusal:
            await self.push(refusal)
            return
        await self.push(await sasl.authenticate(arg, self._auth_response))

    async def _over_rate(self, event: str, arg: str | None = None, keyword: str = "") -> tuple[str, str] | None:
        """anvil's count of this AUTH, MAIL or RCPT, once the command is well formed as far as smtpd checks before
        it asks (`keyword` and an address after it): the reply and warning of a client over its limit, or None."""
        if self.gate is None or (keyword and not (arg or "").upper().startswith(keyword) or
                                 keyword and not (arg or "")[len(keyword):].strip()):
            return None
        session = self.handler.session.unforwarded()
        if self.settings.xclient_allowed(session.client_name, session.client_address):
            return None  # anvil does not count a client that may use XCLIENT, as in Postfix
        return await self.gate.event_refusal(event, self.service_name, session.client_address, session.client)

    async def _auth_response(self, challenge: str) -> str | None:
        """Send a 334 challenge and read the client's answer, up to smtpd_sasl_response_limit (None when longer,
        logged as Postfix logs it)."""
        await self.push(f"334 {challenge}")
        limit = self.handler.settings.sasl.response_limit
        line, length = await read_limited_line(self._reader, limit)
        self._reset_timeout()
        if length > limit:
            maillog.warning(self.settings.service, "%s: request longer than %d: %.30s...",
                            self.handler.session.client, limit, line)
            return None
        return line

    async def smtp_MAIL(self, arg: str | None) -> None:
        refusal = self._helo_refusal() or self.handler.chunking.mail_refusal(self.handler.txn is not None)
        if refusal:
            await self.push(refusal)
            return
        over = None if self.handler.txn is not None else await self._over_rate("message", arg, "FROM:")
        if over is not None:
            await self.push(over[0])
            maillog.warning(self.settings.service, "%s", over[1])
            return
        await super().smtp_MAIL(arg)

    async def smtp_RCPT(self, arg: str | None) -> None:
        refusal = self.handler.chunking.rcpt_refusal(self.handler.txn is not None)
        if refusal:
            await self.push(refusal)
            return
        over = await self._over_rate("recipient", arg, "TO:") if self.handler.txn is not None else None
        if over is not None:
            maillog.warning(self.settings.service, "%s", over[1])
            await self.push(over[0])
            return
        await super().smtp_RCPT(arg)

    async def smtp_DATA(self, arg: str | None) -> None:
        """DATA: refused after BDAT, without recipients, then with an argument (Postfix's order), else 354."""
        refusal = self.handler.chunking.data_refusal() or self.handler.recipients_refusal()
        if refusal or arg:
            await self.push(refusal or "501 5.5.4 Syntax: DATA")
            return
        refusal = await self.handler.start_data()
        if refusal:
            await self.push(refusal)
            return
        await self.push(replies.DATA_GO)
        await self._receive_data()
        self.current = "END-OF-MESSAGE"
        reply = await self.handler.end_of_data()
        self._set_post_data_state()
        if reply.startswith("2"):
            self.errors = self.junk = 0
        await self.push(reply)

    def _log_size_refusal(self, status: str) -> None:
        """A MAIL whose SIZE passes message_size_limit: smtpd_check_size's reject line."""
        session = self.handler.session.unforwarded()
        sender = "" if self.sender_given == "<>" else self.sender_given
        helo = f" helo=<{session.helo}>" if session.helo else ""
        maillog.info(self.settings.service, "NOQUEUE: reject: MAIL from %s: %s; from=<%s> proto=%s%s",
                     session.client, status, sender, session.protocol, helo)

    async def _hang_up_with(self, reply: str) -> None:
        """A reply after which the client's next input cannot be read as commands: Postfix says it and hangs up."""
        await self.push(reply)
        self._hang_up()

    async def _receive_data(self) -> None:
        reader, handler = self._reader, self.handler
        while not handler.data_state().ended:
            await handler.content(await reader.read_data_lines())
            self._reset_timeout()


def refuse_busy(transport: asyncio.BaseTransport, log_service: str) -> None:
    """A worker full of sessions turns a client away at once, as postscreen does when every smtpd is busy."""
    peer = transport.get_extra_info("peername")
    where = f"[{peer[0]}]:{peer[1]}" if isinstance(peer, tuple) else "[unknown]:0"
    maillog.info(log_service, "NOQUEUE: reject: CONNECT from %s: all server ports busy", where)
    transport.write(PORTS_BUSY.encode() + b"\r\n")  # type: ignore[attr-defined]
    transport.close()


class _Commands(dict):
    """aiosmtpd's command table: a command it lacks that Postfix's smtpd_forbidden_commands or is_header() names
    gets the non-SMTP handler instead of "command not recognized"; a line that aiosmtpd split at its first space
    alone (a TAB after the command word, blanks before it) goes to `resplit` first."""

    def __init__(self, methods: dict[str, Any], forbidden: ForbiddenCommands, non_smtp: Any, unknown: Any,
                 resplit: Any = None, special: Any = None) -> None:
        super().__init__(methods)
        self.forbidden, self.non_smtp, self.unknown, self.resplit = forbidden, non_smtp, unknown, resplit
        self.special, self.filtering = special, False

    def get(self, command: str, default: Any = None) -> Any:
        if self.special is not None and not self.filtering:
            self.filtering = True
            try:
                method = self.special(command)
            finally:
                self.filtering = False
            if method is not None:
                return method
        if self.resplit is not None and (not command or "\t" in command):
            return self.resplit
        method = super().get(command, default)
        if method is None:
            return self.non_smtp if self.forbidden.forbids(command) else self.unknown
        return method


def _valid_utf8(text: str) -> bool:
    """Whether a command argument was valid UTF-8 (aiosmtpd decodes it with surrogateescape)."""
    try:
        text.encode("utf-8")
    except UnicodeEncodeError:
        return False
    return True


_NOT_POSTFIX = frozenset({"smtp_HELP", "smtp_EXPN"})
"""aiosmtpd's commands that Postfix's smtpd does not have: left out, they get Postfix's 500 for an unknown one."""


@functools.cache
def _smtp_method_names() -> tuple[str, ...]:
    return tuple(name for name in dir(SmtpServer) if name.startswith("smtp_") and name not in _NOT_POSTFIX)


_DSN_KEYWORDS = {"MAIL": ("RET", "ENVID"), "RCPT": ("NOTIFY", "ORCPT")}


def take_dsn(arg: str, command: str) -> tuple[str, list[str]]:
    """RFC 3461 parameters, kept as sent (aiosmtpd would refuse them and upper-cases the rest)."""
    kept, dsn = [], []
    for word in arg.split(" "):
        keyword = word.partition("=")[0].upper()
        (dsn if keyword in _DSN_KEYWORDS[command] and "=" in word else kept).append(word)
    return " ".join(kept), [f"{w.partition('=')[0].upper()}={w.partition('=')[2]}" for w in dsn]
