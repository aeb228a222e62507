"""What plugins that call a daemon (spamd, clamd, a policy server) read from their parameters: its address as
smtpd_milters names one, a choice among words, and a timeout that must run out before plugin_timeout."""

from __future__ import annotations

import re
from dataclasses import dataclass

from filterd.config import Config
from filterd.registry import ParameterError

_INET = re.compile(r"\[?([^\[\]]+?)\]?:([0-9]{1,5})")


@dataclass(frozen=True)
class Endpoint:
    """A daemon's address: a host and TCP port, or a unix socket's path (port 0)."""

    host: str
    port: int = 0

    def __str__(self) -> str:
        return f"unix:{self.host}" if self.port == 0 else f"inet:{self.host}:{self.port}"


def parse_endpoint(name: str, value: str) -> Endpoint:
    """`inet:HOST:PORT` (`[IPV6]:PORT`) or `unix:/PATH` (`local:/PATH`); a ParameterError naming `name`."""
    kind, _, rest = value.partition(":")
    if kind in ("unix", "local") and rest.startswith("/"):
        return Endpoint(rest)
    match = _INET.fullmatch(rest) if kind == "inet" else None
    if match is None or not 0 < int(match[2]) < 65536:
        raise ParameterError(name, f'bad value "{value}": expected inet:HOST:PORT or unix:/PATH')
    return Endpoint(match[1], int(match[2]))


def one_of(name: str, value: str, choices: tuple[str, ...]) -> str:
    """The value when it is one of `choices`; a ParameterError naming `name` otherwise."""
    if value not in choices:
        raise ParameterError(name, f'bad value "{value}": expected one of {", ".join(choices)}')
    return value


def service_timeout(config: Config, name: str) -> float:
    """A daemon's timeout, which must run out before plugin_timeout: else plugin_error_action would decide."""
    value, limit = config.time(name), config.time("plugin_timeout")
    if value >= limit:
        raise ParameterError(name, f"{config.get(name)} is not below plugin_timeout ({config.get('plugin_timeout')}): "
                                   "the plugin would time out before the scanner does")
    return value
