"""The spamassassin plugin's parameters, read once per chain."""

from __future__ import annotations

import re
from dataclasses import dataclass

from filterd import Parameter, ParameterError

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
    return Settings(endpoint(name + "spamd", config.get(name + "spamd")), timeout(config, name + "timeout"),
                    config.size(name + "size_limit"), config.get(name + "user"), config.bool(name + "per_recipient"),
                    config.bool(name + "report"), threshold(name + "reject_score", config.get(name + "reject_score")),
                    threshold(name + "hold_score", config.get(name + "hold_score")),
                    choice(name + "hook", config.get(name + "hook"), HOOKS),
                    choice(name + "default_action", config.get(name + "default_action"), DEFAULT_ACTIONS))


@dataclass(frozen=True)
class Endpoint:
    """A daemon's address: a host and TCP port, or a unix socket's path (port 0)."""

    host: str
    port: int = 0

    def __str__(self) -> str:
        return f"unix:{self.host}" if self.port == 0 else f"inet:{self.host}:{self.port}"


def endpoint(name: str, value: str) -> Endpoint:
    """`inet:HOST:PORT` (`[IPV6]:PORT`) or `unix:/PATH`, as smtpd_milters names a milter."""
    kind, _, rest = value.partition(":")
    if kind in ("unix", "local") and rest.startswith("/"):
        return Endpoint(rest)
    match = re.fullmatch(r"\[?([^\[\]]+?)\]?:([0-9]{1,5})", rest) if kind == "inet" else None
    if match is None or not 0 < int(match[2]) < 65536:
        raise ParameterError(name, f'bad value "{value}": expected inet:HOST:PORT or unix:/PATH')
    return Endpoint(match[1], int(match[2]))


def choice(name: str, value: str, choices: tuple[str, ...]) -> str:
    if value not in choices:
        raise ParameterError(name, f'bad value "{value}": expected one of {", ".join(choices)}')
    return value


def threshold(name: str, value: str) -> float | None:
    """A score threshold: a number, or empty for never."""
    try:
        return float(value) if value.strip() else None
    except ValueError:
        raise ParameterError(name, f'bad value "{value}": expected a number, or nothing for never') from None


def timeout(config, name: str) -> float:
    """The scanner's timeout, which must run out before plugin_timeout: else plugin_error_action decides."""
    value, limit = config.time(name), config.time("plugin_timeout")
    if value >= limit:
        raise ParameterError(name, f"{config.get(name)} is not below plugin_timeout ({config.get('plugin_timeout')}): "
                                   "the plugin would time out before the scanner does")
    return value
