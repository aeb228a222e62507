"""What a header_checks or body_checks result does, decided as Postfix's cleanup(8) decides it.

A result is an action word and optional text. Postfix's quirks are kept: REJECT puts 5.7.1 in
front of text that does not start with an RFC 3463 status (so "REJECT 550 5.7.1 x" replies
"550 5.7.1 550 5.7.1 x"), a 4.x.x status defers with 451; REDIRECT, like REJECT, DISCARD and
PASS, ends inspection of the message; a second HOLD is not logged; a malformed or unknown action
is logged as a warning and the line is kept.
"""

from __future__ import annotations

import logging
import re
from dataclasses import dataclass

from filterd import Action, Verdict

from .mime_state import header_name_length

HEADER, BODY = "header", "body"
GENERIC_REJECT = "message content rejected"
_DSN = re.compile(r"[245]\.[0-9]{1,3}\.[0-9]{1,3}(?=[ \t\n\r\v\f]|$)")
_WHITESPACE = " \t\n\r\v\f"
_log = logging.getLogger("filterd.header_checks")
_CLEANUP = {"service": "cleanup"}


@dataclass
class Inspection:
    """What earlier actions decided about inspecting this message."""

    active: bool = True
    held: bool = False


def warn(text: str, *args: object) -> None:
    """A warning in cleanup's name, as Postfix logs a bad table result."""
    _log.warning("warning: " + text, *args, extra=_CLEANUP)


def act(value: str, context: str, table: str, inspection: Inspection) -> Verdict | None:
    """The verdict for table result `value` on a header or body line (context HEADER or BODY)."""
    end = _word_end(value)
    word, text = value[:end].upper(), value[end:].lstrip(_WHITESPACE)
    handler = _ACTIONS.get(word)
    if handler is None:
        warn("unknown command in %s map: %s", table, value)
        return None
    return handler(text, context, table, inspection)


def _word_end(value: str) -> int:
    for i, ch in enumerate(value):
        if ch in " \t":
            return i
    return len(value)


def _reject(text: str, context: str, table: str, inspection: Inspection) -> Verdict:
    found = _DSN.match(text)
    dsn, rest = (found.group(), text[found.end():].lstrip(_WHITESPACE)) if found else ("5.7.1", text)
    if not text:
        rest = GENERIC_REJECT
    if dsn[0] not in "45":
        warn("bad DSN action in %s -- need 4.x.x or 5.x.x", text)
        dsn = "4" + dsn[1:]
    inspection.active = False
    if dsn[0] == "4":
        return Verdict(Action.DEFER, rest, 451, dsn)
    return Verdict(Action.REJECT, rest, 550, dsn)


def _filter(text: str, context: str, table: str, inspection: Inspection) -> Verdict | None:
    if not text:
        warn("missing FILTER command argument in %s map", table)
    elif ":" not in text:
        warn("bad FILTER command %s in %s -- need transport:destination", text, table)
    else:
        return Verdict(Action.FILTER, text)
    return None


def _hold(text: str, context: str, table: str, inspection: Inspection) -> Verdict | None:
    if inspection.held:
        return None
    inspection.held = True
    return Verdict(Action.HOLD, text)


def _ends_inspection(action: Action):
    def handler(text: str, context: str, table: str, inspection: Inspection) -> Verdict:
        inspection.active = False
        return Verdict(action, text)
    return handler


def _line_text(action: Action):
    def handler(text: str, context: str, table: str, inspection: Inspection) -> Verdict | None:
        if not text:
            warn("%s action without text in %s map", action.value, table)
        elif context == HEADER and not header_name_length(text.encode("utf-8", "surrogateescape")):
            warn('bad %s header text "%s" in %s map -- need "headername: headervalue"', action.value, text, table)
        else:
            return Verdict(action, text)
        return None
    return handler


def _address(action: Action, what: str):
    def handler(text: str, context: str, table: str, inspection: Inspection) -> Verdict | None:
        if "@" not in text:
            warn('bad %s %s "%s" in %s map -- need user@domain', action.value, what, text, table)
            return None
        if action is Action.REDIRECT:
            inspection.active = False
        return Verdict(action, text)
    return handler


def _plain(action: Action):
    return lambda text, context, table, inspection: Verdict(action, text)


def _nothing(text: str, context: str, table: str, inspection: Inspection) -> None:
    return None


_ACTIONS = {
    "REJECT": _reject, "WARN": _plain(Action.WARN), "INFO": _plain(Action.INFO), "FILTER": _filter,
    "PASS": _ends_inspection(Action.PASS), "DISCARD": _ends_inspection(Action.DISCARD), "HOLD": _hold,
    "PREPEND": _line_text(Action.PREPEND), "REPLACE": _line_text(Action.REPLACE),
    "REDIRECT": _address(Action.REDIRECT, "target"), "BCC": _address(Action.BCC, "address"),
    "STRIP": _plain(Action.STRIP), "IGNORE": lambda *a: Verdict(Action.IGNORE), "DUNNO": _nothing, "OK": _nothing,
}
