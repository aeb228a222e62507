"""What the spamassassin and clamav plugins share: where their daemon listens (Postfix's milter socket syntax),
at which hook they scan, and what a scanner that is down or slow makes of the message (as milter_default_action).
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from filterd import ContentVerdict, ParameterError, Verdict

HOOKS = ("end_of_message", "queue")
"""end_of_message: before the queue, so that a refusal reaches the client; queue: after it, in relay mode."""
DEFAULT_ACTIONS = ("accept", "tempfail", "reject", "quarantine")


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


def unavailable(action: str, what: str, error: str) -> Verdict:
    """The verdict for a scanner that failed: the configured action, after a warning that names the cause."""
    warning = Verdict.warn(f"{what}: {error}")
    if action == "accept":
        return warning
    failed = {"tempfail": Verdict.defer("451 4.7.1 Service unavailable - try again later"),
              "reject": Verdict.reject("550 5.7.1 Command rejected"),
              "quarantine": Verdict.hold(f"{what} unavailable")}[action]
    return ContentVerdict.of(failed, earlier=(warning,))


def threshold(name: str, value: str) -> float | None:
    """A score threshold: a number, or empty for never."""
    try:
        return float(value) if value.strip() else None
    except ValueError:
        raise ParameterError(name, f'bad value "{value}": expected a number, or nothing for never') from None
