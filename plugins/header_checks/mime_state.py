"""Where each line of a message belongs, as Postfix's cleanup sees it (mime_state(3)), sans-IO.

The primary headers come in one logical header at a time; body lines come as records (a line, or
a line_length_limit piece of a longer one). Out come Pieces, each named after the table that
inspects it: `header_checks` (primary headers), `mime_header_checks` (MIME headers anywhere, and
every header after a multipart boundary), `nested_header_checks` (headers of an attached
message/rfc822), `body_checks` (everything else, boundaries included, with the offset into its
body segment that body_checks_size_limit counts). A header inside the body is complete only when
the next record is not its continuation, so it comes out one record late (or from finish()).
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import NamedTuple

from .mime_tokens import RFC2045_TSPECIALS, header_tokens

HEADER_CHECKS = "header_checks"
MIME_HEADER_CHECKS = "mime_header_checks"
NESTED_HEADER_CHECKS = "nested_header_checks"
BODY_CHECKS = "body_checks"
MIME_ERROR = "mime_error"

PRIMARY, MULTIPART, NESTED, BODY = "primary", "multipart", "nested", "body"
TEXT, MESSAGE, COMPOSITE, OTHER = "text", "message", "multipart", "other"
HEADER_STATES = {PRIMARY: HEADER_CHECKS, MULTIPART: MIME_HEADER_CHECKS, NESTED: NESTED_HEADER_CHECKS}
MIME_NAMES = frozenset({b"content-description", b"content-disposition", b"content-id",
                        b"content-transfer-encoding", b"content-type", b"mime-version"})
NESTING_ERROR = "MIME nesting exceeds safety limit"
_HEADER_NAME = re.compile(rb"([!-9;-~]+)[ \t]*:")


class Piece(NamedTuple):
    """One unit of inspection: the table class that sees it, its text, and the body lines it spans.

    first/last are 0-based body line numbers (None for primary headers); `offset` is the byte
    offset of a body record in its body segment.
    """

    table: str
    text: bytes
    first: int | None = None
    last: int | None = None
    offset: int = 0


@dataclass
class Boundary:
    """One open multipart: its (truncated) boundary and the default type of its parts."""

    text: bytes
    part_type: str
    part_subtype: str


def header_name_length(line: bytes) -> int:
    """Length of the header name when `line` starts a header ("name", optional blanks, ":"), else 0."""
    found = _HEADER_NAME.match(line)
    return found.end(1) if found else 0


def table_for(state: str, name: bytes) -> str:
    """The table that inspects a header called `name` in a header block of the given state."""
    return MIME_HEADER_CHECKS if name.lower() in MIME_NAMES else HEADER_STATES[state]


@dataclass
class MimeState:
    """One message's MIME structure, updated record by record (see the module docstring)."""

    disabled: bool = False
    nesting_limit: int = 100
    boundary_limit: int = 2048
    header_limit: int = 102400
    report_nesting: bool = True
    state: str = PRIMARY
    ctype: str = TEXT
    stype: str = "plain"
    stack: list[Boundary] = field(default_factory=list)
    pending: bytearray = field(default_factory=bytearray)
    pending_first: int = 0
    pending_last: int = 0
    continued: bool = False
    body_offset: int = 0
    nesting_error: bool = False

    def primary_header(self, text: bytes) -> list[Piece]:
        """A complete primary header, its lines joined by newlines: note its type; the Pieces to inspect."""
        name_length = header_name_length(text)
        header = self._normalised(text, name_length)
        piece = Piece(table_for(PRIMARY, header[:name_length]), header)
        return [piece] if piece.table == HEADER_CHECKS else self._error(header, None) + [piece]

    def end_of_primary(self) -> None:
        """The empty line after the primary headers (Postfix counts it as the first body record)."""
        self._end_of_block()
        self.body_offset = 1

    def record(self, text: bytes, index: int, more: bool = False) -> list[Piece]:
        """One body record (body line `index`, `more` when the line goes on in the next record)."""
        out: list[Piece] = []
        if self.state != BODY and self._in_header_block(text, index, more, out):
            return out
        if self.stack and text[:2] == b"--" and not self.continued and len(text) > 2:
            self._boundary(text)
        offset, self.body_offset, self.continued = self.body_offset, self.body_offset + len(text) + 1, more
        out.append(Piece(BODY_CHECKS, text, index, index, offset))
        return out

    def body_line(self, text: bytes) -> int | None:
        """A whole line that can only be body (in a body, no multipart open): what record() would make of
        it, in short, its body offset; None when record() must look closer."""
        if self.state != BODY or self.stack:
            return None
        offset, self.body_offset, self.continued = self.body_offset, self.body_offset + len(text) + 1, False
        return offset

    def finish(self) -> list[Piece]:
        """End of the message: the header still pending, if any."""
        return self._flush() if self.pending and self.state != BODY else []

    def _in_header_block(self, text: bytes, index: int, more: bool, out: list[Piece]) -> bool:
        """A record in a header block: True when it is (part of) a header, else the block ends here."""
        if self.pending:
            if self.continued or text[:1] in (b" ", b"\t"):
                self._append(text, index, more)
                return True
            out += self._flush()
        name_length = header_name_length(text)
        if name_length:
            self.pending[:] = self._normalised(text, name_length)
            self.pending_first = self.pending_last = index
            self.continued = more
            return True
        if text:
            self.state, self.body_offset = BODY, 0
        else:
            self._end_of_block()
        return False

    def _append(self, text: bytes, index: int, more: bool) -> None:
        if len(self.pending) < self.header_limit:
            self.pending += text if self.continued else b"\n" + text
        self.pending_last, self.continued = index, more

    def _flush(self) -> list[Piece]:
        header = bytes(self.pending)
        name_length = header_name_length(header)
        self.pending.clear()
        self.continued = False
        first, last = self.pending_first, self.pending_last
        return self._error(header, first, last) + [Piece(table_for(self.state, header[:name_length]), header,
                                                         first, last)]

    def _error(self, header: bytes, first: int | None, last: int | None = None) -> list[Piece]:
        """Read the header's type; a Piece for the MIME nesting error, reported once, that it may cause."""
        reported = self.nesting_error
        self._note_type(header, header_name_length(header))
        return [Piece(MIME_ERROR, header, first, last)] if self.nesting_error and not reported else []

    @staticmethod
    def _normalised(text: bytes, name_length: int) -> bytes:
        """"Name :" becomes "Name:", as Postfix normalises the obsolete form."""
        rest = text[name_length:]
        return text[:name_length] + rest.lstrip(b" \t") if rest[:1] in (b" ", b"\t") else text

    def _note_type(self, header: bytes, name_length: int) -> None:
        if not self.disabled and header[:name_length].lower() == b"content-type":
            self._content_type(header, name_length + 1)

    def _content_type(self, header: bytes, start: int) -> None:
        """Postfix's reading of Content-Type: only text, message and multipart change the state."""
        value = header[start:]
        tokens, pos = header_tokens(value, 0, 3, RFC2045_TSPECIALS, ord(";"))
        if not tokens:
            self.ctype = OTHER
            return
        subtype = tokens[2].value.lower() if len(tokens) >= 3 and tokens[1].kind == ord("/") else b""
        subtype_token = len(tokens) >= 3 and tokens[1].kind == ord("/") and tokens[2].kind == "token"
        if tokens[0].matches(b"text"):
            self.ctype, self.stype = TEXT, "plain" if subtype_token and subtype == b"plain" else "other"
        elif tokens[0].matches(b"message"):
            known = (b"rfc822", b"partial", b"external-body")
            self.ctype, self.stype = MESSAGE, subtype.decode() if subtype_token and subtype in known else "other"
        elif tokens[0].matches(b"multipart"):
            self.ctype = COMPOSITE
            digest = subtype_token and subtype == b"digest"
            self._boundaries(header, start + pos, (MESSAGE, "rfc822") if digest else (TEXT, "plain"))

    def _boundaries(self, header: bytes, pos: int, part_type: tuple[str, str]) -> None:
        while True:
            tokens, pos = header_tokens(header, pos, 3, RFC2045_TSPECIALS, ord(";"))
            if tokens is None:
                return
            if len(tokens) >= 3 and tokens[0].matches(b"boundary") and tokens[1].kind == ord("="):
                self._push(tokens[2].value, part_type)

    def _push(self, boundary: bytes, part_type: tuple[str, str]) -> None:
        if len(self.stack) - 1 > self.nesting_limit:
            self.nesting_error = self.nesting_error or self.report_nesting
            return
        self.stack.append(Boundary(boundary[:self.boundary_limit], *part_type))

    def _end_of_block(self) -> None:
        """An empty line ends a header block: into the body, or into an attached message's headers."""
        self.body_offset = 0
        if self.ctype == MESSAGE and self.stype == "rfc822":
            self.state, self.ctype, self.stype = NESTED, TEXT, "plain"
        elif self.ctype == COMPOSITE:
            self.state, self.ctype, self.stype = BODY, OTHER, "other"
        else:
            self.state = BODY

    def _boundary(self, text: bytes) -> None:
        for depth in range(len(self.stack) - 1, -1, -1):
            boundary = self.stack[depth].text
            if text[2:2 + len(boundary)] != boundary:
                continue
            del self.stack[depth + 1:]
            if text[2 + len(boundary):4 + len(boundary)] == b"--":
                self.stack.pop()
                self.state, self.ctype, self.stype, self.body_offset = BODY, OTHER, "other", 0
            else:
                part = self.stack[depth]
                self.state, self.ctype, self.stype = MULTIPART, part.part_type, part.part_subtype
            return
