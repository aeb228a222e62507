"""The rules of regexp:, pcre: and cidr: tables, once parsed: patterns with their flags, match rules, if/endif.

A table file is a list of these, each IfRule linked to the index of its EndifRule, read first match first as
Postfix reads its rules (filterd.tables.rule_matching).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from filterd.tables.template import Template


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


Rule = MatchRule | IfRule | EndifRule
