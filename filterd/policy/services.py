"""The policy services a configuration names, in check_policy_service's syntax: `inet:HOST:PORT`, `unix:PATH`
(a relative path under the queue directory, as Postfix's `unix:private/policy`), or `{ inet:HOST:PORT,
timeout=10s, default_action=DUNNO }` with settings that override main.cf's smtpd_policy_service_* for this service
(names without the prefix; `{ name = value }` when the value holds spaces or commas). No I/O."""

from __future__ import annotations

import os
from dataclasses import dataclass
from typing import Mapping

from filterd.config import Config, ConfigError, split_braced
from filterd.parameters.policy import POLICY_PARAMETERS

PREFIX = "smtpd_policy_service_"
SETTINGS = tuple(name[len(PREFIX):] for name in POLICY_PARAMETERS if name.startswith(PREFIX))


@dataclass(frozen=True)
class PolicyService:
    """One policy server and the settings filterd asks it with."""

    endpoint: str
    timeout: float = 100.0
    max_idle: float = 300.0
    max_ttl: float = 1000.0
    request_limit: int = 0
    try_limit: int = 2
    retry_delay: float = 1.0
    default_action: str = "451 4.3.5 Server configuration problem"
    policy_context: str = ""

    @classmethod
    def from_config(cls, config: Config, endpoint: str, overrides: Mapping[str, str] | None = None) -> PolicyService:
        """main.cf's smtpd_policy_service_* with this service's own settings over them; a ConfigError when one
        is bad, a ValueError when the endpoint is."""
        values = {name: config.get(name) for name in POLICY_PARAMETERS if name.startswith(PREFIX)}
        return cls.from_values(values, endpoint, overrides or {})

    @classmethod
    def from_values(cls, values: Mapping[str, str], endpoint: str, overrides: Mapping[str, str]) -> PolicyService:
        parse_endpoint(endpoint)
        unknown = sorted(set(overrides) - set(SETTINGS))
        if unknown:
            raise ValueError(f'unknown policy service setting "{unknown[0]}" (known: {", ".join(SETTINGS)})')
        own = Config([], POLICY_PARAMETERS, f"check_policy_service {endpoint}",
                     {**values, **{PREFIX + name: value for name, value in overrides.items()}})
        return cls(endpoint, own.time(PREFIX + "timeout"), own.time(PREFIX + "max_idle"),
                   own.time(PREFIX + "max_ttl"), own.int(PREFIX + "request_limit"),
                   max(1, own.int(PREFIX + "try_limit")), own.time(PREFIX + "retry_delay"),
                   own.get(PREFIX + "default_action"), own.get(PREFIX + "policy_context"))

    @property
    def address(self) -> str:
        """The server as Postfix's warnings name it: HOST:PORT, or the socket's path."""
        return self.endpoint.partition(":")[2]


def parse_endpoint(endpoint: str, queue_directory: str = "") -> tuple[str, int]:
    """inet:HOST:PORT as (host, port), unix:PATH (local:PATH) as (path, 0), a relative path under the queue
    directory; ValueError when malformed."""
    kind, sep, rest = endpoint.partition(":")
    if kind in ("unix", "local") and rest:
        return os.path.join(queue_directory, rest), 0
    host, sep2, port = rest.rpartition(":")
    if kind == "inet" and sep and sep2 and host and port.isdigit() and 0 < int(port) < 65536:
        return host.strip("[]"), int(port)
    raise ValueError(f'bad policy service "{endpoint}": expected inet:HOST:PORT or unix:PATH')


def read_service(word: str) -> tuple[str, dict[str, str]]:
    """A check_policy_service argument as (endpoint, settings), checked: a ValueError says what is wrong."""
    if not word.startswith("{"):
        parse_endpoint(word)
        return word, {}
    if not word.endswith("}"):
        raise ValueError(f'missing "}}" in "{word}"')
    inner = split_braced(word[1:-1])
    if not inner:
        raise ValueError(f'empty policy service definition "{word}"')
    overrides = dict(_name_value(item) for item in inner[1:])
    try:
        PolicyService.from_values({}, inner[0], overrides)
    except ConfigError as exc:
        raise ValueError(exc.message) from None
    return inner[0], overrides


def _name_value(item: str) -> tuple[str, str]:
    """`name=value`, or `{ name = value }` where the value may hold spaces and commas."""
    text = item[1:-1] if item.startswith("{") and item.endswith("}") else item
    name, equals, value = text.partition("=")
    if not equals or not name.strip():
        raise ValueError(f'missing "=" in policy service setting "{item}"')
    return name.strip(), value.strip()
