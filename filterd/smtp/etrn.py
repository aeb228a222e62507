"""ETRN (RFC 1985) as Postfix 3.7's smtpd answers it (etrn_cmd, flush_send_site): the checks and their replies, and
fast_flush_domains, the destinations whose deferred mail a client may ask for. Sans-IO.

Postfix's flush service answers `250 Queuing started` for an eligible destination whether or not mail is queued
for it (no per-destination log, nothing to do), 459 for one that is not eligible, 458 when the flush fails.
filterd gives the same replies; in relay mode the front end also makes the deferred mail for that destination
due now.
"""

from __future__ import annotations


from filterd.addresses import literal_address, valid_hostname
from filterd.domain_list import DomainList
from filterd.smtp.address_argument import smtpd_tokens

IN_TRANSACTION = "503 Error: MAIL transaction in progress"
SYNTAX = "500 Syntax: ETRN domain"
BAD_SYNTAX = "501 Error: invalid parameter syntax"
STARTED = "250 Queuing started"
UNAVAILABLE = "459 <{site}>: service unavailable"
"""RFC 1985's 459: the destination is not one whose mail this server holds for a client to ask for."""
CANNOT_QUEUE = "458 Unable to queue messages"
"""RFC 1985's 458: the flush was asked for and failed (Postfix: the flush service could not be reached)."""
FLUSH_FAILED = "unable to talk to fast flush service"
"""Postfix's warning with that reply."""


def site_or_refusal(argument: str | None, in_transaction: bool) -> tuple[str | None, str | None]:
    """(the destination asked for, None) or (None, Postfix's refusal), checked in etrn_cmd()'s order: a mail
    transaction, one word, `@` or `#` in front taken off, a host name or an address literal."""
    if in_transaction:
        return None, IN_TRANSACTION
    words = smtpd_tokens(argument or "")
    if len(words) != 1:
        return None, SYNTAX
    site = words[0][1:] if words[0][:1] in ("@", "#") else words[0]
    if not valid_hostname(site) and literal_address(site) is None:
        return None, BAD_SYNTAX
    return site, None


def eligible(site: str, domains: DomainList) -> bool:
    """Whether mail for `site` may be asked for: listed in fast_flush_domains, and a host name (Postfix's flush
    server turns the name into a file name through IDNA, which no address literal survives: 459 for those)."""
    return literal_address(site) is None and domains.matches(site)


def refusal_notice(site: str) -> str:
    """Postfix's warning for a destination that is not eligible (the reply is UNAVAILABLE)."""
    return f"reject: ETRN {site[:100]}..."
