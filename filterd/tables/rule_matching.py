"""Evaluating a rule list against a key, first matching rule in file order, as Postfix does.

The fast path: each run of consecutive plain rules (one positive pattern, no if/endif inside) whose
patterns the engine can join is tried first as one combined expression. When that finds nothing,
no rule of the run matches and the run is skipped after one evaluation instead of one per rule;
when it finds something, the run's rules are tried in order, so results are exactly the per-rule
ones.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

from filterd.tables.rules import IfRule, MatchRule, Pattern, Rule

MIN_RUN = 2
Combiner = Callable[[Sequence[Pattern]], Any]


def holds(pattern: Pattern, key: bytes) -> bool:
    """Whether a pattern applies to the key: it matches, or for !/pattern/ it does not."""
    return pattern.expr.test(key) != pattern.negate


def apply_rule(rule: MatchRule, key: bytes) -> bytes | None:
    """The rule's result for this key with $n substituted, or None when the rule does not apply."""
    first = rule.first
    if rule.template.max_sub:
        group = first.expr.captures(key, rule.template.max_sub)
        if group is None:
            return None
    elif not holds(first, key):
        return None
    else:
        group = None
    if rule.second is not None and not holds(rule.second, key):
        return None
    return rule.template.expand(group)


@dataclass
class CombinedRun:
    """Consecutive plain rules with one combined expression that says whether any can match."""

    rules: list[MatchRule]
    combined: Any

    def find(self, key: bytes) -> bytes | None:
        if not self.combined.test(key):
            return None
        for rule in self.rules:
            result = apply_rule(rule, key)
            if result is not None:
                return result
        return None


def _plain(rule: Rule, joinable: Callable[[Pattern], bool]) -> bool:
    return (isinstance(rule, MatchRule) and rule.second is None and not rule.first.negate
            and joinable(rule.first))


def _flush(steps: list, run: list[MatchRule], combine: Combiner) -> None:
    combined = combine([r.first for r in run]) if len(run) >= MIN_RUN else None
    steps.extend(run if combined is None else [CombinedRun(list(run), combined)])
    run.clear()


def plan(rules: list[Rule], joinable: Callable[[Pattern], bool], combine: Combiner) -> list:
    """Steps to evaluate: rules, with runs of joinable rules (same flags) as a CombinedRun; jumps remapped."""
    steps: list = []
    run: list[MatchRule] = []
    where: dict[int, int] = {}
    for index, rule in enumerate(rules):
        if _plain(rule, joinable):
            if run and run[0].first.flags != rule.first.flags:
                _flush(steps, run, combine)
            run.append(rule)
            continue
        _flush(steps, run, combine)
        where[index] = len(steps)
        steps.append(rule if not isinstance(rule, IfRule) else IfRule(rule.lineno, rule.condition,
                                                                      rule.endif))
    _flush(steps, run, combine)
    for step in steps:
        if isinstance(step, IfRule) and step.endif is not None:
            step.endif = where[step.endif]
    return steps


def evaluate(steps: list, key: bytes) -> bytes | None:
    """Walk the steps as Postfix walks its rules: the first rule that applies gives the result."""
    i = 0
    while i < len(steps):
        step = steps[i]
        if isinstance(step, IfRule):
            if not holds(step.condition, key):
                if step.endif is None:
                    return None
                i = step.endif
        elif isinstance(step, (MatchRule, CombinedRun)):
            result = apply_rule(step, key) if isinstance(step, MatchRule) else step.find(key)
            if result is not None:
                return result
        i += 1
    return None
