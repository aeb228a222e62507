"""One message as the MTA streams it to the milter: headers kept as filterd Headers, the body spooled
(tempfile, in memory up to filterd_spool_memory_limit) and, when a plugin reads body lines, split into
lines through filterd.content's parser in body mode."""

from __future__ import annotations

import tempfile
from typing import IO

from filterd.content import ContentParser, Header
from filterd.milter.protocol.headers import to_header
from filterd.milter.server.settings import MilterSettings
from filterd.model import Message

Events = list[tuple[str, object]]


class LineSplitter:
    """Body chunks in, lines out with their LF: a line cut by a chunk boundary waits for its end, and one
    longer than `limit` comes out in pieces, as body_checks sees overlong lines."""

    def __init__(self, limit: int = 2048):
        self.limit = max(limit, 1)
        self._tail = b""

    def feed(self, chunk: bytes) -> list[bytes]:
        """The lines this chunk completes (with the piece held back from the last one)."""
        parts = (self._tail + chunk).split(b"\n")
        tail = parts.pop()
        lines: list[bytes] = []
        for part in parts:
            lines.extend(self._pieces(part + b"\n"))
        while len(tail) > self.limit:
            lines.append(tail[:self.limit])
            tail = tail[self.limit:]
        self._tail = tail
        return lines

    def finish(self) -> list[bytes]:
        """What is left when the body ends without a line end."""
        tail, self._tail = self._tail, b""
        return [tail] if tail else []

    def _pieces(self, line: bytes) -> list[bytes]:
        if len(line) <= self.limit:
            return [line]
        return [line[i:i + self.limit] for i in range(0, len(line), self.limit)]


class LazySpool:
    """A SpooledTemporaryFile made on first use: the MTA sends most milters no body at all."""

    def __init__(self, memory_limit: int):
        self._limit = memory_limit
        self._file: IO[bytes] | None = None
        self._closed = False

    def __getattr__(self, name: str):
        if self._file is None:
            if self._closed:
                raise ValueError("I/O operation on closed file")
            self._file = tempfile.SpooledTemporaryFile(max_size=self._limit)
        return getattr(self._file, name)

    def flush(self) -> None:
        if self._file is not None:
            self._file.flush()

    def close(self) -> None:
        self._closed = True
        if self._file is not None:
            self._file.close()

    @property
    def closed(self) -> bool:
        return self._closed


class MessageBuilder:
    """Collects one message; every method returns the content events (filterd.content) it produced."""

    def __init__(self, settings: MilterSettings, body_lines: bool, leading_space: bool):
        self.settings = settings
        self.leading_space = leading_space
        self.spool = LazySpool(settings.spool_memory_limit)
        self.parser = ContentParser(self.spool, settings.header_size_limit, body_lines)
        self.message = Message(self.parser.headers, self.spool)
        self.lines = LineSplitter(settings.line_length_limit) if body_lines else None

    def header(self, name: str, value: str) -> Header:
        header = to_header(name, value, self.leading_space, self.settings.header_size_limit)
        self.parser.headers.append(header)
        return header

    def end_of_headers(self) -> Events:
        """The header section is over (an empty list once it was)."""
        return self.parser.finish_events()

    def body(self, chunk: bytes) -> Events:
        events = self.end_of_headers()
        if self.lines is None:
            self.spool.write(chunk)
            return events
        for line in self.lines.feed(chunk):
            events += self.parser.feed_line(line)
        return events

    def finish(self) -> Events:
        events = self.end_of_headers()
        for piece in self.lines.finish() if self.lines is not None else ():
            events += self.parser.feed_line(piece)
        self.spool.flush()
        return events

    def close(self) -> None:
        self.spool.close()
