"""Example plugin: mask what looks like a payment card number in the body, line by line, as body_checks(5)
sees the body (text parts only: an encoded attachment is not looked into).

    filterd_plugins = body_redact
"""

import re

from filterd import Verdict, hookimpl

CARD_NUMBER = re.compile(rb"\b(?:\d[ -]?){12,18}\d\b")


@hookimpl
def changes():
    return {"replace"}


@hookimpl
def body(line):
    """Each body line as bytes, without its line ending; REPLACE puts this text in its place."""
    if not CARD_NUMBER.search(line):
        return None
    return Verdict.replace(CARD_NUMBER.sub(b"[card number removed]", line).decode("utf-8", "surrogateescape"))
