"""Restrictions on the client: who it is, what it proved."""

from __future__ import annotations

import ipaddress

from filterd import Action, Verdict, in_networks

from .access import check_access, client_keys, forbidden_ok, table
from .dnsbl import Zone, blocked, listed, reject_rhsbl, reversed_address, zone_and_filter
from .evaluation import Check
from .names import restriction
from .replies import refusal


@restriction("permit_mynetworks")
def permit_mynetworks(check: Check) -> Verdict | None:
    """Permit a client whose address is in $mynetworks."""
    return Verdict.ok() if in_networks(check.session.client_address, check.settings.mynetworks) else None


@restriction("permit_inet_interfaces")
def permit_inet_interfaces(check: Check) -> Verdict | None:
    """Permit a client whose address is one of filterd's own: those inet_interfaces names (with `all` every
    address of the machine, with `loopback-only` its loopback ones; proxy_interfaces' too)."""
    try:
        address = ipaddress.ip_address(check.session.client_address)
    except ValueError:
        return None
    return Verdict.ok() if address in check.settings.rules.local_addresses else None


@restriction("permit_sasl_authenticated")
def permit_sasl_authenticated(check: Check) -> Verdict | None:
    """Permit a client that authenticated with SASL."""
    return Verdict.ok() if check.session.sasl_username else None


@restriction("reject_plaintext_session")
def reject_plaintext_session(check: Check) -> Verdict | None:
    """Reject a client whose session is not encrypted: `450 4.7.1 Session encryption is required`
    (plaintext_reject_code)."""
    if check.session.tls:
        return None
    return refusal(check.settings.codes["plaintext_reject_code"], "4.7.1", "Session encryption is required")


@restriction("check_client_access", argument=table)
async def check_client_access(check: Check, access_table) -> Verdict | None:
    """Look the client's name, parent domains, address and address prefixes up in an access(5) table."""
    return await check_access(check, access_table, client_keys(check), check.session.client, "Client host")


@restriction("check_reverse_client_hostname_access", argument=table)
async def check_reverse_client_hostname_access(check: Check, access_table) -> Verdict | None:
    """As check_client_access, with the name of the client's address whether or not it resolves back (`<NAME>:
    Unverified Client host rejected: ...`); an OK, which would let a forged name in, is a configuration error."""
    session = check.session
    verdict = await check_access(check, access_table, client_keys(check, session.reverse_name), session.reverse_name,
                                 "Unverified Client host")
    if verdict is None or verdict.action is not Action.OK:
        return verdict
    return forbidden_ok("check_reverse_client_hostname_access", session.reverse_name)


@restriction("reject_rbl_client", argument=zone_and_filter)
async def reject_rbl_client(check: Check, zone: Zone) -> Verdict | None:
    """Reject a client whose address a DNS blocklist lists: `554 5.7.1 Service unavailable; Client host [ADDR]
    blocked using ZONE; REASON`."""
    prefix = reversed_address(check.session.client_address)
    if prefix is None:
        return None
    reason = await listed(check, f"{prefix}.{zone[0]}", zone[1])
    address = check.session.client_address
    return None if reason is None else blocked(check, "Client host", address, zone[0], reason)


def _unknown(check: Check, status: str, dsn: str, text: str) -> Verdict | None:
    """smtpd's refusal of a client without a name: unknown_client_reject_code, or 450 when the DNS failed for now."""
    if status == "OK":
        return None
    code = 450 if status == "TEMP" else check.settings.codes["unknown_client_reject_code"]
    return refusal(code, dsn, f"Client host rejected: {text}, [{check.session.client_address}]")


@restriction("reject_unknown_client_hostname")
@restriction("reject_unknown_client")
def reject_unknown_client_hostname(check: Check) -> Verdict | None:
    """Reject a client whose address has no name, or a name that does not resolve back to it: `450 4.7.25 Client
    host rejected: cannot find your hostname, [ADDR]`."""
    return _unknown(check, check.session.name_status, "4.7.25", "cannot find your hostname")


@restriction("reject_unknown_reverse_client_hostname")
def reject_unknown_reverse_client_hostname(check: Check) -> Verdict | None:
    """Reject a client whose address has no name: `450 4.7.1 Client host rejected: cannot find your reverse
    hostname, [ADDR]`."""
    return _unknown(check, check.session.reverse_name_status, "4.7.1", "cannot find your reverse hostname")


@restriction("reject_rhsbl_client", argument=zone_and_filter)
async def reject_rhsbl_client(check: Check, zone: Zone) -> Verdict | None:
    """Reject a client whose (confirmed) name a domain blocklist lists: `554 5.7.1 Service unavailable; Client host
    [NAME] blocked using ZONE; REASON`."""
    name = check.session.client_name
    return None if name.lower() == "unknown" else await reject_rhsbl(check, zone, name, "Client host")


@restriction("reject_rhsbl_reverse_client", argument=zone_and_filter)
async def reject_rhsbl_reverse_client(check: Check, zone: Zone) -> Verdict | None:
    """Reject a client whose name, confirmed or not, a domain blocklist lists: `554 5.7.1 Service unavailable;
    Unverified Client host [NAME] blocked using ZONE; REASON`."""
    name = check.session.reverse_name
    return None if name.lower() == "unknown" else await reject_rhsbl(check, zone, name, "Unverified Client host")
