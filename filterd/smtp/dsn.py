"""RFC 3461 parameters of MAIL (RET, ENVID) and RCPT (NOTIFY, ORCPT), checked as Postfix's smtpd checks them,
so that what is queued and passed on to the next hop is well formed. No I/O."""

from __future__ import annotations

import re

_XTEXT = re.compile(r"(?:[^+]|\+[0-9A-Fa-f]{2})*")
_HEX = re.compile(r"\+([0-9A-Fa-f]{2})")
_NOTIFY = frozenset({"SUCCESS", "FAILURE", "DELAY"})

REPLIES = {"RET": "501 5.5.4 Bad RET parameter syntax", "ENVID": "501 5.5.4 Bad ENVID parameter syntax",
           "NOTIFY": "501 5.5.4 Error: Bad NOTIFY parameter syntax",
           "ORCPT": "501 5.5.4 Error: Bad ORCPT parameter syntax"}
"""Postfix's reply to each parameter given twice or malformed."""
DISABLED = "501 5.7.1 DSN support is disabled"
"""Postfix's reply to any of them when smtpd_discard_ehlo_keywords takes DSN away."""


def is_xtext(text: str) -> bool:
    """xtext as Postfix's xtext_unquote(3) takes it: every "+" starts a "+XX" hexadecimal escape."""
    return _XTEXT.fullmatch(text) is not None


def _envid(value: str) -> bool:
    """xtext that stands for printable ASCII, as Postfix's smtpd wants."""
    return is_xtext(value) and all(" " <= c <= "~" for c in _HEX.sub(lambda m: chr(int(m[1], 16)), value))


def _notify(value: str) -> bool:
    words = value.upper().split(",")
    return words == ["NEVER"] or bool(words) and all(word in _NOTIFY for word in words)


def _orcpt(value: str) -> bool:
    kind, semicolon, address = value.partition(";")
    return bool(semicolon and kind) and is_xtext(address)


_VALID = {"RET": lambda value: value.upper() in ("FULL", "HDRS"), "ENVID": _envid, "NOTIFY": _notify,
          "ORCPT": _orcpt}


def refusal(options: list[str]) -> str | None:
    """Postfix's 501 for the first DSN parameter ("KEYWORD=value", keyword upper-cased) that is malformed or
    repeated; None when all are well formed."""
    seen = set()
    for option in options:
        keyword, _, value = option.partition("=")
        if keyword in seen or not _VALID[keyword](value):
            return REPLIES[keyword]
        seen.add(keyword)
    return None
