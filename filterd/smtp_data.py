"""Sending a message's content as an SMTP client's DATA: dot-stuffed, long lines broken as Postfix's smtp(8)
breaks them, and streamed with flow control; the proxy's next hop and the SMTP delivery agent both send this way."""

from __future__ import annotations

import asyncio
import re
from typing import Any, Callable, Iterable, Iterator

import aiosmtplib

CRLF = b"\r\n"
BREAK = b"\r\n "
"""What Postfix inserts into a line longer than smtp_line_length_limit: <CR><LF><SPACE>."""
_LINE_START_DOT = re.compile(rb"(?m)^\.")


class DataEncoder:
    """Content to DATA's wire form, chunk by chunk, in memory bounded by the chunk, not the line.

    Every line leaves with CRLF (a stray CR or LF too, so no next hop reads a smuggled end of data),
    a leading dot is doubled, and a line longer than `line_length_limit` (0: no limit) is broken as
    Postfix's smtp_text_out breaks it, headers and body alike: after the limit, then every limit - 1
    bytes, each continuation starting with a space; the stuffing dot does not count.
    """

    def __init__(self, line_length_limit: int = 0):
        self.limit = max(line_length_limit, 2) if line_length_limit > 0 else 0
        self.broke_lines = False
        self._column = 0
        self._line_start = True
        self._held_cr = False

    def encode(self, chunk: bytes) -> bytes:
        """The wire form of one chunk; a CR that ends it waits for the next chunk."""
        if self._held_cr:
            chunk, self._held_cr = b"\r" + chunk, False
        if chunk.endswith(b"\r"):
            chunk, self._held_cr = chunk[:-1], True
        if not chunk:
            return b""
        if self._plain(chunk):
            return self._stuffed(chunk)
        segments, out = chunk.split(b"\n"), []
        for segment in segments[:-1]:
            for text in segment.removesuffix(b"\r").split(b"\r"):
                self._line(out, text, True)
        *complete, last = segments[-1].split(b"\r")
        for text in complete:
            self._line(out, text, True)
        self._line(out, last, False)
        return b"".join(out)

    def finish(self) -> bytes:
        """What ends the content: CRLF unless it already ended with a line end."""
        ended = self._line_start and not self._held_cr
        self._held_cr, self._line_start, self._column = False, True, 0
        return b"" if ended else CRLF

    def _plain(self, chunk: bytes) -> bool:
        """Whether the chunk has only CRLF line ends and no line that could reach the limit."""
        lfs = chunk.count(b"\n")
        if chunk.count(b"\r") != lfs or chunk.count(CRLF) != lfs:
            return False
        if not self.limit or self._column + len(chunk) < self.limit:
            return True
        return self._column + max(map(len, chunk.split(b"\n"))) < self.limit

    def _stuffed(self, chunk: bytes) -> bytes:
        out = chunk
        if chunk[:1] == b"." or b"\n." in chunk:
            out = _LINE_START_DOT.sub(b"..", chunk)
            if not self._line_start and chunk[:1] == b".":
                out = out[1:]
        last_lf = chunk.rfind(b"\n")
        if last_lf == -1:
            self._column, self._line_start = self._column + len(chunk), False
        else:
            self._column = len(chunk) - last_lf - 1
            self._line_start = not self._column
        return out

    def _line(self, out: list[bytes], text: bytes, complete: bool) -> None:
        """One line, or the start of one, whole lines ended with CRLF."""
        if text:
            if self._line_start and text[:1] == b".":
                out.append(b".")
            self._line_start = False
            out.append(self._fold(text))
        if complete:
            out.append(CRLF)
            self._column, self._line_start = 0, True

    def _fold(self, text: bytes) -> bytes:
        """Break the text where the line passes the limit; a line that just fills it is not broken."""
        room = self.limit - self._column
        if not self.limit or len(text) <= room:
            self._column += len(text)
            return text
        self.broke_lines = True
        step = max(self.limit - 1, 1)
        pieces, at = [text[:room]], room
        while len(text) - at > step:
            pieces.append(text[at:at + step])
            at += step
        pieces.append(text[at:])
        self._column = 1 + len(text) - at
        return BREAK.join(pieces)


def stuffed(chunks: Iterable[bytes], encoder: DataEncoder | None = None) -> Iterator[bytes]:
    """DATA's wire form of the content (without the final "."), chunk by chunk."""
    encoder = encoder or DataEncoder()
    for chunk in chunks:
        if out := encoder.encode(chunk):
            yield out
    if out := encoder.finish():
        yield out


async def send_content(smtp: aiosmtplib.SMTP, chunks: Iterable[bytes], timeout: float,
                       encoder: DataEncoder | None = None, on_reply: Callable[[Any], None] | None = None):
    """DATA, the content encoded and streamed with flow control, the final reply (or the refusal of DATA); the last
    chunk goes in one write with the final ".", one send for a small message. `on_reply` gets the final reply as
    soon as it is read, before this returns it."""
    reply = await smtp.execute_command(b"DATA")
    if reply.code != 354:
        return reply
    return await send_body(smtp, chunks, timeout, encoder, on_reply)


async def send_body(smtp: aiosmtplib.SMTP, chunks: Iterable[bytes], timeout: float,
                    encoder: DataEncoder | None = None, on_reply: Callable[[Any], None] | None = None):
    """After DATA's 354: the content and the final ".", as send_content sends them; the final reply."""
    protocol = smtp.protocol
    assert protocol is not None
    last = b""
    for chunk in stuffed(chunks, encoder):
        if last:
            protocol.write(last)
        last = chunk
        if protocol._paused:
            async with asyncio.timeout(timeout):
                await protocol._drain_helper()
    protocol.write(last + b".\r\n")
    if on_reply is not None:
        _when_read(protocol._response_waiter, on_reply)
    return await protocol.read_response(timeout=timeout)


def _when_read(waiter: asyncio.Future | None, on_reply: Callable[[Any], None]) -> None:
    """on_reply(the final reply) from the loop turn that follows its reading: a turn or two before the awaiting
    task resumes (asyncio.wait_for adds one), so that a delivery agent records a 250 as soon as it can."""
    def done(future: asyncio.Future) -> None:
        if not future.cancelled() and future.exception() is None:
            on_reply(future.result())

    if waiter is not None:
        waiter.add_done_callback(done)
