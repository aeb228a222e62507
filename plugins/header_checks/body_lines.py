"""Body lines as Postfix's smtpd hands them to cleanup: records of at most line_length_limit bytes.

The core passes each body line to the `body` hook, or an overlong line in pieces of its own size;
Postfix's checks see records cut at line_length_limit. This rebuilds those records and numbers
the lines as the core does (a piece carries no line ending).
"""

from __future__ import annotations

from dataclasses import dataclass, field

Record = tuple[bytes, int, bool]
"""(text, line number, more): `more` when the line goes on in the next record."""


@dataclass
class BodyLines:
    """The body lines of one message so far: how many ended, the spool size, an unfinished line."""

    limit: int = 2048
    count: int = 0
    seen: int = 0
    """Bytes of body spooled, as far as known: counted line by line, read from the message when it matters."""
    partial: bytearray = field(default_factory=bytearray)

    def records(self, line: bytes, message) -> list[Record]:
        """The records that what the core passed completes; `message` is the message being received."""
        if len(line) < self.limit and not self.partial:
            self.count += 1
            self.seen += len(line) + 2
            return [(line, self.count - 1, False)]
        size = message.body_size
        grew, self.seen = size - self.seen, size
        return self._pieces(line, self.complete(line, grew))

    def complete(self, line: bytes, grew: int) -> bool:
        """Whether `line` (long, or after a piece) ended its line, judged by how much the body grew.

        A front end that passes each line as it spools it grew the body by the line and its ending,
        or by a piece alone; one that passes a batch of lines grew it once for all, and then only
        the length tells, as front ends cut pieces at line_length_limit. A shorter line always ends
        its line, but for a piece of a line the core split at a bare CR, where Postfix's lines
        differ from the core's anyway.
        """
        if 0 < grew <= len(line) + 2:
            return grew > len(line)
        return len(line) < self.limit

    def _pieces(self, line: bytes, complete: bool) -> list[Record]:
        index = self.count
        self.partial += line
        if not complete:
            return self._full_records(index, keep=1)
        if not line and self.partial.endswith(b"\r"):
            del self.partial[-1]
        self.count += 1
        out = self._full_records(index, keep=0)
        out.append((bytes(self.partial), index, False))
        self.partial.clear()
        return out

    def _full_records(self, index: int, keep: int) -> list[Record]:
        out = []
        while len(self.partial) >= self.limit + keep:
            out.append((bytes(self.partial[:self.limit]), index, True))
            del self.partial[:self.limit]
        return out
