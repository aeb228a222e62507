"""One score per message: the symbols plugins add to their verdicts, summed once the chain is done and weighed
against filterd_score_add_header, filterd_score_hold and filterd_score_reject (Rspamd's actions, in Postfix's
words), and the plugins in observe mode (filterd_observe_plugins), whose refusals are only logged.

The chain records each symbol with the plugin that added it and, at the end of a stage (end_of_message, queue),
applies what the score decides for the whole message.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from filterd.verdict import Action, Symbol, Verdict

if TYPE_CHECKING:
    from filterd.config import Config

ADD_HEADER, HOLD, REJECT, NO_ACTION = "add_header", "hold", "reject", "no action"
SPAM_FLAG = ("X-Spam", "Yes")
"""The header the add_header action adds, as Rspamd's milter_headers does, for the mail store's Junk rule."""
REJECT_VERDICT = Verdict(Action.REJECT, "Spam message rejected", 550, "5.7.1")
STAGE_ENDS = frozenset({"end_of_message", "queue"})
"""The hooks after which the score decides: the end of the before-queue and of the after-queue stage."""


@dataclass(frozen=True)
class Scored:
    """A symbol, the plugin that added it and at which hook; an observed plugin's symbols do not count."""

    plugin: str
    hook: str
    symbol: Symbol
    observed: bool = False

    def __str__(self) -> str:
        return f"{self.symbol}[{self.plugin}{', observed' if self.observed else ''}]"


def parse_threshold(value: str) -> float | None:
    """A threshold setting: a number, or empty for never; ValueError otherwise."""
    return float(value) if value.strip() else None


@dataclass(frozen=True)
class Scoring:
    """The thresholds, the score header's name and the plugins in observe mode."""

    add_header: float | None = None
    hold: float | None = None
    reject: float | None = None
    header: str = "X-Filterd-Score"
    observed: frozenset[str] = field(default_factory=frozenset)

    @classmethod
    def from_config(cls, config: Config) -> Scoring:
        return cls(parse_threshold(config.get("filterd_score_add_header")),
                   parse_threshold(config.get("filterd_score_hold")),
                   parse_threshold(config.get("filterd_score_reject")), config.get("filterd_score_header"),
                   frozenset(config.list("filterd_observe_plugins")))

    def action(self, total: float, after_queue: bool = False) -> str:
        """What the score asks for; after the queue a reject holds instead (a bounce would be backscatter)."""
        if self.reject is not None and total >= self.reject:
            return HOLD if after_queue else REJECT
        if self.hold is not None and total >= self.hold:
            return HOLD
        if self.add_header is not None and total >= self.add_header:
            return ADD_HEADER
        return NO_ACTION

    def flags(self, total: float) -> bool:
        """Does the message get X-Spam: Yes? From the add_header threshold on, held messages too."""
        return self.add_header is not None and total >= self.add_header

    def header_value(self, action: str, total: float, symbols: list[Scored]) -> str:
        """`add_header [7.5 / 15]; SPAMASSASSIN(5.2)[spamassassin], ...`: the action, the score out of the reject
        threshold, and every symbol with the plugin that added it."""
        limit = "" if self.reject is None else f" / {self.reject:g}"
        return f"{action} [{total:g}{limit}]; {symbol_list(symbols)}"


def score(symbols: list[Scored]) -> float:
    """The sum of the weights, observed plugins' left out; rounded as the header shows it."""
    return round(sum(s.symbol.weight for s in symbols if not s.observed), 2)


def symbol_list(symbols: list[Scored]) -> str:
    return ", ".join(str(s) for s in symbols)
