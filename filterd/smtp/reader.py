"""The SMTP session's input: command lines, a limited line (AUTH's responses), and DATA's pieces and blocks, as
read from an asyncio StreamReader."""

from __future__ import annotations

import asyncio


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


async def read_limited_line(reader: asyncio.StreamReader, limit: int) -> tuple[str, int]:
    """A line without its CRLF, kept up to `limit` characters (and one more), and its whole length: the rest of a
    longer line is read and dropped, however long."""
    kept, length, last_two = b"", 0, b""
    while True:
        try:
            piece, ended = await reader.readuntil(b"\n"), True
        except asyncio.LimitOverrunError as exc:
            piece, ended = await reader.read(exc.consumed), False
        kept, length, last_two = (kept + piece)[:limit + 2], length + len(piece), (last_two + piece)[-2:]
        if ended:
            length -= 2 if last_two == b"\r\n" else 1
            return kept[:min(length, limit + 1)].decode("utf-8", "surrogateescape"), length


DATA_BLOCK = 65536
"""The most DATA that one read hands the decoder and parser."""


class CommandReader(asyncio.StreamReader):
    """The session's reader: once every line before the end of input is read, the session ends as aiosmtpd ends a
    lost connection (a partial last line, never ended by a newline, is dropped)."""

    last_line = b""

    async def readuntil(self, separator: bytes = b"\n") -> bytes:
        try:
            self.last_line = await super().readuntil(separator)
        except asyncio.IncompleteReadError:
            raise asyncio.CancelledError from None
        return self.last_line

    async def wait_for_input(self) -> None:
        """Until the client has sent something, or hung up."""
        if not self._buffer and not self._eof:  # type: ignore[attr-defined]
            await self._wait_for_data("wait_for_input")  # type: ignore[attr-defined]

    def peek(self, most: int) -> bytes:
        """What the client sent so far (up to `most` bytes), left to be read."""
        return bytes(self._buffer[:most])  # type: ignore[attr-defined]

    def consume(self, count: int) -> None:
        """Drop `count` bytes that peek() showed."""
        del self._buffer[:count]  # type: ignore[attr-defined]
        self._maybe_resume_transport()  # type: ignore[attr-defined]

    async def read_data_lines(self, most: int = DATA_BLOCK) -> bytes:
        """DATA's next piece (read_data_piece), with the whole lines already buffered behind it, at most `most`
        bytes and none past a lone dot line (what follows the end of data is the client's next commands): one
        decoding step for many lines."""
        first = await read_data_piece(self)
        buffer = self._buffer  # type: ignore[attr-defined]
        if not first.endswith(b"\n") or first == b".\r\n" or not buffer:
            return first
        end = buffer.rfind(b"\n", 0, most) + 1
        if buffer.startswith(b".\r\n"):
            end = 3
        elif (dot := buffer.find(b"\n.\r\n", 0, end)) >= 0:
            end = dot + 4
        if not end:
            return first
        lines = bytes(buffer[:end])
        del buffer[:end]
        self._maybe_resume_transport()  # type: ignore[attr-defined]
        return first + lines
