"""filterd_pipe_service read from main.cf without the configuration loader, whose imports would cost the client
more than the message does; None when only the loader can tell (a $name in the value, an unreadable file)."""

from __future__ import annotations

import os

NAME = "filterd_pipe_service"
DEFAULT_CONFIG = "/etc/filterd/main.cf"


def _path(config: str | None) -> str:
    path = config or os.environ.get("FILTERD_CONFIG") or DEFAULT_CONFIG
    return os.path.join(path, "main.cf") if os.path.isdir(path) else path


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
        with open(_path(config), encoding="utf-8", errors="surrogateescape") as file:
            value = _last_value(file.read())
    except OSError:
        return None
    return None if "$" in value else value
