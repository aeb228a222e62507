"""A body's hash (bh=) under simple or relaxed canonicalization, fed chunk by chunk as the body streams from the
spool: dkimpy's line rules applied to each run of whole lines, trailing empty lines held back until text follows,
so that memory does not grow with the message.
"""

from __future__ import annotations

import hashlib

from dkim.canonicalization import compress_whitespace, strip_trailing_whitespace

CRLF = b"\r\n"


class BodyHash:
    """The SHA-256 (or SHA-1) hash of one canonical body; `limit` is a signature's l=, bytes hashed at most."""

    def __init__(self, relaxed: bool, algorithm: str = "sha256", limit: int | None = None) -> None:
        self.relaxed = relaxed
        self._hash = hashlib.new(algorithm)
        self._limit = limit
        self._partial = b""
        self._empty_lines = 0
        self._hashed = 0

    def update(self, chunk: bytes) -> None:
        data = self._partial + chunk
        end = data.rfind(CRLF) + 2
        if end == 1:
            self._partial = data
            return
        self._partial = data[end:]
        self._lines(data[:end])

    def _lines(self, lines: bytes) -> None:
        """Whole lines (each ending in CRLF), canonicalized; empty lines at the end kept back as a count."""
        if self.relaxed:
            lines = compress_whitespace(strip_trailing_whitespace(lines))
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
        if self._partial:
            self._lines(self._partial + CRLF)
            self._partial = b""
        if self._hashed == 0 and not self.relaxed:
            self._feed(CRLF)
        return self._hash.digest()
