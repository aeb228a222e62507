"""The ESMTP parameters of MAIL and RCPT other than DSN's, checked in order as Postfix's smtpd checks them: the first
one it refuses gives its reply, naming the parameter as the client wrote it. No I/O."""

from __future__ import annotations

BAD_SIZE = "501 5.5.4 Bad message size syntax"
_KNOWN = {"MAIL": frozenset({"BODY=7BIT", "BODY=8BITMIME", "SMTPUTF8"}), "RCPT": frozenset()}


def refusal(command: str, words: list[str], discarded: frozenset[str] = frozenset()) -> str | None:
    """Postfix's reply to the first parameter of `command` it refuses (501 for a bad SIZE, 555 for one it does not
    support, SMTPUTF8 too when its EHLO keyword is `discarded`); None when it takes them all. DSN parameters are
    taken out and checked before (filterd.smtp.dsn)."""
    for word in words:
        if "SMTPUTF8" in discarded and word.upper() == "SMTPUTF8":
            return f"555 5.5.4 Unsupported option: {word}"
        upper = word.upper()
        if command == "MAIL" and upper.startswith("SIZE="):
            if not (word[5:].isascii() and word[5:].isdigit()):
                return BAD_SIZE
        elif upper not in _KNOWN.get(command, frozenset()):
            return f"555 5.5.4 Unsupported option: {word}"
    return None
