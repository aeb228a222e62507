"""A regexp: or pcre: table: its rules parsed from a file's bytes, evaluated with the fast path."""

from __future__ import annotations

from types import ModuleType

from filterd.tables.base import BaseTable
from filterd.tables.notices import Notices
from filterd.tables.rule_matching import evaluate, plan
from filterd.tables.rule_parser import parse_rules


class PatternTable(BaseTable):
    """Rules of one table file, first match wins; `notices` holds the warnings Postfix would log."""

    fixed = False

    def __init__(self, spec: str, name: str, data: bytes, engine: ModuleType):
        self.spec = spec
        self.notices = Notices()
        self.rules = parse_rules(data, name, engine.DIALECT, self.notices)
        self.steps = plan(self.rules, engine.joinable, engine.combine)

    def lookup_bytes(self, key: bytes) -> bytes | None:
        return evaluate(self.steps, key)

    def lookup_slow(self, key: bytes) -> bytes | None:
        """The same lookup without the combined fast path: one evaluation per rule, as Postfix."""
        return evaluate(self.rules, key)
