"""main.cf edited as text, the way Postfix's postconf -e, -X and -# edit it (postconf_edit.c); no I/O.

Comments, blank lines and every other entry pass through byte for byte. An entry named in a request is
replaced by one `name = value` line (-e), dropped with its continuation lines (-X), or has each of its lines
commented out (-#); a comment between its continuation lines stays as it is. -e appends the names not found,
sorted, as current Postfix does.
"""
from __future__ import annotations

import re
from dataclasses import dataclass, field

SET, REMOVE, COMMENT_OUT = "-e", "-X", "-#"
_SPACE = " \t\n\v\f\r"
_KEY = re.compile(r"[^ \t\r\n=]*")
_NAME = re.compile(r"[^ \t\n\v\f\r=]*")


class EditError(Exception):
    """A request Postfix's postconf refuses; the text is Postfix's fatal message."""


def split_nameval(text: str) -> tuple[str, str]:
    """Split "name = value" as Postfix's split_nameval(3): blanks around both trimmed, the value may be empty."""
    stripped = text.lstrip(_SPACE)
    if not stripped or stripped[0] == "=":
        raise EditError("missing attribute name")
    name = _NAME.match(stripped).group()
    rest = stripped[len(name):].lstrip(_SPACE)
    if not rest.startswith("="):
        raise EditError("missing '=' after attribute name")
    return name, rest[1:].strip(_SPACE)


def _request(mode: str, arg: str) -> tuple[str, str | None]:
    """One command-line argument as (name, value); value is None for -X and -#, whose names lose trailing
    blanks as Postfix's code means them to (its trimblanks() result goes unused, so Postfix matches nothing)."""
    if "\n" in arg:
        raise EditError("-e, -X, or -# accepts no multi-line input")
    text = arg.lstrip(_SPACE)
    if text.startswith("#"):
        raise EditError("-e, -X, or -# accepts no comment input")
    if mode == SET:
        try:
            return split_nameval(text)
        except EditError as error:
            raise EditError(f'{error}: "{text}"') from None
    if not text:
        raise EditError("-X or -# requires non-blank parameter names")
    if "=" in text:
        raise EditError("-X or -# requires parameter names without value")
    return text.rstrip(_SPACE), None


def parse_requests(mode: str, args: list[str]) -> tuple[dict[str, str | None], list[str]]:
    """The edit requests by name, and warnings: a later request for a name replaces an earlier one."""
    requests: dict[str, str | None] = {}
    warnings = []
    for arg in args:
        name, value = _request(mode, arg)
        if name in requests:
            earlier = requests.pop(name)
            shown = name if earlier is None else f"{name} = {earlier}"
            warnings.append(f"ignoring earlier request: '{shown}'")
        requests[name] = value
    return requests, warnings


@dataclass
class _Editor:
    """The state of one pass over the file: the entry being copied is 'interesting' when a request names it."""

    mode: str
    requests: dict[str, str | None]
    path: str
    out: list[str] = field(default_factory=list)
    found: dict[str, int] = field(default_factory=dict)
    warnings: list[str] = field(default_factory=list)
    interesting: bool = False

    def continuation(self, line: str) -> None:
        """A line that continues the entry before it: it shares that entry's fate."""
        if not self.interesting:
            self.out.append(line)
        elif self.mode == COMMENT_OUT:
            self.out.append("#" + line)

    def entry(self, line: str) -> None:
        """The first line of an entry: copied, or replaced, dropped or commented out when a request names it."""
        key = _KEY.match(line).group()
        self.interesting = key in self.requests
        if not self.interesting:
            self.out.append(line)
            return
        self.found[key] = self.found.get(key, 0) + 1
        if self.found[key] == 2:
            self.warnings.append(f'{self.path}: multiple entries for "{key}"')
        if self.mode == SET:
            self.out.append(f"{key} = {self.requests[key]}\n")
        elif self.mode == COMMENT_OUT:
            self.out.append("#" + line)

    def line(self, line: str) -> None:
        """Any line: blank lines and comments pass through, even between an entry's continuation lines."""
        content = line.lstrip(_SPACE)
        if not content or content.startswith("#"):
            self.out.append(line)
        elif content != line:
            self.continuation(line)
        else:
            self.entry(line)

    def appended(self) -> list[str]:
        """-e's entries for names the file does not have, sorted by name."""
        if self.mode != SET:
            return []
        return [f"{name} = {self.requests[name]}\n" for name in sorted(self.requests) if name not in self.found]


def physical_lines(text: str) -> list[str]:
    """Lines split on LF only, each ending in LF (one is added to a last line without it, as Postfix does)."""
    lines = text.split("\n")
    if lines[-1] == "":
        lines.pop()
    return [line + "\n" for line in lines]


def edit_main_cf(text: str, mode: str, requests: dict[str, str | None],
                 path: str = "main.cf") -> tuple[str, list[str]]:
    """Apply -e (SET), -X (REMOVE) or -# (COMMENT_OUT) requests to main.cf text; returns the text and warnings."""
    editor = _Editor(mode, requests, path)
    for line in physical_lines(text):
        editor.line(line)
    return "".join(editor.out + editor.appended()), editor.warnings
