"""SMTP reply texts in Postfix's words, with enhanced status codes (RFC 3463)."""

from __future__ import annotations

import re

OK = "250 2.0.0 Ok"
MAIL_OK = "250 2.1.0 Ok"
RCPT_OK = "250 2.1.5 Ok"
DATA_GO = "354 End data with <CR><LF>.<CR><LF>"
BYE = "221 2.0.0 Bye"
TOO_MANY_RCPTS = "452 4.5.3 Error: too many recipients"
TOO_BIG = "552 5.3.4 Error: message file too big"
SIZE_TOO_BIG = "552 5.3.4 Message size exceeds fixed limit"
LOCAL_ERROR = "421 4.3.0 {host} Server local error"
SYNCHRONIZATION = "554 5.5.0 Error: SMTP protocol synchronization"
NO_RCPTS = "554 5.5.1 Error: no valid recipients"
NEED_RCPT = "503 5.5.1 Error: need RCPT command"
BARE_LF = "{code} 5.5.2 {host} Error: bare <LF> received"
BAD_SYNTAX = "500 5.5.2 Error: bad syntax"
BAD_UTF8 = "500 5.5.2 Error: bad UTF-8 syntax"
UNKNOWN_COMMAND = "500 5.5.2 Error: command not recognized"
NON_SMTP = "221 2.7.0 Error: I can break rules, too. Goodbye."
NEXTHOP_DOWN = "451 4.3.0 Error: queue file write error"
NEXTHOP_TIMEOUT = "451 4.4.2 Error: timeout exceeded"
TOO_MANY_ERRORS = "421 4.7.0 {host} Error: too many errors"
ACCESS_DENIED = "503 5.7.0 Error: access denied for {client}"
TIMEOUT = "421 4.4.2 {host} Error: timeout exceeded"

# aiosmtpd's own replies, translated to Postfix's text and codes.
_TRANSLATIONS: list[tuple[re.Pattern[str], str]] = [
    (re.compile(r"^250 OK$"), OK),
    (re.compile(r"^221 Bye$"), BYE),
    (re.compile(r"^500 Command line too long$"), "500 5.5.2 Error: command line too long"),
    (re.compile(r"^500 Error: bad syntax$"), BAD_SYNTAX),
    (re.compile(r"^500 Error: strict ASCII mode$"), BAD_SYNTAX),
    (re.compile(r"^500 Error: command 'AUTH' not recognized$"), "503 5.5.1 Error: authentication not enabled"),
    (re.compile(r"""^500 Error: command ["'].*["'] not recognized$"""), UNKNOWN_COMMAND),
    (re.compile(r"^503 Error: send HELO first$"), "503 5.5.1 Error: send HELO/EHLO first"),
    (re.compile(r"^454 TLS not available$"), "502 5.5.1 Error: command not implemented"),
    (re.compile(r"^502 5.5.1 Too many unrecognized commands, goodbye.$"), "421 4.7.0 Error: too many errors"),
    (re.compile(r"^501 Syntax: (\w+) hostname$"), r"501 5.5.4 Syntax: \1 hostname"),
    (re.compile(r"^501 Syntax: MAIL FROM: <address>.*$"), "501 5.5.4 Syntax: MAIL FROM:<address>"),
    (re.compile(r"^501 Syntax: RCPT TO: <address>.*$"), "501 5.5.4 Syntax: RCPT TO:<address>"),
    (re.compile(r"^501 Syntax: (.*)$"), r"501 5.5.4 Syntax: \1"),
    (re.compile(r"^503 Error: nested MAIL command$"), "503 5.5.1 Error: nested MAIL command"),
    (re.compile(r"^503 Error: need MAIL command$"), "503 5.5.1 Error: need MAIL command"),
    (re.compile(r"^503 Error: need RCPT command$"), NEED_RCPT),
    (re.compile(r"^552 Error: message size exceeds fixed maximum message size$"), SIZE_TOO_BIG),
    (re.compile(r"^555 (MAIL FROM|RCPT TO) parameters not recognized or not implemented$"),
     "555 5.5.4 Unsupported option"),
    (re.compile(r"^501 Error: BODY can only be one of 7BIT, 8BITMIME$"), "501 5.5.4 Invalid BODY keyword"),
    (re.compile(r"^501 Error: SMTPUTF8 takes no arguments$"), "501 5.5.4 Bad SMTPUTF8 syntax"),
    (re.compile(r"^502 EXPN not implemented$"), "502 5.5.1 EXPN command is disabled"),
]


_BY_CODE: dict[str, list[tuple[re.Pattern, str]]] = {}
for _translation in _TRANSLATIONS:
    _BY_CODE.setdefault(_translation[0].pattern[1:4], []).append(_translation)
"""The translations by the reply code their pattern starts with: a reply is tried against its code's alone."""

BAD_ADDRESS = {"MAIL": "501 5.1.7 Bad sender address syntax", "RCPT": "501 5.1.3 Bad recipient address syntax"}


def translate(reply: str, command: str = "") -> str:
    """Postfix's text for one of aiosmtpd's canned replies to `command`; filterd's own replies pass unchanged."""
    if reply == "553 5.1.3 Error: malformed address" and command in BAD_ADDRESS:
        return BAD_ADDRESS[command]
    for pattern, replacement in _BY_CODE.get(reply[:3], ()):
        if pattern.match(reply):
            return pattern.sub(replacement, reply)
    return reply


def soften(reply: str) -> str:
    """soft_bounce: a 5XX reply (each line, and its 5.X.X status) as 4XX, so that the client tries again later
    instead of bouncing, as Postfix's smtpd does."""
    return "\r\n".join(_soften_line(line) for line in reply.split("\r\n"))


def _soften_line(line: str) -> str:
    if not line.startswith("5"):
        return line
    line = "4" + line[1:]
    return line[:4] + "4" + line[5:] if line[4:6] == "5." else line


def format_reply(code: int, dsn: str, text: str) -> str:
    return f"{code} {dsn} {text}"
