"""A regexp: or pcre: table file parsed into its rule list, if/endif nesting resolved as Postfix does."""

from __future__ import annotations

from filterd.tables.logical_lines import logical_lines
from filterd.tables.notices import Notices
from filterd.tables.rules import (Dialect, EndifRule, IfRule, MatchRule, _Cursor, compile_pattern,
                                  pattern_source)
from filterd.tables.template import parse_template

Rule = MatchRule | IfRule | EndifRule


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
    template = parse_template(cur.rest(), cur.where, cur.lineno, cur.notices)
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
