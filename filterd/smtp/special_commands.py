"""smtpd_command_filter and smtpd_noop_commands: what SmtpServer runs in place of a command line before its usual
dispatch, as Postfix's smtpd applies them (the filter once, then the no-op list)."""

from __future__ import annotations

import functools
from typing import Any

from filterd import maillog


class SpecialCommands:
    """SmtpServer's part for smtpd_command_filter and smtpd_noop_commands."""

    command_replaced = False
    """The line being run is the filter's replacement: the filter is not asked again."""

    def _special(self, command: str) -> Any:
        """smtpd_command_filter's replacement for this line, else smtpd_noop_commands' 250 for this command; None
        for the usual dispatch."""
        if self.settings.command_filter and self._reader is not None and not self.command_replaced:
            line = self._reader.last_line.rstrip(b"\r\n").decode("utf-8", "surrogateescape")
            for table in self.settings.command_filter:
                replacement = table.lookup(line.lstrip(" \t"))
                if replacement is not None:
                    return functools.partial(self._replaced, line, replacement)
        if self.settings.noop_commands.words or self.settings.noop_commands.tables:
            if command and self.settings.noop_commands.matches(command):
                return self._noop
        return None

    async def _replaced(self, line: str, replacement: str, _arg: str | None) -> None:
        """A command line smtpd_command_filter maps: logged as Postfix logs it, and run in its new form (the
        filter is not asked again)."""
        maillog.info(self.settings.service, '%s: replacing command "%.100s" with "%.100s"',
                     self.handler.session.unforwarded().client, line, replacement)
        self._reader.last_line = replacement.encode("utf-8", "surrogateescape") + b"\r\n"
        self.command_replaced = True
        try:
            await self._resplit(None)
        finally:
            self.command_replaced = False

    async def _noop(self, _arg: str | None) -> None:
        """smtpd_noop_commands: 250 without a look at the arguments or a change of state, and not counted in the
        session's commands; past smtpd_junk_command_limit, an error, as in Postfix."""
        await self.push("250 2.0.0 Ok")
        await self._count_junk()
