"""Parsing regexp_table(5) and pcre_table(5) files into rules, with Postfix's warnings.

`/pattern/flags result`, `!/pattern/flags result`, `if /pattern/flags`, `if !/pattern/flags`,
`endif`; any non-alphanumeric delimiter, backslash-escaped inside the pattern; flags toggle the
type's defaults (its Dialect). A malformed rule is skipped with Postfix's warning, as Postfix does, and
if/endif nesting is resolved as Postfix resolves it.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from filterd.tables.logical_lines import logical_lines
from filterd.tables.notices import Notices
from filterd.tables.rules import EndifRule, IfRule, MatchRule, Pattern, Rule
from filterd.tables.template import parse_template

WHITESPACE = b" \t\r\n\v\f"


class PatternError(Exception):
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
    out_of_range: str = "out-of-range"


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
    except PatternError as exc:
        cur.warn(str(exc), f"{exc} in /{source.decode('utf-8', 'replace')}/")
        return None


def _keyword(text: bytes, word: bytes) -> bool:
    n = len(word)
    return text[:n].lower() == word and not (text[n:n + 1].isalnum())


def _match_rule(cur: _Cursor, dialect: Dialect) -> MatchRule | None:
    first = pattern_source(cur, dialect)
    if first is None:
        return None
    second = None
    if dialect.second_pattern and cur.text[cur.pos:cur.pos + 1] == b"!":
        second = pattern_source(cur, dialect)
        if second is None:
            return None
    cur.skip_space()
    if cur.pos >= len(cur.text):
        cur.warn("no replacement text: using empty string")
    template = parse_template(cur.rest(), cur.where, cur.lineno, cur.notices, dialect.out_of_range)
    if template is None:
        return None
    return _checked_match(cur, dialect, first, second, template)


def _checked_match(cur, dialect, first, second, template) -> MatchRule | None:
    if template.max_sub and first[2]:
        cur.warn("$number found in negative match replacement text: skipping this rule",
                 "$number found in negative match replacement text")
        return None
    pattern = compile_pattern(cur, dialect, first)
    if pattern is None:
        return None
    if template.max_sub > pattern.expr.groups:
        cur.warn(f'out of range replacement index "{template.max_sub}": skipping this rule',
                 f'out of range replacement index "{template.max_sub}"')
        return None
    other = compile_pattern(cur, dialect, second) if second else None
    if second and other is None:
        return None
    return MatchRule(cur.lineno, pattern, template, other)


def _if_rule(cur: _Cursor, dialect: Dialect) -> IfRule | None:
    cur.pos += 2
    cur.skip_space()
    parsed = pattern_source(cur, dialect)
    if parsed is None:
        return None
    cur.skip_space()
    if cur.pos < len(cur.text):
        extra = cur.rest().decode("utf-8", "replace")
        cur.warn(f'ignoring extra text after IF statement: "{extra}"')
        cur.warn("do not prepend whitespace to statements between IF and ENDIF")
    pattern = compile_pattern(cur, dialect, parsed)
    return None if pattern is None else IfRule(cur.lineno, pattern)


def _endif_rule(cur: _Cursor, nesting: int) -> EndifRule | None:
    if nesting == 0:
        cur.warn("ignoring ENDIF without matching IF")
        return None
    cur.pos += 5
    cur.skip_space()
    if cur.pos < len(cur.text):
        cur.warn("ignoring extra text after ENDIF")
    return EndifRule(cur.lineno)


def parse_line(cur: _Cursor, dialect: Dialect, nesting: int) -> Rule | None:
    """One logical line as a rule, or None when Postfix would skip it (with a warning)."""
    if not cur.text[:1].isalnum():
        return _match_rule(cur, dialect)
    if _keyword(cur.text, b"if"):
        return _if_rule(cur, dialect)
    if _keyword(cur.text, b"endif"):
        return _endif_rule(cur, nesting)
    cur.warn("ignoring unrecognized request")
    return None


def parse_rules(data: bytes, name: str, dialect: Dialect, notices: Notices) -> list[Rule]:
    """All rules of a table file in order, each IfRule linked to the index of its EndifRule."""
    where_of = f"{dialect.kind} map {name}, line %d"
    rules: list[Rule] = []
    open_ifs: list[IfRule] = []
    for lineno, text in logical_lines(data, name, notices):
        cur = _Cursor(text, 0, lineno, where_of % lineno, notices)
        rule = parse_line(cur, dialect, len(open_ifs))
        if isinstance(rule, IfRule):
            open_ifs.append(rule)
        elif isinstance(rule, EndifRule):
            open_ifs.pop().endif = len(rules)
        if rule is not None:
            rules.append(rule)
    for rule in reversed(open_ifs):
        notices.add(rule.lineno, f"{dialect.kind} map {name}, line {rule.lineno}: IF has no matching ENDIF",
                    "IF has no matching ENDIF")
    return rules
