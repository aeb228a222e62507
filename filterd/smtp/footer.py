"""smtpd_reject_footer: text appended to each 4XX and 5XX reply, as Postfix's smtp_reply_footer() appends it: `\\n`
starts a line with the reply's code and enhanced status, `\\c` at the start joins the first part to the reply's
last line, and $name, ${name}, ${name?text}, ${name:text} expand the session's attributes (smtpd_expand.c's
names). An unknown name expands to nothing, with Postfix's warning. Sans-IO."""

from __future__ import annotations

import re
import time
from collections.abc import Callable
from dataclasses import dataclass

from filterd import maillog
from filterd.tables import open_tables

_MACRO = re.compile(r"\$(?:\{(?P<braced>\w+)(?:(?P<op>[?:])(?P<text>[^}]*))?\}|\((?P<paren>\w+)\)|(?P<bare>\w+)|"
                    r"(?P<dollar>\$))")
_DSN = re.compile(r"[245]\.\d{1,3}\.\d{1,3}(?= |$)")
ALLOWED = frozenset("\t" + "".join(map(chr, range(32, 127))))
"""smtpd_expansion_filter's default: what an expanded value may hold; anything else becomes `_`."""


def expand(template: str, lookup: Callable[[str], str | None], service: str = "smtpd") -> str:
    """The template with each macro expanded (`lookup` gives None for an unknown name: empty, and a warning)."""
    def one(match: re.Match) -> str:
        if match["dollar"]:
            return "$"
        name = match["braced"] or match["paren"] or match["bare"]
        value = lookup(name)
        if value is None:
            maillog.warning(service, 'unknown macro name "%s" in expansion request', name)
            value = ""
        if match["op"] == "?":
            return expand(match["text"], lookup, service) if value else ""
        if match["op"] == ":":
            return "" if value else expand(match["text"], lookup, service)
        return "".join(c if c in ALLOWED else "_" for c in value)
    return _MACRO.sub(one, template)


def with_footer(reply: str, footer: str, lookup: Callable[[str], str | None], service: str = "smtpd") -> str:
    """The reply (lines joined by CRLF) with the footer after its last line."""
    if not footer or reply[:1] not in "45":
        return reply
    last = reply.rsplit("\r\n", 1)[-1]
    code, dsn = last[:3], _DSN.match(last, 4)
    prefix = f" {dsn.group()} " if dsn else " "
    parts, added = footer.split("\\n"), []
    expanded = [expand(part, lookup, service) for part in parts]
    text = reply
    for index, part in enumerate(expanded):
        if index == 0 and parts[0].startswith("\\c"):
            text += part[2:] if part.startswith("\\c") else part
            continue
        more = index < len(expanded) - 1
        added.append(f"{code}{'-' if more else ' '}{prefix[1:]}{part}")
    if not added:
        return text
    head, _, tail = text.rpartition("\r\n")
    tail = f"{tail[:3]}-{tail[4:]}"
    return "\r\n".join([*([head] if head else []), tail, *added])


def address_part(address: str | None, part: str) -> str:
    """$sender, $sender_name, $sender_domain (and $recipient...): the address, its local part, its domain; the
    null address as <> (its domain empty); "" before there is one."""
    if address is None:
        return ""
    local, at, domain = address.rpartition("@")
    if part == "domain":
        return domain if address and at else ""
    if not address:
        return "<>"
    return (local if at else address) if part == "name" else address


@dataclass(frozen=True)
class RejectFooter:
    """smtpd_reject_footer, and smtpd_reject_footer_maps asked with the whole reply first."""

    text: str = ""
    maps: tuple = ()

    @classmethod
    def from_config(cls, config) -> RejectFooter:
        return cls(config.raw("smtpd_reject_footer"), tuple(open_tables(config.get("smtpd_reject_footer_maps"))))

    @property
    def wanted(self) -> bool:
        return bool(self.text or self.maps)

    def apply(self, reply: str, lookup: Callable[[str], str | None], service: str = "smtpd") -> str:
        found = next((value for table in self.maps if (value := table.lookup(reply)) is not None), None)
        return with_footer(reply, found if found is not None else self.text, lookup, service)


def session_values(session, txn, server_name: str) -> Callable[[str], str | None]:
    """smtpd_expand_lookup()'s names for one reply: the connection's client, the transaction's sender and first
    recipient, the server's name, the local time; None for a name smtpd does not know."""
    real = session.unforwarded()

    def value(name: str) -> str | None:
        if name in ("sender", "sender_name", "sender_domain", "recipient", "recipient_name", "recipient_domain"):
            kind, _, part = name.partition("_")
            envelope = txn.envelope if txn is not None else None
            address = None if envelope is None else envelope.sender if kind == "sender" else \
                (envelope.recipients[0] if envelope.recipients else None)
            return address_part(address, part)
        values = {"server_name": server_name, "client": real.client, "client_port": str(real.client_port),
                  "client_address": real.client_address, "client_name": real.client_name,
                  "reverse_client_name": real.reverse_name, "helo_name": real.helo,
                  "localtime": time.strftime("%b %d %H:%M:%S")}
        return values.get(name)
    return value
