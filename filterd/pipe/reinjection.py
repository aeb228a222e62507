"""Reinjection through Postfix's sendmail (`sendmail -G -i -f SENDER -- RECIPIENT...`, as FILTER_README's
script does: the message streamed to its stdin with LF line ends, no shell), or by SMTP to a reinjection smtpd,
over a connection kept open between messages when the caller is a resident service."""

from __future__ import annotations

import subprocess

import aiosmtplib

from filterd.connection_cache import QUIT_ERRORS, CacheLimits, Connection, ConnectionCache, quit_politely
from filterd.model import Message
from filterd.smtp_data import send_content

OUTPUT_LIMIT = 2048
IDLE_LIMIT = 2.0
"""How long an idle connection to the reinjection smtpd is kept, as Postfix's smtp_connection_cache_time_limit."""


def reinject(sendmail: str, sender: str, recipients: list[str], message: Message) -> tuple[int, str]:
    """(sendmail's exit status, what it said on stderr)."""
    argv = [sendmail, "-G", "-i", "-f", sender, "--", *recipients]
    with subprocess.Popen(argv, stdin=subprocess.PIPE, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE) as child:
        try:
            held = b""
            for chunk in message.chunks():
                chunk = held + chunk
                held = b"\r" if chunk.endswith(b"\r") else b""
                child.stdin.write(chunk[:len(chunk) - len(held)].replace(b"\r\n", b"\n"))
            child.stdin.write(held)
            child.stdin.close()
        except BrokenPipeError:
            pass
        said = child.stderr.read()
        status = child.wait()
    return status, " ".join(said[:OUTPUT_LIMIT].decode("utf-8", "replace").split())


def parse_reinjection(value: str) -> tuple[str, int] | None:
    """None for sendmail, (host, port) for smtp:[HOST]:PORT; ValueError otherwise."""
    if value == "sendmail":
        return None
    transport, _, nexthop = value.partition(":")
    host, _, port = nexthop.removeprefix("[").partition("]:")
    if transport != "smtp" or not host or not port.isdigit():
        raise ValueError(f'bad value "{value}": expected sendmail or smtp:[HOST]:PORT')
    return host, int(port)


async def _transaction(smtp: aiosmtplib.SMTP, sender: str, recipients: list[str], message: Message,
                       timeout: float) -> aiosmtplib.SMTPResponse:
    """MAIL, each RCPT and DATA on an open connection; the reply that decides."""
    reply = await smtp.execute_command(f"MAIL FROM:<{sender}>".encode("utf-8", "surrogateescape"))
    for rcpt in recipients if reply.code == 250 else ():
        reply = await smtp.execute_command(f"RCPT TO:<{rcpt}>".encode("utf-8", "surrogateescape"))
        if reply.code not in (250, 251):
            return reply
    return await send_content(smtp, message.chunks(), timeout) if reply.code == 250 else reply


class SmtpReinjection:
    """The reinjection smtpd at host:port. With keep=True, a connection that ended a transaction well waits in
    Postfix's connection cache (filterd.connection_cache) for the next message; one that the server closed
    meanwhile is replaced by a new one."""

    def __init__(self, host: str, port: int, helo: str, timeout: float = 300.0, keep: bool = False):
        self.host, self.port, self.helo, self.timeout, self.keep = host, port, helo, timeout, keep
        self._cache = ConnectionCache(CacheLimits(time_limit=IDLE_LIMIT, quit_timeout=timeout))

    async def send(self, sender: str, recipients: list[str], message: Message) -> tuple[int, str]:
        """(the reply code that decides, its text): 250 when the server took the message for every recipient."""
        while (kept := self._cache.take((self.host, self.port))) is not None:
            try:
                code, text = await self._deliver(kept, sender, recipients, message)
            except QUIT_ERRORS:
                kept.smtp.close()
                continue
            if code != 421:
                return code, text
        smtp = aiosmtplib.SMTP(hostname=self.host, port=self.port, local_hostname=self.helo, timeout=self.timeout,
                               start_tls=False)
        try:
            await smtp.connect()
            await smtp.ehlo()
            return await self._deliver(Connection(smtp), sender, recipients, message)
        except QUIT_ERRORS as exc:
            smtp.close()
            return 451, f"4.4.1 reinjection to {self.host}[{self.port}] failed: {exc}"

    async def _deliver(self, connection: Connection, sender: str, recipients: list[str],
                       message: Message) -> tuple[int, str]:
        reply = await _transaction(connection.smtp, sender, recipients, message, self.timeout)
        if not (reply.code == 250 and self.keep and self._cache.store((self.host, self.port), connection)):
            await quit_politely(connection.smtp, self.timeout)
        return reply.code, reply.message.replace("\n", " ")

    async def close(self) -> None:
        """QUIT every idle connection."""
        await self._cache.quit_all()
