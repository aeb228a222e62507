"""Reinjection through Postfix's sendmail (`sendmail -G -i -f SENDER -- RECIPIENT...`, as FILTER_README's
script does: the message streamed to its stdin with LF line ends, no shell), or by SMTP to a reinjection smtpd."""

from __future__ import annotations

import asyncio
import subprocess

import aiosmtplib

from filterd.model import Message
from filterd.smtp_data import send_content

OUTPUT_LIMIT = 2048


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


async def smtp_reinject(host: str, port: int, helo: str, sender: str, recipients: list[str], message: Message,
                        timeout: float = 300.0) -> tuple[int, str]:
    """(the reply code that decides, its text): 250 when the server took the message for every recipient."""
    smtp = aiosmtplib.SMTP(hostname=host, port=port, local_hostname=helo, timeout=timeout, start_tls=False)
    try:
        await smtp.connect()
        await smtp.ehlo()
        reply = await smtp.execute_command(f"MAIL FROM:<{sender}>".encode("utf-8", "surrogateescape"))
        for rcpt in recipients if reply.code == 250 else ():
            reply = await smtp.execute_command(f"RCPT TO:<{rcpt}>".encode("utf-8", "surrogateescape"))
            if reply.code not in (250, 251):
                break
        else:
            reply = await send_content(smtp, message.chunks(), timeout) if reply.code == 250 else reply
        await smtp.quit()
        return reply.code, reply.message.replace("\n", " ")
    except (OSError, aiosmtplib.SMTPException, asyncio.TimeoutError) as exc:
        return 451, f"4.4.1 reinjection to {host}[{port}] failed: {exc}"
    finally:
        smtp.close()
