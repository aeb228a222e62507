"""Logging in Postfix's format and words, so that tools written for Postfix logs read filterd's.

Lines look like `Nov 26 11:07:19 host filterd/smtpd[1234]: 4RfGhj1xYzz5Q9: client=name[addr]`,
written to stderr, to a file (`maillog_file`), or to syslog (`syslog_facility`).
"""

from __future__ import annotations

import logging
import logging.handlers
import os
import sys

from filterd.maildate import log_stamp

log = logging.getLogger("filterd")
SYSLOG_SOCKET = "/dev/log"


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


class _PostfixFormatter(logging.Formatter):
    """`Mon DD HH:MM:SS host program[pid]: text`, with Postfix's severity words."""

    def __init__(self, with_stamp: bool = True):
        super().__init__()
        self.with_stamp = with_stamp
        self._second = -1
        self._stamp = ""

    def format(self, record: logging.LogRecord) -> str:
        text = record.getMessage()
        if record.levelno >= logging.CRITICAL:
            text = f"fatal: {text}"
        elif record.levelno >= logging.ERROR:
            text = f"error: {text}"
        elif record.levelno >= logging.WARNING and not text.startswith("warning: "):
            text = f"warning: {text}"
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


def setup(maillog_file: str = "", syslog_name: str = "filterd", host: str = "localhost",
          facility: str = "mail", foreground: bool = True, debug: bool = False) -> None:
    """Route filterd's log: maillog_file if set, else stderr in the foreground, else syslog."""
    for handler in list(log.handlers):
        log.removeHandler(handler)
        handler.close()
    if maillog_file and maillog_file not in ("/dev/stderr", "/dev/stdout"):
        handler: logging.Handler = logging.handlers.WatchedFileHandler(maillog_file)
        handler.setFormatter(_PostfixFormatter())
    elif maillog_file == "/dev/stdout":
        handler = logging.StreamHandler(sys.stdout)
        handler.setFormatter(_PostfixFormatter())
    elif foreground or not os.path.exists(SYSLOG_SOCKET):
        handler = logging.StreamHandler(sys.stderr)
        handler.setFormatter(_PostfixFormatter())
    else:
        handler = logging.handlers.SysLogHandler(SYSLOG_SOCKET, facility=facility)
        handler.setFormatter(_PostfixFormatter(with_stamp=False))
    handler.addFilter(_Service(syslog_name, host.split(".")[0]))
    log.addHandler(handler)
    log.setLevel(logging.DEBUG if debug else logging.INFO)
    log.propagate = False


def info(service: str, text: str, *args: object) -> None:
    log.info(text, *args, extra={"service": service})


def warning(service: str, text: str, *args: object) -> None:
    log.warning(text, *args, extra={"service": service})


def error(service: str, text: str, *args: object, exc_info: bool = False) -> None:
    log.error(text, *args, extra={"service": service}, exc_info=exc_info)


def seconds(value: float) -> str:
    """Postfix's delay figures: two decimals at most, no trailing zeros."""
    return f"{max(value, 0):.2f}".rstrip("0").rstrip(".") or "0"
