"""Sans-IO decoding of the DATA phase: end-of-data, dot-unstuffing, bare newlines, size limit.

Only <CR><LF>.<CR><LF> ends the data (Postfix's smtpd_forbid_bare_newline): a bare LF, a bare CR,
"\\n.\\n" or "\\r.\\n" is content, never an end of data. Bare LF and bare CR both leave as CRLF
(the content may then hold several lines per piece), so no next hop can read a smuggled end of data.

The decoder is fed what the socket gave, cut anywhere except that an LF always ends its piece (as
asyncio's readuntil(b"\\n") with a limit cuts it): however the data is cut, the content and the state
come out the same. A CR that ends a piece is held back until the next piece says whether an LF follows.

BDAT's chunks (RFC 3030) go through the same decoder without dot-stuffing and end marker (`dot_stuffed=False`), so
that the message stored or relayed is the one DATA would give for the same text.
"""

from __future__ import annotations

from dataclasses import dataclass

NORMALIZE = "normalize"
REJECT = "reject"
CRLF = b"\r\n"


@dataclass
class DataState:
    """What the decoder has seen so far."""

    size: int = 0
    too_big: bool = False
    bare_newline: bool = False
    bare_cr: bool = False
    ended: bool = False


class DataDecoder:
    """Feed what the socket gave (whole lines, or pieces of an overlong line); get content back.

    The content is CRLF-only and unstuffed; it stops at message_size_limit bytes and, when bare
    newlines are refused, at the first bare LF (the message is refused then, but read to its end).
    """

    def __init__(self, size_limit: int = 0, bare_newline: str = NORMALIZE, dot_stuffed: bool = True):
        self.size_limit, self.dot_stuffed = size_limit, dot_stuffed
        self.bare_newline_mode = REJECT if bare_newline == REJECT else NORMALIZE
        self.state = DataState()
        self._line_start = True
        self._after_crlf = True
        self._held_cr = False
        self._dot_only = False
        self._closed = False
        self._mid_line = False

    def feed(self, piece: bytes) -> bytes:
        """Decode one piece; returns the content it carries (b"" once the limit is passed or data ended)."""
        if self.state.ended or not piece:
            return b""
        if self._line_start and self.dot_stuffed:
            self._line_start = False
            self._dot_only = piece[:1] == b"."
            piece = piece[1:] if self._dot_only else piece
        if self._held_cr:
            piece, self._held_cr = b"\r" + piece, False
        if self._dot_only and piece == CRLF and self._after_crlf:
            self.state.ended = True
            return b""
        self._dot_only = self._dot_only and piece in (b"", b"\r")
        if piece.endswith(b"\n"):
            self._mid_line = False
            return self._line_end(piece)
        self._mid_line = True
        if piece.endswith(b"\r"):
            self._held_cr, piece = True, piece[:-1]
        return self._count(self._bare_cr(piece), b"")

    def feed_lines(self, block: bytes) -> bytes:
        """Several pieces at once, each LF ending one: the content and state that feeding them one by one gives, in
        one step when they are dot-stuffed lines that all end in CRLF, with no other CR or LF in them and a lone
        dot line, if any, last."""
        if not self._plain(block):
            return b"".join(self.feed(piece) for piece in _pieces(block))
        ended = block == b".\r\n" or block.endswith(b"\r\n.\r\n")
        text = block[:-3] if ended else block
        text = (text[1:] if text.startswith(b".") else text).replace(b"\r\n.", CRLF)
        self._dot_only = self._mid_line = False
        content = self._count(text, b"")
        self.state.ended = ended
        return content

    def _plain(self, block: bytes) -> bool:
        if not (self.dot_stuffed and self._line_start and self._after_crlf and not self._held_cr
                and not self.state.ended and block.endswith(CRLF)):
            return False
        crlf = block.count(CRLF)
        if block.count(b"\n") != crlf or block.count(b"\r") != crlf:
            return False
        if block.startswith(b".\r\n"):
            return len(block) == 3
        return block.find(b"\r\n.\r\n") in (-1, len(block) - 5)

    def end_of_chunks(self) -> bytes:
        """BDAT LAST: a last line left without its ending gets CRLF, as a DATA client must end it before the dot."""
        return self.feed(CRLF) if self._mid_line else b""

    def _line_end(self, piece: bytes) -> bytes:
        """The last piece of a line: its ending made CRLF, a bare LF flagged."""
        crlf = piece.endswith(CRLF)
        self._line_start, self._after_crlf = True, crlf
        if not crlf:
            self.state.bare_newline = True
        return self._count(self._bare_cr(piece[:-2] if crlf else piece[:-1]), CRLF)

    def _bare_cr(self, text: bytes) -> bytes:
        """A CR not followed by LF ends a line too: make it CRLF, as aiosmtplib would on the way out."""
        if b"\r" not in text:
            return text
        self.state.bare_cr = True
        return text.replace(b"\r", CRLF)

    def _count(self, text: bytes, ending: bytes) -> bytes:
        """Count the content; give what is within the size limit and before a refused bare LF."""
        start = self.state.size
        self.state.size += len(text) + len(ending)
        if self.size_limit and self.state.size > self.size_limit:
            self.state.too_big = True
        if self._closed:
            return b""
        if self.state.bare_newline and self.bare_newline_mode == REJECT:
            self._closed, ending = True, b""
        content = text + ending if ending else text
        if self.size_limit and self.state.size > self.size_limit:
            return content[:max(0, self.size_limit - start)].removesuffix(b"\r")
        return content


def _pieces(block: bytes) -> list[bytes]:
    """The block cut after each LF."""
    pieces = [line + b"\n" for line in block.split(b"\n")]
    pieces[-1] = pieces[-1][:-1]
    return pieces if pieces[-1] else pieces[:-1]
