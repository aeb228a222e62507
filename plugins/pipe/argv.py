"""pipe(8)'s argv templates: `${sender}`, `${recipient}`, ... expanded inside each word, never through a shell,
so an address full of metacharacters stays one argument; a word with a recipient macro is repeated per recipient."""

from __future__ import annotations

import re
import shlex

MACRO = re.compile(r"\$(?:\{(\w+)\}|\((\w+)\)|(\w+))")
PER_RECIPIENT = frozenset({"recipient", "original_recipient", "user", "extension", "mailbox", "domain"})
PER_MESSAGE = frozenset({"sender", "queue_id", "size", "nexthop", "client_address", "client_helo",
                         "client_hostname", "client_port", "client_protocol", "sasl_method", "sasl_sender",
                         "sasl_username"})


def parse(template: str) -> list[str]:
    """The template's words (split as a shell would, but never run by one); ValueError names an unknown macro."""
    words = shlex.split(template)
    if not words:
        raise ValueError("empty command")
    for word in words:
        for match in MACRO.finditer(word):
            name = next(filter(None, match.groups()))
            if name not in PER_RECIPIENT | PER_MESSAGE:
                raise ValueError(f"unknown macro name: {name}")
    return words


def recipient_macros(recipient: str) -> dict[str, str]:
    """pipe(8)'s recipient macros; filterd has no recipient_delimiter, so ${extension} is empty."""
    mailbox, _, domain = recipient.rpartition("@") if "@" in recipient else (recipient, "", "")
    return {"recipient": recipient, "original_recipient": recipient, "user": mailbox, "extension": "",
            "mailbox": mailbox, "domain": domain}


def expand(words: list[str], macros: dict[str, str], recipients: list[str]) -> list[str]:
    """The argv: each word with its macros replaced, a word with a recipient macro once per recipient."""
    argv = []
    for word in words:
        names = {next(filter(None, m.groups())) for m in MACRO.finditer(word)}
        for rcpt in recipients if names & PER_RECIPIENT else [""]:
            values = {**macros, **recipient_macros(rcpt)}
            argv.append(MACRO.sub(lambda m: values[next(filter(None, m.groups()))], word))
    return argv
