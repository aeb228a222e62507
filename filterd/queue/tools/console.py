"""What a queue tool says: on stderr as `program: text`, as Postfix's commands do, and in the maillog."""

from __future__ import annotations

import logging
import os
import sys
from typing import IO

from filterd import maillog
from filterd.config import Config

EX_USAGE = 64
EX_UNAVAILABLE = 69
EX_TEMPFAIL = 75


class ToolError(Exception):
    """A fatal error: the tool prints `program: fatal: text` and exits with `status`."""

    def __init__(self, text: str, status: int = 1):
        super().__init__(text)
        self.status = status


def open_maillog(config: Config) -> None:
    """Log where the daemons log; with only stderr to log to, the console alone speaks."""
    target = config.get("maillog_file")
    if not target and not os.path.exists(maillog.SYSLOG_SOCKET):
        target = os.devnull
    maillog.setup(target, config.get("syslog_name"), config.get("myhostname"), config.get("syslog_facility"),
                  foreground=False)


class Console:
    """One tool's voice."""

    def __init__(self, program: str, stream: IO[str] | None = None):
        self.program = program
        self.stream = stream

    def _say(self, text: str) -> None:
        print(f"{self.program}: {text}", file=self.stream or sys.stderr, flush=True)

    def _log(self, level: int, text: str) -> None:
        if maillog.log.handlers:
            maillog.log.log(level, "%s", text, extra={"service": self.program})

    def info(self, text: str) -> None:
        self._log(logging.INFO, text)
        self._say(text)

    def warning(self, text: str) -> None:
        self._log(logging.WARNING, text)
        self._say(f"warning: {text}")

    def fatal(self, error: ToolError) -> int:
        self._log(logging.CRITICAL, str(error))
        self._say(f"fatal: {error}")
        return error.status
