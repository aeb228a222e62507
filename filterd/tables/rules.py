"""Parsing regexp_table(5) and pcre_table(5) lines into rules, with Postfix's warnings.

`/pattern/flags result`, `!/pattern/flags result`, `if /pattern/flags`, `if !/pattern/flags`,
`endif`; any non-alphanumeric delimiter, backslash-escaped inside the pattern; flags toggle the
type's defaults. A malformed rule is skipped with Postfix's warning, as Postfix does.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from filterd.tables.notices import Notices
from filterd.tables.template import Template

WHITESPACE = b" \t\r\n\v\f"


class PatternSyntax(Exception):
    """The regex engine refused a pattern; the message is the text Postfix logs after "line N: "."""


@dataclass(frozen=True)
class Dialect:
    """What differs between regexp: and pcre: tables: flags, messages, the regex engine."""

    kind: str
    default_flags: int
    flag_bits: dict[int, int]
    compile: Callable[[bytes, int], Any]
    obsolete_flags: bytes = b""
    second_pattern: bool = False
    trailing_backslash_closes: bool = False
    no_delimiter: str = "skipping this rule"


@dataclass(frozen=True)
class Pattern:
    """A compiled pattern with its flags and sense (negate: the rule applies when it does NOT match)."""

    source: bytes
    flags: int
    negate: bool
    expr: Any


@dataclass
class MatchRule:
    """`/pattern/flags result` (regexp: also `/p1/!/p2/ result`)."""

    lineno: int
    first: Pattern
    template: Template
    second: Pattern | None = None


@dataclass
class IfRule:
    """`if /pattern/`; `endif` is the index of its endif rule, None when the file has none."""

    lineno: int
    condition: Pattern
    endif: int | None = None


@dataclass
class EndifRule:
    """`endif`."""

    lineno: int


@dataclass
class _Cursor:
    """A logical line being parsed, with where it came from."""

    text: bytes
    pos: int
    lineno: int
    where: str
    notices: Notices = field(repr=False)

    def skip_space(self) -> None:
        while self.pos < len(self.text) and self.text[self.pos] in WHITESPACE:
            self.pos += 1

    def rest(self) -> bytes:
        return self.text[self.pos:]

    def warn(self, text: str, reason: str | None = None) -> None:
        self.notices.add(self.lineno, f"{self.where}: {text}", reason or text)


def _negations(cur: _Cursor) -> bool:
    negate = False
    while cur.pos < len(cur.text):
        c = cur.text[cur.pos]
        if c == ord("!"):
            negate = not negate
        elif c not in WHITESPACE:
            break
        cur.pos += 1
    return negate


def _delimited(cur: _Cursor, dialect: Dialect) -> bytes | None:
    delim, start = cur.text[cur.pos], cur.pos + 1
    i = start
    while i < len(cur.text):
        c = cur.text[i]
        if c == 0x5C and i + 1 < len(cur.text):
            i += 2
            continue
        if c == 0x5C or c == delim:
            break
        i += 1
    if i >= len(cur.text) or (cur.text[i] != delim and not dialect.trailing_backslash_closes):
        cur.warn(f'no closing regexp delimiter "{chr(delim)}": {dialect.no_delimiter}',
                 f'no closing regexp delimiter "{chr(delim)}"')
        return None
    cur.pos = i + 1
    return cur.text[start:i]


def _flags(cur: _Cursor, dialect: Dialect) -> int | None:
    flags = dialect.default_flags
    while cur.pos < len(cur.text) and cur.text[cur.pos] not in WHITESPACE:
        c = cur.text[cur.pos]
        if dialect.second_pattern and c == ord("!"):
            break
        if c in dialect.flag_bits:
            flags ^= dialect.flag_bits[c]
        elif c in dialect.obsolete_flags:
            cur.warn(f'ignoring obsolete regexp option "{chr(c)}"')
        else:
            cur.warn(f'unknown regexp option "{chr(c)}": skipping this rule', f'unknown regexp option "{chr(c)}"')
            return None
        cur.pos += 1
    return flags


def pattern_source(cur: _Cursor, dialect: Dialect) -> tuple[bytes, int, bool] | None:
    """Read `[!...]/pattern/flags`: (pattern, flags, negate), or None after a warning."""
    negate = _negations(cur)
    if cur.pos >= len(cur.text):
        cur.warn("no regexp: skipping this rule", "no regexp")
        return None
    source = _delimited(cur, dialect)
    if source is None:
        return None
    flags = _flags(cur, dialect)
    return None if flags is None else (source, flags, negate)


def compile_pattern(cur: _Cursor, dialect: Dialect, parsed: tuple[bytes, int, bool]) -> Pattern | None:
    """Compile a parsed pattern; a compile error is Postfix's warning and skips the rule."""
    source, flags, negate = parsed
    try:
        return Pattern(source, flags, negate, dialect.compile(source, flags))
    except PatternSyntax as exc:
        cur.warn(str(exc), f"{exc} in /{source.decode('utf-8', 'replace')}/")
        return None
