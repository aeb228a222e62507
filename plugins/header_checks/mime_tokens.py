"""RFC 822 / RFC 2045 header value tokens, split as Postfix's header_token(3) splits them.

Used to read Content-Type headers exactly as Postfix's cleanup reads them: white space and
(nested) comments are skipped, quoted strings unquoted and unfolded, specials and control
characters are tokens of their own. Bytes in, no I/O.
"""

from __future__ import annotations

from dataclasses import dataclass

LWSP = b" \t\n\r"
RFC822_SPECIALS = b'()<>@,;:\\".[]'
RFC2045_TSPECIALS = b'()<>@,;:\\"/[]?='
TOKEN = "token"
QSTRING = "qstring"


@dataclass(frozen=True)
class Token:
    """One token: `kind` is TOKEN, QSTRING or the special character itself (one byte)."""

    kind: str | int
    value: bytes

    def matches(self, word: bytes) -> bool:
        """A plain token equal to `word`, case-insensitively (quoted strings never match)."""
        return self.kind == TOKEN and self.value.lower() == word


def _control(ch: int) -> bool:
    return ch < 32 or ch == 127


def _skip_comment(text: bytes, pos: int) -> int:
    depth = 1
    while pos < len(text):
        ch, pos = text[pos], pos + 1
        if ch == 0x28:
            depth += 1
        elif ch == 0x29:
            depth -= 1
            if depth == 0:
                break
        elif ch == 0x5C:
            pos += 1
    return min(pos, len(text))


def _quoted(text: bytes, pos: int) -> tuple[bytes, int]:
    value = bytearray()
    while pos < len(text):
        ch, pos = text[pos], pos + 1
        if ch == 0x22:
            break
        if ch == 0x0A:
            while value and value[-1] in LWSP:
                value.pop()
            continue
        if ch == 0x5C:
            if pos >= len(text):
                break
            ch, pos = text[pos], pos + 1
        value.append(ch)
    return bytes(value), pos


def _word(text: bytes, pos: int, specials: bytes) -> int:
    while pos < len(text) and text[pos] not in LWSP and not _control(text[pos]) and text[pos] not in specials:
        pos += 1
    return pos


def _token(text: bytes, pos: int, specials: bytes) -> tuple[Token, int]:
    """The token that starts at text[pos - 1] (a quoted string, a special, or a word), and what follows."""
    ch = text[pos - 1]
    if ch == 0x22:
        value, pos = _quoted(text, pos)
        return Token(QSTRING, value), pos
    if ch in specials or _control(ch):
        return Token(ch, bytes((ch,))), pos
    end = _word(text, pos, specials)
    return Token(TOKEN, text[pos - 1:end]), end


def header_tokens(text: bytes, pos: int, limit: int, specials: bytes = RFC822_SPECIALS,
                  terminator: int = 0) -> tuple[list[Token] | None, int]:
    """Tokens from text[pos:] up to and including `terminator`; at most `limit` are kept.

    Returns (tokens, next position); tokens is None when the input ran out before any token.
    """
    found: list[Token] = []
    ended = True
    while pos < len(text) and (terminator or len(found) < limit):
        ch, pos = text[pos], pos + 1
        if ch in LWSP:
            continue
        if ch == terminator:
            ended = False
            break
        if ch == 0x28:
            pos = _skip_comment(text, pos)
            continue
        token, pos = _token(text, pos, specials)
        if len(found) < limit:
            found.append(token)
    if not found and ended and pos >= len(text):
        return None, pos
    return found, pos
