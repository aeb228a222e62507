"""The EHLO reply as Postfix 3.7's smtpd builds it: its keywords in its order, less those that
smtpd_discard_ehlo_keywords (or smtpd_discard_ehlo_keyword_address_maps, for the client's address) takes away.
A discarded keyword also turns its command or parameters off (STARTTLS, AUTH, DSN, SMTPUTF8). Sans-IO.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

KEYWORDS = ("8BITMIME", "AUTH", "ETRN", "PIPELINING", "SIZE", "VERP", "VRFY", "XCLIENT", "XFORWARD", "STARTTLS",
            "ENHANCEDSTATUSCODES", "DSN", "SMTPUTF8", "CHUNKING")
"""ehlo_mask(3)'s names, in the order of its table: the order of Postfix's `discarding EHLO keywords:` line."""
SILENT = "SILENT-DISCARD"
"""The pseudo keyword that discards without the log line."""
_LOGGED_AS = {"SMTPUTF8": "EHLO_MASK_SMTPUTF8"}
"""Postfix's str_ehlo_mask() names a bit by its table's first entry: SMTPUTF8 shows as EHLO_MASK_SMTPUTF8."""
XFORWARD = "XFORWARD NAME ADDR PROTO HELO SOURCE PORT IDENT"
XCLIENT = "XCLIENT NAME ADDR PROTO HELO REVERSE_NAME PORT LOGIN DESTADDR DESTPORT"


def discards(words: str) -> frozenset[str]:
    """The keywords a smtpd_discard_ehlo_keywords value names, in upper case (SILENT-DISCARD among them); names
    Postfix does not know are ignored, as its ehlo_mask() ignores them."""
    names = {"SMTPUTF8" if word == "EHLO_MASK_SMTPUTF8" else word for word in re.split(r"[\s,]+", words.upper())}
    return frozenset(name for name in names if name in KEYWORDS or name == SILENT)


def discard_notice(discarded: frozenset[str]) -> str | None:
    """Postfix's `discarding EHLO keywords: ...` for an EHLO, or None: nothing discarded, SILENT-DISCARD, or (as
    Postfix has it) ENHANCEDSTATUSCODES among the discarded."""
    if not discarded or SILENT in discarded or "ENHANCEDSTATUSCODES" in discarded:
        return None
    return "discarding EHLO keywords: " + " ".join(_LOGGED_AS.get(k, k) for k in KEYWORDS if k in discarded)


@dataclass(frozen=True)
class Offer:
    """What the server offers this client before any keyword is discarded."""

    size_limit: int
    vrfy: bool = True
    starttls: bool = False
    auth: tuple[str, ...] = ()
    """The AUTH lines (`AUTH PLAIN LOGIN`, and `AUTH=PLAIN LOGIN` for broken clients); none when AUTH is off."""
    xforward: bool = False
    xclient: bool = False


def ehlo_lines(hostname: str, offer: Offer, discarded: frozenset[str]) -> list[str]:
    """The EHLO reply's lines, the host name first, in ehlo_cmd()'s order. The one place the list is built: a new
    keyword goes where Postfix puts it (CHUNKING, last, after SMTPUTF8)."""
    offered = (
        ("PIPELINING", ["PIPELINING"]),
        ("SIZE", [f"SIZE {offer.size_limit}" if offer.size_limit > 0 else "SIZE"]),
        ("VRFY", ["VRFY"] if offer.vrfy else []),
        ("ETRN", ["ETRN"]),
        ("STARTTLS", ["STARTTLS"] if offer.starttls else []),
        ("AUTH", list(offer.auth)),
        ("XCLIENT", [XCLIENT] if offer.xclient else []),
        ("XFORWARD", [XFORWARD] if offer.xforward else []),
        ("ENHANCEDSTATUSCODES", ["ENHANCEDSTATUSCODES"]),
        ("8BITMIME", ["8BITMIME"]),
        ("DSN", ["DSN"]),
        ("SMTPUTF8", ["SMTPUTF8"]),
        ("CHUNKING", ["CHUNKING"]),
    )
    return [hostname, *(line for keyword, lines in offered if keyword not in discarded for line in lines)]
