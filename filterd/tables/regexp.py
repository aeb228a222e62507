"""regexp: tables (regexp_table(5)): POSIX regular expressions, on the C library's regex as Postfix.

Flags: i (case-insensitive, on by default), m (REG_NEWLINE), x (extended syntax, on by default;
toggled off it is a basic RE). A second pattern, `/p1/!/p2/ result`, applies when p1 matches and
p2 does not, as in Postfix.
"""

from __future__ import annotations

from collections.abc import Sequence

from filterd.tables.posix_regex import REG_EXTENDED, REG_ICASE, REG_NEWLINE, PosixError, PosixRegex
from filterd.tables.rule_parser import Dialect, PatternError
from filterd.tables.rules import Pattern

FLAG_BITS = {ord("i"): REG_ICASE, ord("m"): REG_NEWLINE, ord("x"): REG_EXTENDED}


class PosixExpr:
    """One compiled regexp: pattern."""

    def __init__(self, source: bytes, cflags: int):
        try:
            self.regex = PosixRegex(source, cflags)
        except PosixError as exc:
            raise PatternError(str(exc)) from None
        self.groups = self.regex.groups
        self.cflags = cflags

    def test(self, key: bytes) -> bool:
        return self.regex.search(key) is not None

    def captures(self, key: bytes, count: int):
        spans = self.regex.search(key, count)
        if spans is None:
            return None
        return lambda n: key[spans[n][0]:spans[n][1]] if spans[n][0] >= 0 else None


def _balanced(source: bytes) -> bool:
    """Whether every ( has its ) outside brackets and escapes, so wrapping keeps the meaning."""
    depth, i = 0, 0
    while i < len(source):
        c = source[i]
        if c == 0x5C:
            i += 2
            continue
        if c == ord("["):
            i = _bracket_end(source, i)
        elif c == ord("("):
            depth += 1
        elif c == ord(")"):
            depth -= 1
            if depth < 0:
                return False
        i += 1
    return depth == 0


def _bracket_end(source: bytes, i: int) -> int:
    j = i + 1
    if source[j:j + 1] == b"^":
        j += 1
    if source[j:j + 1] == b"]":
        j += 1
    while j < len(source) and source[j] != ord("]"):
        if source[j:j + 2] in (b"[:", b"[=", b"[."):
            close = source.find(source[j + 1:j + 2] + b"]", j + 2)
            j = close + 1 if close >= 0 else j
        j += 1
    return j


def joinable(pattern: Pattern) -> bool:
    """ERE patterns without back-references and with balanced parentheses can be joined."""
    source = pattern.source
    return (bool(pattern.flags & REG_EXTENDED) and _balanced(source)
            and not any(b"\\%d" % d in source for d in range(1, 10)))


def combine(patterns: Sequence[Pattern]) -> PosixExpr | None:
    """One ERE of the patterns as alternatives, or None when their flags differ."""
    flags = {p.flags for p in patterns}
    if len(flags) != 1:
        return None
    try:
        return PosixExpr(b"|".join(b"(%s)" % p.source for p in patterns), flags.pop())
    except PatternError:
        return None


DIALECT = Dialect("regexp", REG_EXTENDED | REG_ICASE, FLAG_BITS, PosixExpr, second_pattern=True,
                  trailing_backslash_closes=True)
