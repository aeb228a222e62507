"""A DKIM or ARC body hash (bh=, RFC 6376 section 3.4) under simple or relaxed canonicalization, fed chunk by
chunk as the body streams from the spool (public: the dkim and arc plugins share it): dkimpy's line rules applied to each run of whole lines, trailing empty lines held back until text follows,
and of a line longer than `hold` the part no later byte can change hashed at once, so that memory does not grow
with the message, nor with its longest line.
"""

from __future__ import annotations

import hashlib

from dkim.canonicalization import compress_whitespace, strip_trailing_whitespace

CRLF = b"\r\n"


class BodyHash:
    """The SHA-256 (or SHA-1) hash of one canonical body; `limit` is a signature's l=, bytes hashed at most; `hold`
    the bytes of an unfinished line kept before its start is hashed."""

    def __init__(self, relaxed: bool, algorithm: str = "sha256", limit: int | None = None,
                 hold: int = 65536) -> None:
        self.relaxed = relaxed
        self._hash = hashlib.new(algorithm)
        self._limit = limit
        self._hold = hold
        self._partial = b""
        self._empty_lines = 0
        self._hashed = 0
        self._within_line = False

    def update(self, chunk: bytes) -> None:
        data = self._partial + chunk
        end = data.rfind(CRLF) + 2
        if end > 1:
            self._lines(data[:end])
            data = data[end:]
        self._partial = data
        if len(data) > self._hold:
            self._settle()

    def _settle(self) -> None:
        """Hash the start of the unfinished line, up to what the next bytes may still change."""
        settled = self._settled_end(self._partial)
        text, rest = self._partial[:settled], self._partial[settled:]
        if text:
            self._feed(CRLF * self._empty_lines + (compress_whitespace(text) if self.relaxed else text))
            self._empty_lines, self._within_line = 0, True
        self._partial = b" " + rest.lstrip(b" \t") if self.relaxed and rest[:1] in (b" ", b"\t") else rest

    def _settled_end(self, data: bytes) -> int:
        """Where the end that later bytes may still change starts: a CR (of a CRLF to come) and, relaxed, the white
        space before it (stripped at the end of the line, else made one space)."""
        end = len(data) - data.endswith(b"\r")
        return len(data[:end].rstrip(b" \t")) if self.relaxed else end

    def _lines(self, lines: bytes) -> None:
        """Whole lines (each ending in CRLF), canonicalized; empty lines at the end kept back as a count."""
        if self.relaxed:
            lines = compress_whitespace(strip_trailing_whitespace(lines))
        if self._within_line:
            end = lines.find(CRLF) + 2
            self._feed(lines[:end])
            self._within_line, lines = False, lines[end:]
        text_end = len(lines)
        while text_end and (text_end == 2 or lines[text_end - 3] == ord("\n")):
            text_end -= 2
        if text_end == 0:
            self._empty_lines += len(lines) // 2
            return
        self._feed(CRLF * self._empty_lines + lines[:text_end])
        self._empty_lines = (len(lines) - text_end) // 2

    def _feed(self, data: bytes) -> None:
        if self._limit is not None:
            data = data[:max(self._limit - self._hashed, 0)]
        self._hashed += len(data)
        self._hash.update(data)

    def digest(self) -> bytes:
        """The hash of the body fed so far, as if it ended here (a last line without CRLF gets one)."""
        if self._partial or self._within_line:
            self._lines(self._partial + CRLF)
            self._partial = b""
        if self._hashed == 0 and not self.relaxed:
            self._feed(CRLF)
        return self._hash.digest()
