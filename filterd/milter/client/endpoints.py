"""The smtpd_milters list in Postfix's syntax: `inet:host:port`, `unix:/path`, and `{ inet:host:port,
default_action=accept, command_timeout=10s, ... }` with per-milter settings that override the main.cf ones
(MILTER_README, "Different settings for different Milter applications"). No I/O.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, replace

from filterd.config import TIME_UNITS, split_braced

DEFAULT_ACTIONS = ("accept", "reject", "tempfail", "quarantine")
SETTINGS = ("connect_timeout", "command_timeout", "content_timeout", "default_action", "protocol")
"""The per-milter settings Postfix 3.0 and later accept inside braces."""

_TIME = re.compile(r"\s*([0-9]+)([smhdw]?)\s*")


class EndpointError(ValueError):
    """A malformed smtpd_milters list or per-milter setting."""


@dataclass(frozen=True)
class MilterSpec:
    """One milter of smtpd_milters: its endpoint as written, and the settings in force for it."""

    name: str
    connect_timeout: float = 30.0
    command_timeout: float = 30.0
    content_timeout: float = 300.0
    default_action: str = "tempfail"
    protocol: str = "6"

    @property
    def transport(self) -> str:
        """inet, unix or local."""
        return self.name.split(":", 1)[0]

    def inet_address(self) -> tuple[str, str]:
        """Host and port of an inet: endpoint (a bracketed IPv6 host loses its brackets)."""
        host, _, port = self.name.split(":", 1)[1].rpartition(":")
        return host.strip("[]"), port

    def unix_path(self) -> str:
        """The socket path of a unix: or local: endpoint."""
        return self.name.split(":", 1)[1]


def split_list(text: str) -> list[str]:
    """The items of a list with `{ ... }` groups (filterd.config.split_braced), an EndpointError when unbalanced."""
    try:
        return split_braced(text)
    except ValueError as error:
        raise EndpointError(str(error)) from None


def parse_milters(text: str, defaults: MilterSpec) -> list[MilterSpec]:
    """Every milter of an smtpd_milters value, with `defaults` (the main.cf settings) where none is given."""
    specs = []
    for item in split_list(text):
        if item.startswith("{"):
            specs.append(_braced(item, defaults))
        else:
            specs.append(replace(defaults, name=check_endpoint(item)))
    return specs


def _braced(item: str, defaults: MilterSpec) -> MilterSpec:
    inner = split_list(item[1:-1])
    if not inner:
        raise EndpointError(f'empty milter definition "{item}"')
    spec = replace(defaults, name=check_endpoint(inner[0]))
    for setting in inner[1:]:
        name, value = _name_value(setting)
        spec = replace(spec, **{name: _setting_value(name, value)})
    return spec


def _name_value(setting: str) -> tuple[str, str]:
    """`name=value`, or `{ name = value }` where the value may hold spaces and commas."""
    text = setting[1:-1] if setting.startswith("{") else setting
    name, equals, value = text.partition("=")
    name, value = name.strip(), value.strip()
    if not equals or not name:
        raise EndpointError(f'missing "=" in milter setting "{setting}"')
    if name not in SETTINGS:
        raise EndpointError(f'unknown milter setting "{name}" (known: {", ".join(SETTINGS)})')
    return name, value


def _setting_value(name: str, value: str) -> float | str:
    if name.endswith("_timeout"):
        return parse_time(value, name)
    if name == "default_action":
        return check_action(value)
    return value


def parse_time(value: str, what: str) -> float:
    """A Postfix time value: digits and an optional unit s, m, h, d or w (seconds when none)."""
    match = _TIME.fullmatch(value)
    if not match:
        raise EndpointError(f'{what}: bad time value "{value}"')
    return float(int(match[1]) * TIME_UNITS[match[2] or "s"])


def check_action(value: str) -> str:
    """A default action as Postfix knows it: accept, reject, tempfail or quarantine."""
    if value.lower() not in DEFAULT_ACTIONS:
        raise EndpointError(f'bad default_action "{value}" (expected {", ".join(DEFAULT_ACTIONS)})')
    return value.lower()


def check_endpoint(name: str) -> str:
    """`inet:host:port`, `unix:/path` or `local:/path`, as Postfix's milter8 accepts them."""
    transport, colon, endpoint = name.partition(":")
    if not colon or not transport or not endpoint:
        raise EndpointError(f'Milter service needs transport:endpoint instead of "{name}"')
    if transport not in ("inet", "unix", "local"):
        raise EndpointError(f"invalid transport name: {transport} in Milter service: {name}")
    if transport == "inet" and not endpoint.rpartition(":")[0]:
        raise EndpointError(f'Milter service {name}: expected inet:host:port')
    return name
