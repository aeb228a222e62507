"""Restrictions on the client: who it is, what it proved."""

from __future__ import annotations

from filterd import Verdict, in_networks

from .access import check_access, client_keys, table
from .dnsbl import blocked, listed, reversed_address, zone_and_filter
from .evaluation import Check
from .names import restriction


@restriction("permit_mynetworks")
def permit_mynetworks(check: Check) -> Verdict | None:
    """Permit a client whose address is in $mynetworks."""
    return Verdict.ok() if in_networks(check.session.client_address, check.settings.mynetworks) else None


@restriction("permit_sasl_authenticated")
def permit_sasl_authenticated(check: Check) -> Verdict | None:
    """Permit a client that authenticated with SASL."""
    return Verdict.ok() if check.session.sasl_username else None


@restriction("check_client_access", argument=table)
async def check_client_access(check: Check, access_table) -> Verdict | None:
    """Look the client's name, parent domains, address and address prefixes up in an access(5) table."""
    return await check_access(check, access_table, client_keys(check), check.session.client, "Client host")


@restriction("reject_rbl_client", argument=zone_and_filter)
async def reject_rbl_client(check: Check, zone: tuple[str, str | None]) -> Verdict | None:
    """Reject a client whose address a DNS blocklist lists: `554 5.7.1 Service unavailable; Client host [ADDR]
    blocked using ZONE; REASON`."""
    prefix = reversed_address(check.session.client_address)
    if prefix is None:
        return None
    reason = await listed(check, f"{prefix}.{zone[0]}", zone[1])
    address = check.session.client_address
    return None if reason is None else blocked(check, "Client host", address, zone[0], reason)
