"""reject_unlisted_recipient (check_recipient_maps) and reject_unlisted_sender: an address in a local domain that
local_recipient_maps does not list, in one of $virtual_mailbox_domains that virtual_mailbox_maps does not list, or in
one of $relay_domains that relay_recipient_maps does not list, is refused as smtpd_check.c's check_rcpt_maps refuses
it; with smtpd_reject_unlisted_recipient the RCPT (and VRFY) check runs
after the lists too, unless they refused or a restriction already asked. An address that transport_maps sends to
error: or retry: is refused first, with the next hop as the reason, as trivial-rewrite's answer tells smtpd; an address
the canonical maps or virtual_alias_maps list is never refused, one in $virtual_alias_domains that they do not list
always is."""

from __future__ import annotations

from filterd import Delimiters, TransportMaps, Verdict, find_address, unquote_local

from .evaluation import Check
from .names import restriction
from .replies import dsn_fix, refusal

ALWAYS_LOCAL = ("postmaster", "mailer-daemon", "double-bounce")
"""Local parts a local domain accepts whatever its table says (the queue manager and bounces use them)."""
RECIPIENT, SENDER = "Recipient address", "Sender address"
NOT_DELIVERING = {"error": (550, "5.1.1"), "retry": (450, "4.1.1")}
"""What check_rcpt_maps says of an address that transport_maps sends to error: or retry: (a sender's status X.1.0),
the next hop being the reason."""


@restriction("reject_unlisted_recipient")
def reject_unlisted_recipient(check: Check) -> Verdict | None:
    return _once(check, "recipient") if check.recipient else None


@restriction("check_recipient_maps")
def check_recipient_maps(check: Check) -> Verdict | None:
    return reject_unlisted_recipient(check)


@restriction("reject_unlisted_sender")
def reject_unlisted_sender(check: Check) -> Verdict | None:
    return _once(check, "sender") if check.sender else None


def _once(check: Check, role: str) -> Verdict | None:
    """The check for the recipient or sender, done once an evaluation (warn_if_reject's does not count)."""
    if role in check.rcptmap_checked:
        return None
    if not check.warning:
        check.rcptmap_checked.add(role)
    if role == "recipient":
        return unlisted(check, check.recipient or "", RECIPIENT)
    return unlisted(check, check.sender or "", SENDER)


def after_the_lists(check: Check) -> Verdict | None:
    """smtpd_reject_unlisted_recipient: the recipient check at the end of RCPT, unless a restriction made it."""
    if not check.settings.reject_unlisted_recipient or "recipient" in check.rcptmap_checked:
        return None
    return unlisted(check, check.recipient or "", RECIPIENT)


def unlisted(check: Check, address: str, reply_class: str) -> Verdict | None:
    """`550 5.1.1 <ADDR>: Recipient address rejected: User unknown in local recipient table` (5.1.0 and "Sender
    address" for a sender) when the address's class has a table and it does not list the address."""
    settings = check.settings
    if not settings.unknown_recipient_checks:
        return None
    rules = settings.rules
    given = unquote_local(address)
    resolution = rules.resolve(rules.rewrite(given))
    if (resolution.error or settings.canonical.listed(resolution.recipient, sender=reply_class == SENDER)
            or settings.aliases.lookup(resolution.recipient) is not None):
        return None
    local_part, _, domain = resolution.recipient.rpartition("@")
    local = resolution.address_class == "local"
    transport, reason = settings.transports.resolve(resolution.recipient.lower(), domain.lower(), local,
                                                    check.sender or "")
    if transport in NOT_DELIVERING:
        code, status = NOT_DELIVERING[transport]
        if not local and settings.transports.is_alias_domain(domain):
            code = settings.codes["unknown_virtual_alias_reject_code"]
        dsn, text = TransportMaps.reason(reason, status[:-1] + "0" if reply_class == SENDER else status)
        return refusal(code, dsn_fix(dsn, reply_class), f"<{given}>: {reply_class} rejected: {text}")
    if resolution.address_class == "local":
        if local_part.lower() in ALWAYS_LOCAL:
            return None
        tables, table_name, code_name = settings.local_recipient_maps, "local recipient", "local_recipient"
    elif settings.transports.is_mailbox_domain(domain):
        tables, table_name, code_name = settings.virtual_mailbox_maps, "virtual mailbox", "virtual_mailbox"
    elif settings.relay_domains.matches(domain):
        tables, table_name, code_name = settings.relay_recipient_maps, "relay recipient", "relay_recipient"
    else:
        return None
    if not tables or listed(tables, resolution.recipient, resolution.address_class == "local"
                            or domain.lower() == rules.myorigin.lower(), settings.delimiters):
        return None
    named = f" in {table_name} table" if settings.show_unknown_table else ""
    code = settings.codes[f"unknown_{code_name}_reject_code"]
    return refusal(code, "5.1.0" if reply_class == SENDER else "5.1.1",
                   f"<{given}>: {reply_class} rejected: User unknown{named}")


def listed(tables, address: str, local_domain: bool, delimiters: Delimiters = Delimiters()) -> bool:
    """mail_addr_find's default search: user+foo@domain (its quoted form first), user@domain, then of fixed-string
    tables only the local part alone (with and without its extension) when the domain is local, and @domain."""
    return find_address(tables, address, local_domain, delimiters) is not None
