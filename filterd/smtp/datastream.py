"""Sans-IO decoding of the DATA phase: end-of-data, dot-unstuffing, bare newlines, size limit.

Only <CR><LF>.<CR><LF> ends the data (Postfix's smtpd_forbid_bare_newline): a bare LF, a bare CR,
"\\n.\\n" or "\\r.\\n" is content, never an end of data. Bare LF and bare CR both leave as CRLF
(the content may then hold several lines per piece), so no next hop can read a smuggled end of data.
"""

from __future__ import annotations

from dataclasses import dataclass

NORMALIZE = "normalize"
REJECT = "reject"


@dataclass
class DataState:
    """What the decoder has seen so far."""

    size: int = 0
    too_big: bool = False
    bare_newline: bool = False
    bare_cr: bool = False
    ended: bool = False


class DataDecoder:
    """Feed what the socket gave (whole lines, or pieces of an overlong line); get content back."""

    def __init__(self, size_limit: int = 0, bare_newline: str = NORMALIZE):
        self.size_limit = size_limit
        self.bare_newline_mode = REJECT if bare_newline == REJECT else NORMALIZE
        self.state = DataState()
        self._line_start = True
        self._after_crlf = True
        self._pending_cr = False

    def feed(self, piece: bytes) -> bytes:
        """Decode one piece; returns the content it carries (b"" once the limit is passed or data ended)."""
        if self.state.ended or not piece:
            return b""
        complete = piece.endswith(b"\n")
        if self._line_start and complete and piece == b".\r\n" and self._after_crlf:
            self.state.ended = True
            return b""
        if self._line_start and piece.startswith(b"."):
            piece = piece[1:]
        if complete:
            piece = self._terminate(piece)
        else:
            self._pending_cr = piece.endswith(b"\r")
        self._line_start = complete
        return self._count(self._bare_cr(piece, complete))

    def _bare_cr(self, piece: bytes, complete: bool) -> bytes:
        """A CR not followed by LF ends a line too: make it CRLF, as aiosmtplib would on the way out."""
        if complete:
            if piece == b"\n":
                return piece
            head, tail = piece[:-2], b"\r\n"
        else:
            head, tail = (piece[:-1], b"\r") if piece.endswith(b"\r") else (piece, b"")
        if b"\r" not in head:
            return piece
        self.state.bare_cr = True
        return head.replace(b"\r", b"\r\n") + tail

    def _terminate(self, line: bytes) -> bytes:
        crlf = line.endswith(b"\r\n") or (line == b"\n" and self._pending_cr)
        self._pending_cr = False
        self._after_crlf = crlf
        if crlf:
            return line
        self.state.bare_newline = True
        return line[:-1] + b"\r\n"

    def _count(self, content: bytes) -> bytes:
        self.state.size += len(content)
        if self.size_limit and self.state.size > self.size_limit:
            self.state.too_big = True
        if self.state.too_big or (self.state.bare_newline and self.bare_newline_mode == REJECT):
            return b""
        return content
