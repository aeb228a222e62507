"""aiosmtpd's SMTP protocol, bent to Postfix's replies and limits, with DATA streamed instead of buffered.

aiosmtpd parses the commands; this subclass answers in Postfix's words, counts errors
(smtpd_soft/hard_error_limit), streams DATA through the sans-IO decoder into the handler, and
keeps a connection summary for the `disconnect from` log line.
"""

from __future__ import annotations

import asyncio
import collections
import functools
import socket
from typing import Any

from aiosmtpd.smtp import SMTP, login_always_fail

from filterd import maillog
from filterd.smtp import replies
from filterd.smtp.address_argument import envelope_address
from filterd.smtp.handler import SmtpHandler

_HANDLER_HOOKS = ("handle_EHLO", "handle_HELO", "handle_MAIL", "handle_RCPT", "handle_RSET", "handle_QUIT")
_SUMMARY_ORDER = ("helo", "ehlo", "xforward", "mail", "rcpt", "data", "rset", "noop", "quit", "unknown")


class SmtpServer(SMTP):
    """One client connection."""

    line_length_limit = 2048

    def __init__(self, handler: SmtpHandler, loop: asyncio.AbstractEventLoop):
        self._fast_init(handler, loop)
        self.handler = handler
        self.settings = handler.settings
        self.errors = 0
        self.greeted = False
        self.verbose = False
        self.counts: dict[str, list[int]] = {}
        self.current: str = "CONNECT"
        self.current_ok = False

    def _fast_init(self, handler: SmtpHandler, loop: asyncio.AbstractEventLoop) -> None:
        """aiosmtpd's SMTP.__init__ without its per-connection introspection (measured: 15% of a proxy worker).

        Sets the same attributes; tests/smtp/test_server.py fails if aiosmtpd grows new ones.
        """
        settings = handler.settings
        self.__ident__ = "filterd"
        self.loop = loop
        asyncio.StreamReaderProtocol.__init__(
            self, asyncio.StreamReader(loop=loop, limit=self.line_length_limit),
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
        self._smtp_methods = {name[5:]: self._counted(name[5:], getattr(self, name)) for name in _smtp_method_names()}

    # --- replies ---------------------------------------------------------------

    async def push(self, status: Any) -> None:
        if isinstance(status, bytes):
            status = status.decode("utf-8", "surrogateescape")
        if not self.greeted:
            self.greeted, status = True, f"220 {self.settings.banner}"
        status = replies.translate(status, self.current)
        if self.settings.soft_bounce:
            status = replies.soften(status)
        if status == replies.UNKNOWN_COMMAND:
            self.current = "UNKNOWN"
            ok, total = self.counts.get("unknown", [0, 0])
            self.counts["unknown"] = [ok, total + 1]
        if status[:1] in "23":
            self.current_ok = status[:1] == "2"
        if status[:1] in "45":
            self.errors += 1
            if self.errors > self.settings.soft_error_limit and self.settings.error_sleep_time:
                await asyncio.sleep(self.settings.error_sleep_time)
        if self.verbose:
            self._log_verbose(">", status)
        await super().push(status)
        if self.errors >= self.settings.hard_error_limit and not status.startswith("421") and self.transport:
            maillog.warning(self.settings.service, "too many errors after %s from %s", self.current,
                            self.handler.session.client)
            await super().push(replies.TOO_MANY_ERRORS.format(host=self.settings.myhostname))
            self.transport.close()

    def _counted(self, name: str, method: Any) -> Any:
        async def counted(arg: str | None) -> None:
            self.current, self.current_ok = name, False
            if self.verbose:
                self._log_verbose("<", f"{name} {arg}" if arg else name)
            try:
                if arg and "\x00" in arg:
                    await self.push(replies.BAD_SYNTAX)
                elif arg and not arg.isascii() and not _valid_utf8(arg):
                    await self.push(replies.BAD_UTF8)
                else:
                    if name in ("MAIL", "RCPT") and arg:
                        arg, self.handler.dsn_options = take_dsn(arg, name)
                    await method(arg)
            finally:
                ok, total = self.counts.setdefault(name.lower(), [0, 0])
                self.counts[name.lower()] = [ok + self.current_ok, total + 1]
        counted.__smtp_syntax__ = getattr(method, "__smtp_syntax__", None)  # type: ignore[attr-defined]
        counted.__smtp_syntax_when__ = getattr(method, "__smtp_syntax_when__", None)  # type: ignore[attr-defined]
        return counted

    def _log_verbose(self, direction: str, line: str) -> None:
        """debug_peer_list: Postfix's `< client: COMMAND` and `> client: REPLY` lines."""
        for part in line.split("\r\n"):
            maillog.info(self.settings.service, "%s %s: %s", direction, self.handler.session.client, part)

    def summary(self) -> str:
        """Postfix's `ehlo=1 mail=1 rcpt=0/1 data=1 quit=1 commands=4`."""
        names = sorted(self.counts, key=lambda n: (_SUMMARY_ORDER.index(n) if n in _SUMMARY_ORDER else 99, n))
        parts = [f"{n}={ok}" if ok == total else f"{n}={ok}/{total}" for n in names for ok, total in [self.counts[n]]]
        ok_all = sum(ok for ok, _ in self.counts.values())
        total_all = sum(total for _, total in self.counts.values())
        parts.append(f"commands={ok_all}" if ok_all == total_all else f"commands={ok_all}/{total_all}")
        return " ".join(parts)

    # --- connection ------------------------------------------------------------

    async def _handle_client(self) -> None:
        peer = self.transport.get_extra_info("peername") if self.transport else None
        session = self.handler.session
        if isinstance(peer, tuple):
            session.client_address, session.client_port = peer[0], peer[1]
            session.client_name = await self._peer_name(peer[0])
            self.verbose = self.settings.debug_peers.matches(session.client_name, session.client_address)
        await self.handler.on_connect()
        await super()._handle_client()

    async def _peer_name(self, address: str) -> str:
        if not self.settings.peername_lookup:
            return "unknown"
        try:
            name, _ = await asyncio.wait_for(self.loop.getnameinfo((address, 0), socket.NI_NAMEREQD), 5)
            return name
        except (OSError, asyncio.TimeoutError):
            return "unknown"

    def connection_lost(self, error: Exception | None) -> None:
        super().connection_lost(error)
        self.loop.create_task(self.handler.on_disconnect(self.summary()))

    def _timeout_cb(self) -> None:
        if self.transport is not None and not self.transport.is_closing():
            what = self.current
            if self.handler.decoder is not None:
                what = f"DATA ({self.handler.data_state().size} bytes)"
            maillog.info(self.settings.service, "timeout after %s from %s", what, self.handler.session.client)
            self._writer.write(replies.TIMEOUT.format(host=self.settings.myhostname).encode() + b"\r\n")
        super()._timeout_cb()

    def _getaddr(self, arg: str) -> tuple[str | None, str | None]:
        """The address and parameters of MAIL or RCPT as Postfix's smtpd reads them; (None, None) when malformed."""
        sender = self.current == "MAIL"
        smtputf8 = "SMTPUTF8" in arg.upper().split() if sender else bool(self.envelope and self.envelope.smtp_utf8)
        found = envelope_address(arg, self.settings.addresses, sender, smtputf8)
        return found if found is not None else (None, None)

    async def check_helo_needed(self, helo: str = "HELO") -> bool:
        """Postfix does not require HELO (smtpd_helo_required = no)."""
        return False

    # --- commands ---------------------------------------------------------------

    async def smtp_XFORWARD(self, arg: str | None) -> None:
        session = self.handler.session
        if not self.settings.xforward_allowed(session.client_address):
            await self.push("550 5.7.0 Error: insufficient authorization")
        elif self.handler.txn is not None:
            await self.push("503 5.5.1 Error: MAIL transaction in progress")
        elif not arg:
            await self.push("501 5.5.4 Syntax: XFORWARD attribute=value...")
        else:
            apply_xforward(session, arg)
            await self.push("250 2.0.0 Ok")

    async def smtp_DATA(self, arg: str | None) -> None:
        if arg:
            await self.push("501 5.5.4 Syntax: DATA")
            return
        refusal = await self.handler.start_data()
        if refusal:
            await self.push(refusal)
            return
        await self.push(replies.DATA_GO)
        await self._receive_data()
        reply = await self.handler.end_of_data()
        self._set_post_data_state()
        if reply.startswith("2"):
            self.errors = 0
        await self.push(reply)

    async def _receive_data(self) -> None:
        reader, handler = self._reader, self.handler
        lines = 0
        while not handler.data_state().ended:
            await handler.content(await read_data_piece(reader))
            lines += 1
            if lines % 64 == 0:
                self._reset_timeout()


async def read_data_piece(reader: asyncio.StreamReader) -> bytes:
    """The next piece of DATA: a line up to its LF, or as much of an overlong line as the buffer holds."""
    try:
        return await reader.readuntil(b"\n")
    except asyncio.LimitOverrunError as exc:
        return await reader.read(exc.consumed)
    except asyncio.IncompleteReadError as exc:
        if not exc.partial:
            raise ConnectionResetError("lost connection after DATA") from exc
        return exc.partial


_XFORWARD_FIELDS = {"NAME": "client_name", "ADDR": "client_address", "PROTO": "protocol", "HELO": "helo"}


def apply_xforward(session: Any, arg: str) -> None:
    """Take the original client's attributes from XFORWARD (already authorised)."""
    for item in arg.split():
        key, _, value = item.partition("=")
        value = _unxtext(value)
        if value in ("[UNAVAILABLE]", "[TEMPUNAVAIL]"):
            continue
        if key.upper() == "PORT" and value.isdigit():
            session.client_port = int(value)
        elif key.upper() in _XFORWARD_FIELDS:
            setattr(session, _XFORWARD_FIELDS[key.upper()], value)


def _unxtext(value: str) -> str:
    out, i = [], 0
    while i < len(value):
        if value[i] == "+" and i + 2 < len(value) + 0 and len(value[i + 1:i + 3]) == 2:
            try:
                out.append(chr(int(value[i + 1:i + 3], 16)))
                i += 3
                continue
            except ValueError:
                pass
        out.append(value[i])
        i += 1
    return "".join(out)


def _valid_utf8(text: str) -> bool:
    """Whether a command argument was valid UTF-8 (aiosmtpd decodes it with surrogateescape)."""
    try:
        text.encode("utf-8")
    except UnicodeEncodeError:
        return False
    return True


@functools.cache
def _smtp_method_names() -> tuple[str, ...]:
    return tuple(name for name in dir(SmtpServer) if name.startswith("smtp_"))


_DSN_KEYWORDS = {"MAIL": ("RET", "ENVID"), "RCPT": ("NOTIFY", "ORCPT")}


def take_dsn(arg: str, command: str) -> tuple[str, list[str]]:
    """RFC 3461 parameters, kept as sent (aiosmtpd would refuse them and upper-cases the rest)."""
    kept, dsn = [], []
    for word in arg.split(" "):
        keyword = word.partition("=")[0].upper()
        (dsn if keyword in _DSN_KEYWORDS[command] and "=" in word else kept).append(word)
    return " ".join(kept), [f"{w.partition('=')[0].upper()}={w.partition('=')[2]}" for w in dsn]
