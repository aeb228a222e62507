"""Sending a message's content as an SMTP client's DATA: dot-stuffed and streamed with flow control; the
proxy's next hop and the SMTP delivery agent both send this way."""

from __future__ import annotations

import asyncio
import re
from typing import Iterator

import aiosmtplib

_LINE_START_DOT = re.compile(rb"(?m)^\.")


def stuffed(chunks: Iterator[bytes]) -> Iterator[bytes]:
    """Dot-stuff CRLF content for DATA, across chunk boundaries, and make sure it ends with CRLF."""
    at_line_start, last = True, b"\r\n"
    for chunk in chunks:
        if not chunk:
            continue
        out = _LINE_START_DOT.sub(b"..", chunk)
        if not at_line_start and chunk[:1] == b".":
            out = out[1:]
        at_line_start, last = chunk.endswith(b"\n"), chunk
        yield out
    if not last.endswith(b"\n"):
        yield b"\n" if last.endswith(b"\r") else b"\r\n"


async def send_content(smtp: aiosmtplib.SMTP, chunks: Iterator[bytes], timeout: float):
    """DATA, the content dot-stuffed and streamed with flow control, the final reply (or the refusal of DATA)."""
    reply = await smtp.execute_command(b"DATA")
    if reply.code != 354:
        return reply
    protocol = smtp.protocol
    assert protocol is not None
    for chunk in stuffed(chunks):
        protocol.write(chunk)
        if protocol._paused:
            async with asyncio.timeout(timeout):
                await protocol._drain_helper()
    protocol.write(b".\r\n")
    return await protocol.read_response(timeout=timeout)
