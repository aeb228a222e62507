"""Postfix's non-SMTP command detection: a header line or an HTTP request sent as a command ends the session, as
smtpd_forbidden_commands and smtpd's is_header() decide (smtpd.c: "I can break rules, too")."""

from __future__ import annotations

import re
from dataclasses import dataclass

from filterd.tables import Table, open_table, split_specs

_HEADER_NAME = re.compile(r"[!-9;-~]+:")


def is_header(word: str) -> bool:
    """Does the first word of a command line begin as a message header does (`From:`, `Subject:hi`)?"""
    return _HEADER_NAME.match(word) is not None


@dataclass(frozen=True)
class CommandList:
    """A Postfix string list of command names (smtpd_noop_commands): names match case-insensitively, tables by
    lookup."""

    words: frozenset[str] = frozenset()
    tables: tuple[Table, ...] = ()

    @classmethod
    def parse(cls, value: str):
        items = split_specs(value)
        tables = tuple(open_table(item) for item in items if ":" in item and not item.endswith(":"))
        return cls(frozenset(item.upper() for item in items if ":" not in item or item.endswith(":")), tables)

    def matches(self, command: str) -> bool:
        return command.upper() in self.words or any(table.lookup(command) is not None for table in self.tables)


@dataclass(frozen=True)
class ForbiddenCommands(CommandList):
    """The words and tables of smtpd_forbidden_commands: names match case-insensitively, tables by lookup."""

    words: frozenset[str] = frozenset({"CONNECT", "GET", "POST"})

    def forbids(self, command: str) -> bool:
        """Is this command name (as the client sent it) one Postfix's smtpd hangs up on?"""
        return is_header(command) or self.matches(command)


DEFAULT = "CONNECT GET POST regexp:{{/^[^A-Z]/ Bogus}}"
