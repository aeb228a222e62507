"""Local submission as Postfix's cleanup treats sendmail input: no I/O, bytes and strings only.

Input lines end in CRLF; a lone "." ends the input unless -i; a leading mbox "From " line goes. With -t the
recipients come from To/Cc/Bcc (Resent-To/Cc/Bcc when the message has Resent- headers). Bcc,
Content-Length, Resent-Bcc and Return-Path are dropped (message_drop_headers); bare addresses get
@$myorigin, in the envelope and in the address headers; Received is prepended and Message-Id, Date and From are added
when missing.
"""

from __future__ import annotations

import email.utils
import itertools
import re
from dataclasses import dataclass
from typing import Callable, Iterable, Iterator

from filterd.content import Header

DROP_HEADERS = frozenset({"bcc", "content-length", "resent-bcc", "return-path"})
RECIPIENT_HEADERS = ("to", "cc", "bcc")
_FIELD_NAME = re.compile(rb"[\x21-\x39\x3b-\x7e]+:")
_ATEXT = r"A-Za-z0-9!#$%&'*+/=?^_`{|}~\x80-\U0010ffff-"
_DOT_ATOM = re.compile(f"[{_ATEXT}]+(\\.[{_ATEXT}]+)*")
_PHRASE = re.compile(f"[{_ATEXT} ]+")


def input_lines(stream: Iterable[bytes], dot_ends_input: bool = True) -> Iterator[bytes]:
    """The message's lines with CRLF ends."""
    for number, line in enumerate(stream):
        line = line.removesuffix(b"\n").removesuffix(b"\r")
        if number == 0 and line.startswith(b"From "):
            continue
        if dot_ends_input and line == b".":
            return
        yield line + b"\r\n"


def split_headers(lines: Iterator[bytes]) -> tuple[list[Header], Iterator[bytes]]:
    """Logical headers (folding kept) and the body's lines, which always start with the blank line."""
    raw: list[bytes] = []
    for line in lines:
        if raw and line[:1] in (b" ", b"\t"):
            raw[-1] += line
        elif _FIELD_NAME.match(line):
            raw.append(line)
        else:
            first = [line] if line == b"\r\n" else [b"\r\n", line]
            return [Header(r) for r in raw], itertools.chain(first, lines)
    return [Header(r) for r in raw], iter([b"\r\n"])


def qualify(address: str, origin: str) -> str:
    """An address as it goes on the wire: user -> user@$myorigin, an unusual local part quoted; <> stays null."""
    address = address.strip().removeprefix("<").removesuffix(">").strip()
    if not address:
        return ""
    local, at, domain = address.rpartition("@")
    if not at:
        local, domain = address, origin
    if not _DOT_ATOM.fullmatch(local) and not (len(local) > 1 and local[0] == local[-1] == '"'):
        local = '"' + local.replace("\\", "\\\\").replace('"', '\\"') + '"'
    return f"{local}@{domain}"


def header_recipients(headers: list[Header]) -> list[str]:
    """Addresses for -t: Resent-To/Cc/Bcc if the message was resent, else To/Cc/Bcc."""
    resent = any(h.name.lower().startswith("resent-") for h in headers)
    names = {("resent-" if resent else "") + name for name in RECIPIENT_HEADERS}
    values = [h.value for h in headers if h.name.lower() in names]
    return [address for _, address in email.utils.getaddresses(values) if address and not address.endswith(":;")]


def phrase(name: str) -> str:
    """A display name as it may stand before <address>, quoted when it has specials."""
    if _PHRASE.fullmatch(name):
        return name
    return '"' + name.replace("\\", "\\\\").replace('"', '\\"') + '"'


@dataclass
class Identity:
    """Who submits, and how this host names itself."""

    sender: str
    full_name: str
    uid: int
    myhostname: str
    mail_name: str = "filterd"


def missing_headers(headers: list[Header], identity: Identity, queue_id: str, date: str) -> list[Header]:
    """Message-Id, Date and From, for those the message lacks, in Postfix's order."""
    present = {h.name.lower() for h in headers}
    sender = identity.sender or "MAILER-DAEMON"
    author = f"{phrase(identity.full_name)} <{sender}>" if identity.full_name and identity.sender else sender
    wanted = [("Message-Id", f"<{queue_id}@{identity.myhostname}>"), ("Date", date), ("From", author)]
    return [Header.make(name, value) for name, value in wanted if name.lower() not in present]


def local_headers(headers: list[Header], identity: Identity, queue_id: str, date: str,
                  drop: frozenset[str] = DROP_HEADERS,
                  rewrite: Callable[[list[Header]], None] = lambda headers: None) -> bytes:
    """The header section as it is queued: Received first, dropped headers (message_drop_headers) gone, the others'
    addresses rewritten (`rewrite`, cleanup's local context), missing ones added."""
    received = (f"Received: by {identity.myhostname} ({identity.mail_name}, from userid {identity.uid})\r\n"
                f"\tid {queue_id}; {date}\r\n")
    kept = [h for h in headers if h.name.lower() not in drop]
    rewrite(kept)
    added = missing_headers(headers, identity, queue_id, date)
    return received.encode("utf-8", "surrogateescape") + b"".join(h.raw for h in kept + added)
