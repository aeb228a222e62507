"""Logging in Postfix's format and words, so that tools written for Postfix logs read filterd's.

Lines look like `Nov 26 11:07:19 host filterd/smtpd[1234]: 4RfGhj1xYzz5Q9: client=name[addr]`,
written to stderr, to a file (`maillog_file`), or to syslog (`syslog_facility`).
"""

from __future__ import annotations

import logging
import logging.handlers
import os
import sys
import time

from filterd.maildate import log_stamp

log = logging.getLogger("filterd")
SYSLOG_SOCKET = "/dev/log"
EARLY_LIMIT = 10000


class _Early(logging.handlers.BufferingHandler):
    """What is logged before the log is set up (main.cf and the tables it names are read first): kept, and
    written by setup() where the rest goes, so that a table's warnings reach maillog_file as Postfix's do."""

    def shouldFlush(self, record: logging.LogRecord) -> bool:
        if len(self.buffer) >= self.capacity:
            self.buffer.pop(0)
        return False


_early = _Early(EARLY_LIMIT)
log.addHandler(_early)


class _Service(logging.Filter):
    """Fill in Postfix's program name: syslog_name/service."""

    def __init__(self, syslog_name: str, host: str):
        super().__init__()
        self.syslog_name = syslog_name
        self.host = host

    def filter(self, record: logging.LogRecord) -> bool:
        record.program = f"{self.syslog_name}/{getattr(record, 'service', 'master')}"
        record.host = self.host
        return True


def _with_severity(record: logging.LogRecord) -> str:
    """The message with Postfix's severity word in front: fatal:, error:, warning: (none for info)."""
    text = record.getMessage()
    if record.levelno >= logging.CRITICAL:
        return f"fatal: {text}"
    if record.levelno >= logging.ERROR:
        return f"error: {text}"
    if record.levelno >= logging.WARNING and not text.startswith("warning: "):
        return f"warning: {text}"
    return text


class _ToolFormatter(logging.Formatter):
    """`program: warning: text`, as a Postfix command (postmap, postconf) writes to its standard error."""

    def __init__(self, program: str):
        super().__init__()
        self.program = program

    def format(self, record: logging.LogRecord) -> str:
        return f"{self.program}: {_with_severity(record)}"


class _PostfixFormatter(logging.Formatter):
    """`Mon DD HH:MM:SS host program[pid]: text`, with Postfix's severity words."""

    def __init__(self, with_stamp: bool = True, utf8: bool = True):
        super().__init__()
        self.with_stamp, self.utf8 = with_stamp, utf8
        self._second = -1
        self._stamp = ""

    def format(self, record: logging.LogRecord) -> str:
        text = _with_severity(record) if self.utf8 else ascii_only(_with_severity(record))
        if record.exc_info:
            text += "\n" + self.formatException(record.exc_info)
        line = f"{record.program}[{record.process}]: {text}"
        if self.with_stamp:
            line = f"{self._stamp_of(record.created)} {record.host} {line}"
        return line


    def _stamp_of(self, created: float) -> str:
        second = int(created)
        if second != self._second:
            self._second, self._stamp = second, log_stamp(created)
        return self._stamp


class _MovableFile(logging.handlers.WatchedFileHandler):
    """maillog_file, reopened once logrotate has moved it away: looked at once a second, not with a stat(2) before
    every line (measured: 3% of a relay's CPU); the lines of that second go to the moved file, none is lost."""

    _looked = 0.0

    def reopenIfNeeded(self) -> None:
        now = time.monotonic()
        if now - self._looked >= 1.0:
            self._looked = now
            super().reopenIfNeeded()


def ascii_only(text: str) -> str:
    """Each byte of a character past ASCII as `?`, as Postfix's printable() shows a log line without UTF-8
    (smtputf8_enable = no)."""
    return "".join(c if c.isascii() else "?" * len(c.encode("utf-8", "surrogateescape")) for c in text)


def setup(maillog_file: str = "", syslog_name: str = "filterd", host: str = "localhost",
          facility: str = "mail", foreground: bool = True, debug: bool = False, utf8: bool = True) -> None:
    """Route filterd's log: maillog_file if set, else stderr in the foreground, else syslog. Records carry no source
file, thread or process name (the logging HOWTO's optimisations): Postfix's lines name none of them. Without
`utf8` (smtputf8_enable = no) a line shows no character past ASCII."""
    logging._srcfile = None  # type: ignore[attr-defined]
    logging.logThreads = logging.logMultiprocessing = False
    if maillog_file and maillog_file not in ("/dev/stderr", "/dev/stdout"):
        handler: logging.Handler = _MovableFile(maillog_file)
        handler.setFormatter(_PostfixFormatter(utf8=utf8))
    elif maillog_file == "/dev/stdout":
        handler = logging.StreamHandler(sys.stdout)
        handler.setFormatter(_PostfixFormatter(utf8=utf8))
    elif foreground or not os.path.exists(SYSLOG_SOCKET):
        handler = logging.StreamHandler(sys.stderr)
        handler.setFormatter(_PostfixFormatter(utf8=utf8))
    else:
        handler = logging.handlers.SysLogHandler(SYSLOG_SOCKET, facility=facility)
        handler.setFormatter(_PostfixFormatter(with_stamp=False, utf8=utf8))
    handler.addFilter(_Service(syslog_name, host.split(".")[0]))
    _replace_handlers(handler, logging.DEBUG if debug else logging.INFO)


def _replace_handlers(handler: logging.Handler, level: int) -> None:
    """Log to `handler` only, starting with what was logged before any setup."""
    for old in list(log.handlers):
        log.removeHandler(old)
        if old is not _early:
            old.close()
    log.addHandler(handler)
    log.setLevel(level)
    log.propagate = False
    for record in _early.buffer:
        if record.levelno >= level and log.filter(record):
            handler.handle(record)
    _early.buffer.clear()


def reset() -> None:
    """The log as a new process has it: nothing set up, what is logged kept for a later setup. For commands run
    again in one process (the tests run filterd's commands in-process)."""
    for old in list(log.handlers):
        log.removeHandler(old)
        if old is not _early:
            old.close()
    log.addHandler(_early)
    log.setLevel(logging.NOTSET)
    log.propagate = True
    _early.buffer.clear()


def discard_early(unwanted) -> None:
    """Drop the records logged before setup for which unwanted(record) is true."""
    _early.buffer[:] = [record for record in _early.buffer if not unwanted(record)]


def setup_tool(program: str) -> None:
    """Log to stderr as a Postfix command does when run by hand: `postmap: warning: ...`, no time or pid."""
    handler = logging.StreamHandler(sys.stderr)
    handler.setFormatter(_ToolFormatter(program))
    _replace_handlers(handler, logging.INFO)


def info(service: str, text: str, *args: object) -> None:
    log.info(text, *args, extra={"service": service})


def warning(service: str, text: str, *args: object) -> None:
    log.warning(text, *args, extra={"service": service})


def error(service: str, text: str, *args: object, exc_info: bool = False) -> None:
    log.error(text, *args, extra={"service": service}, exc_info=exc_info)


def fatal(service: str, text: str, *args: object) -> None:
    log.critical(text, *args, extra={"service": service})


def seconds(value: float) -> str:
    """Postfix's delay figures: two decimals at most, no trailing zeros."""
    return f"{max(value, 0):.2f}".rstrip("0").rstrip(".") or "0"
