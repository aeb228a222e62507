"""The clamav plugin's parameters, read once per chain."""

from __future__ import annotations

import re
from dataclasses import dataclass

from filterd import Parameter, ParameterError

HOOKS = ("end_of_message", "queue")
"""end_of_message: before the queue, so that a refusal reaches the client; queue: after it, in relay mode."""
DEFAULT_ACTIONS = ("accept", "tempfail", "reject", "quarantine")

PARAMETERS = [
    Parameter("filterd_clamav_clamd", "unix:/run/clamav/clamd.ctl",
              doc="Where clamd listens: inet:HOST:PORT or unix:/PATH (Debian's LocalSocket by default)."),
    Parameter("filterd_clamav_timeout", "20s", "time",
              doc="How long to wait for clamd's answer; below plugin_timeout, which would decide first."),
    Parameter("filterd_clamav_size_limit", "26214400", "size",
              doc="Larger messages are not scanned (clamd's StreamMaxLength)."),
    Parameter("filterd_clamav_hook", "end_of_message",
              doc="When to scan: end_of_message (before the queue: reject) or queue (after it: hold)."),
    Parameter("filterd_clamav_default_action", "tempfail",
              doc="When clamd is down, slow or answers an error: accept (and log a warning), tempfail, reject or "
                  "quarantine."),
]


@dataclass(frozen=True)
class Settings:
    clamd: Endpoint
    timeout: float
    size_limit: int
    hook: str
    default_action: str


def read(config) -> Settings:
    name = "filterd_clamav_"
    return Settings(endpoint(name + "clamd", config.get(name + "clamd")), timeout(config, name + "timeout"),
                    config.size(name + "size_limit"), choice(name + "hook", config.get(name + "hook"), HOOKS),
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


def timeout(config, name: str) -> float:
    """The scanner's timeout, which must run out before plugin_timeout: else plugin_error_action decides."""
    value, limit = config.time(name), config.time("plugin_timeout")
    if value >= limit:
        raise ParameterError(name, f"{config.get(name)} is not below plugin_timeout ({config.get('plugin_timeout')}): "
                                   "the plugin would time out before the scanner does")
    return value
