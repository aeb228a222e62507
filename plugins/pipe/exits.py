"""A command's exit status read as pipe(8) reads it (Postfix's sys_exits table): 0 done, EX_TEMPFAIL and EX_OSERR
deferred, the other <sysexits.h> codes and anything else bounced; a signal or the time limit defers."""

from __future__ import annotations

SYSEXITS = {
    64: ("5.3.0", "command line usage error"), 65: ("5.6.0", "data format error"),
    66: ("5.3.0", "cannot open input"), 67: ("5.1.1", "user unknown"), 68: ("5.1.2", "host name unknown"),
    69: ("5.3.0", "service unavailable"), 70: ("5.3.0", "internal software error"),
    71: ("4.3.0", "system resource problem"), 72: ("5.3.0", "critical OS file missing"),
    73: ("5.2.0", "can't create user output file"), 74: ("5.3.0", "input/output error"),
    75: ("4.3.0", "temporary failure"), 76: ("5.5.0", "remote error in protocol"),
    77: ("5.7.0", "permission denied"), 78: ("5.3.5", "local configuration error"),
}


def failure(returncode: int | None, output: str, timed_out: bool = False) -> tuple[str, str]:
    """(DSN status, text) for a command that did not exit 0, in pipe(8)'s words."""
    said = f". Command output: {output}" if output else ""
    if timed_out:
        return "4.3.0", "Command time limit exceeded"
    if returncode is None or returncode < 0:
        return "4.3.0", f"Command died with signal {-(returncode or 0)}{said}"
    if returncode in SYSEXITS:
        status, text = SYSEXITS[returncode]
        return status, text + said
    return "5.3.0", f"Command died with status {returncode}{said}"
