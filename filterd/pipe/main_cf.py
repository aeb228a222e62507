"""filterd_pipe_service read from main.cf without the configuration loader, whose imports would cost the client
more than the message does; None when only the loader can tell (a $name in the value, an unreadable file)."""

from __future__ import annotations

import posix

NAME = "filterd_pipe_service"
DEFAULT_CONFIG = "/etc/filterd/main.cf"


def _read(config: str | None) -> str:
    """main.cf's text: -c's file or directory, else FILTERD_CONFIG's, else the default (posix, not os: os costs
    the client a tenth of its time)."""
    path = config or posix.environ.get(b"FILTERD_CONFIG", b"").decode("utf-8", "surrogateescape") or DEFAULT_CONFIG
    try:
        with open(path, encoding="utf-8", errors="surrogateescape") as file:
            return file.read()
    except IsADirectoryError:
        with open(f"{path}/main.cf", encoding="utf-8", errors="surrogateescape") as file:
            return file.read()


def _last_value(text: str) -> str:
    """The value of the last `filterd_pipe_service =` line, its continuation lines joined ('' when none)."""
    value, inside = "", False
    for line in text.split("\n"):
        stripped = line.strip(" \t\r")
        if not stripped or stripped.startswith("#"):
            continue
        if line[0] in " \t":
            value = f"{value} {stripped}".strip(" ") if inside else value
            continue
        name, equals, rest = stripped.partition("=")
        inside = bool(equals) and name.strip(" \t") == NAME
        value = rest.strip(" \t") if inside else value
    return value


def pipe_service(config: str | None, overrides: list[str]) -> str | None:
    """filterd_pipe_service as -o or main.cf sets it ('' for none), or None when the loader must decide."""
    for item in reversed(overrides):
        name, equals, value = item.partition("=")
        if equals and name.strip() == NAME:
            return None if "$" in value else value.strip()
    try:
        value = _last_value(_read(config))
    except OSError:
        return None
    return None if "$" in value else value
