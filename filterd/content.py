"""Message content: logical headers (Header) and body lines (BodyLine) as received, the wire text codec, and the
sans-IO parser that splits content into them (the body spooled as it comes), as events that filterd.lifecycle
gives to the chain."""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import IO, Iterable, Iterator


def decode(raw: bytes) -> str:
    """Bytes from the wire as text: UTF-8, with undecodable bytes kept (surrogateescape)."""
    return raw.decode("utf-8", "surrogateescape")


def encode(text: str) -> bytes:
    return text.encode("utf-8", "surrogateescape")


@dataclass(frozen=True, eq=False)
class Header:
    """One logical header, kept exactly as received (`raw`, folding included)."""

    raw: bytes

    @classmethod
    def make(cls, name: str, value: str) -> Header:
        return cls(encode(f"{name}: {value}") + b"\r\n")

    @property
    def name(self) -> str:
        return decode(self.raw.split(b":", 1)[0]).strip()

    @property
    def value(self) -> str:
        """The unfolded value without the leading space."""
        body = self.raw.split(b":", 1)[1] if b":" in self.raw else b""
        return decode(body.replace(b"\r\n", b"").replace(b"\n", b"")).strip(" \t")

    @property
    def text(self) -> str:
        """The logical header as header_checks sees it: "Name: value", folding newlines kept as \\n."""
        return decode(self.raw.rstrip(b"\r\n").replace(b"\r\n", b"\n"))

    def __repr__(self) -> str:
        return f"Header({self.text!r})"


_HEADER_START = re.compile(rb"^[!-9;-~]+[ \t]*:")

def crlf_lines(chunks: Iterable[bytes]) -> Iterator[bytes]:
    """Whole lines from chunks of a stored or submitted message, a lone LF made CRLF."""
    pending = b""
    for chunk in chunks:
        lines = (pending + chunk).split(b"\n")
        pending = lines.pop()
        for line in lines:
            yield line + b"\n" if line.endswith(b"\r") else line + b"\r\n"
    if pending:
        yield pending


@dataclass(frozen=True)
class BodyLine:
    """One body line (or piece of an overlong one) and its 0-based line number in the body."""

    index: int
    raw: bytes

    @property
    def text(self) -> bytes:
        """The line without its CRLF, as body_checks sees it."""
        return self.raw[:-2] if self.raw.endswith(b"\r\n") else self.raw.rstrip(b"\n")


HEADER = "header"
END_OF_HEADERS = "end_of_headers"
BODY = "body"


class ContentParser:
    """Feed CRLF-terminated content lines (or pieces of overlong ones); collect events for the hooks.

    Headers stay in memory (each bounded by header_size_limit, the excess dropped as Postfix does);
    body bytes go straight to `spool`, so memory does not grow with the message.
    """

    def __init__(self, spool: IO[bytes], header_size_limit: int = 102400, want_body_events: bool = True):
        self.spool = spool
        self.header_size_limit = header_size_limit
        self.want_body_events = want_body_events
        self.headers: list[Header] = []
        self.in_headers = True
        self._current: list[bytes] = []
        self._current_size = 0
        self._line_start = True
        self.body_line_count = 0
        self._settled: tuple[int, bool] = (0, False)

    def settled(self) -> tuple[list[Header], bool]:
        """The headers a whole line has followed, and whether such a line ended the header section: what Postfix's
        cleanup has processed of a message whose client hung up (smtpd drops a partial last line)."""
        count, ended = self._settled
        return self.headers[:count], ended

    def feed_line(self, line: bytes) -> list[tuple[str, object]]:
        """One piece of content; returns (event, value) pairs: header, end_of_headers, body."""
        events = self._feed(line)
        if line.endswith(b"\n"):
            self._settled = (len(self.headers), not self.in_headers)
        return events

    def feed_body(self, data: bytes) -> None:
        """Body content in bulk, for a chain that wants no body events: spooled, its lines counted."""
        self.spool.write(data)
        lines = data.count(b"\n")
        self.body_line_count += lines
        self._line_start = data.endswith(b"\n")
        if lines:
            self._settled = (len(self.headers), True)

    def _feed(self, line: bytes) -> list[tuple[str, object]]:
        complete = line.endswith(b"\n")
        starts_line, self._line_start = self._line_start, complete
        if not self.in_headers:
            return self._body(line)
        if not starts_line:
            self._append(line)
            return []
        if self._current and line[:1] in (b" ", b"\t"):
            self._append(line)
            return []
        events = self._flush()
        if line in (b"\r\n", b"\n"):
            return events + self._end_headers()
        if _HEADER_START.match(line):
            self._append(line)
            return events
        return events + self._end_headers() + self._body(line)

    def finish_events(self) -> list[tuple[str, object]]:
        """End of data: the events of what is pending (the last header, the end of headers)."""
        if not self.in_headers:
            return []
        return self._flush() + self._end_headers()

    def _append(self, piece: bytes) -> None:
        room = self.header_size_limit - self._current_size
        if room > 0:
            self._current.append(piece[:room])
            self._current_size += min(len(piece), room)

    def _flush(self) -> list[tuple[str, object]]:
        if not self._current:
            return []
        raw = b"".join(self._current)
        if not raw.endswith(b"\n"):
            raw = raw.rstrip(b"\r") + b"\r\n"  # truncated by header_size_limit, perhaps between CR and LF
        self._current, self._current_size = [], 0
        header = Header(raw)
        self.headers.append(header)
        return [(HEADER, header)]

    def _end_headers(self) -> list[tuple[str, object]]:
        self.in_headers = False
        return [(END_OF_HEADERS, None)]

    def _body(self, line: bytes) -> list[tuple[str, object]]:
        self.spool.write(line)
        index = self.body_line_count
        if line.endswith(b"\n"):
            self.body_line_count += 1
        return [(BODY, BodyLine(index, line))] if self.want_body_events else []
