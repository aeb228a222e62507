"""The spamassassin plugin's parameters, read once per chain."""

from __future__ import annotations

from dataclasses import dataclass

from filterd import Endpoint, Parameter, ParameterError, one_of, parse_endpoint, service_timeout

HOOKS = ("end_of_message", "queue")
"""end_of_message: before the queue, so that a refusal reaches the client; queue: after it, in relay mode."""
DEFAULT_ACTIONS = ("accept", "tempfail", "reject", "quarantine")

PARAMETERS = [
    Parameter("filterd_spamassassin_spamd", "inet:127.0.0.1:783",
              doc="Where spamd listens: inet:HOST:PORT or unix:/PATH."),
    Parameter("filterd_spamassassin_timeout", "20s", "time",
              doc="How long to wait for spamd's answer; below plugin_timeout, which would decide first."),
    Parameter("filterd_spamassassin_size_limit", "512000", "size",
              doc="Larger messages are not scanned (spamc's -s)."),
    Parameter("filterd_spamassassin_user", "", doc="The user whose preferences spamd applies (spamc's -u)."),
    Parameter("filterd_spamassassin_per_recipient", "no", "bool",
              doc="A message with one recipient is scanned with that recipient's preferences."),
    Parameter("filterd_spamassassin_report", "no", "bool", doc="Add spamd's report as X-Spam-Report."),
    Parameter("filterd_spamassassin_reject_score", "",
              doc="From this score on: reject (550 5.7.1) before the queue, hold after it; empty: never."),
    Parameter("filterd_spamassassin_hold_score", "", doc="From this score on: hold; empty: never."),
    Parameter("filterd_spamassassin_hook", "end_of_message",
              doc="When to scan: end_of_message (before the queue) or queue (after it, relay mode)."),
    Parameter("filterd_spamassassin_default_action", "accept",
              doc="When spamd is down or slow: accept (and log a warning), tempfail, reject or quarantine."),
]


@dataclass(frozen=True)
class Settings:
    spamd: Endpoint
    timeout: float
    size_limit: int
    user: str
    per_recipient: bool
    report: bool
    reject: float | None
    hold: float | None
    hook: str
    default_action: str

    def user_for(self, recipients: list[str]) -> str | None:
        """spamd's user for the message: its only recipient's address (per_recipient), else the fixed user."""
        if self.per_recipient and len(recipients) == 1:
            return recipients[0]
        return self.user or None


def read(config) -> Settings:
    name = "filterd_spamassassin_"
    return Settings(parse_endpoint(name + "spamd", config.get(name + "spamd")), service_timeout(config, name + "timeout"),
                    config.size(name + "size_limit"), config.get(name + "user"), config.bool(name + "per_recipient"),
                    config.bool(name + "report"), threshold(name + "reject_score", config.get(name + "reject_score")),
                    threshold(name + "hold_score", config.get(name + "hold_score")),
                    one_of(name + "hook", config.get(name + "hook"), HOOKS),
                    one_of(name + "default_action", config.get(name + "default_action"), DEFAULT_ACTIONS))




def threshold(name: str, value: str) -> float | None:
    """A score threshold: a number, or empty for never."""
    try:
        return float(value) if value.strip() else None
    except ValueError:
        raise ParameterError(name, f'bad value "{value}": expected a number, or nothing for never') from None
