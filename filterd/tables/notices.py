"""What a table parser reports: Postfix's warning text, and where, so callers can warn or refuse."""

from __future__ import annotations

from dataclasses import dataclass

from filterd.config import ConfigError


class TableError(ConfigError):
    """A table that cannot be used, located as "FILE:LINE: message" or "FILE: message".

    A ConfigError, so that a bad table stops filterd at start-up as a bad main.cf line does.
    """


class TableOpenError(TableError):
    """A table file that cannot be opened or read: Postfix's `open FILE: reason`, which names the file itself."""

    def __str__(self) -> str:
        return self.message


@dataclass(frozen=True)
class Notice:
    """One parser warning: `text` exactly as Postfix logs it, `reason` for an error naming FILE:LINE ("" when the
    warning only follows up the one before, as Postfix's "bad replacement syntax: skipping this rule" does)."""

    lineno: int | None
    text: str
    reason: str

    def error(self, filename: str) -> TableError:
        """This warning as a start-up error naming file and line."""
        return TableError(filename, self.lineno, self.reason)


class Notices(list):
    """Warnings collected while a table is parsed, in file order."""

    def add(self, lineno: int | None, text: str, reason: str | None = None) -> None:
        self.append(Notice(lineno, text, text if reason is None else reason))
