"""Restrictions on the envelope sender: its form, its domain, its owner, access(5) tables and DNS blocklists."""

from __future__ import annotations

from filterd import Verdict, unquote_local

from .access import check_access, mail_keys, resolved, table
from .dnsbl import Zone, reject_rhsbl, unknown_domain, zone_and_filter
from .domains import fully_qualified
from .evaluation import Check
from .names import restriction
from .replies import refusal


def sender_address(check: Check) -> str:
    """The sender, unquoted; "" for the null sender (and where the MTA never said)."""
    return unquote_local(check.sender or "")


@restriction("check_sender_access", argument=table)
async def check_sender_access(check: Check, access_table) -> Verdict | None:
    """Look the sender (user@domain, domain, parent domains, user@; <> for the null sender) up in a table."""
    if check.sender is None:
        return None
    address = sender_address(check)
    return await check_access(check, access_table, mail_keys(check, resolved(check, address)), address, "Sender address")


@restriction("reject_non_fqdn_sender")
def reject_non_fqdn_sender(check: Check) -> Verdict | None:
    """Reject a sender whose domain is not fully qualified: `504 5.5.2 <S>: Sender address rejected: need
    fully-qualified address`."""
    address = sender_address(check)
    if fully_qualified(address):
        return None
    return refusal(check.settings.codes["non_fqdn_reject_code"], "5.5.2",
                   f"<{address}>: Sender address rejected: need fully-qualified address")


@restriction("reject_unknown_sender_domain")
async def reject_unknown_sender_domain(check: Check) -> Verdict | None:
    """Reject a sender whose domain has no MX, A or AAAA record (`450 4.1.8 <S>: Sender address rejected: Domain
    not found`) or a null MX (`550 5.7.27`); a temporary DNS failure defers only if nothing else rejects."""
    return await unknown_domain(check, sender_address(check), "Sender address", "4.1.8", ("550", "5.7.27"))


@restriction("reject_rhsbl_sender", argument=zone_and_filter)
async def reject_rhsbl_sender(check: Check, zone: Zone) -> Verdict | None:
    """Reject a sender whose domain a domain blocklist lists: `554 5.7.1 Service unavailable; Sender address
    [SENDER] blocked using ZONE; REASON`."""
    address = sender_address(check)
    return await reject_rhsbl(check, zone, address, "Sender address") if address else None
