"""Restrictions on the HELO or EHLO name: its syntax, its existence in the DNS, domain blocklists and access(5)
tables."""

from __future__ import annotations

import ipaddress

from filterd import Verdict, valid_hostname

from .access import check_access, table
from .dnsbl import FAIL, NOTFOUND, RETRY, Zone, reject_rhsbl, zone_and_filter
from .domains import access_keys, is_address
from .evaluation import Check, defer_unless_rejected
from .names import restriction
from .replies import refusal


def _literal_ok(name: str) -> bool:
    """An address literal as reject_invalid_helo_hostname accepts it: [a.b.c.d] or [ipv6:...]."""
    inner = name[1:-1] if len(name) > 2 and name.endswith("]") else name
    try:
        ipaddress.ip_address(inner[5:] if inner.lower().startswith("ipv6:") else inner)
    except ValueError:
        return False
    return True


def _helo_name(name: str) -> str:
    """The name as checked: one trailing dot ignored."""
    return name[:-1] if name.endswith(".") and not name.endswith("..") else name


@restriction("reject_invalid_helo_hostname")
def reject_invalid_helo_hostname(check: Check) -> Verdict | None:
    """Reject a HELO name that is not a valid host name nor a bare address (`501 5.5.2 <H>: Helo command rejected:
    Invalid name`), or an address literal that is not valid (`... invalid ip address`)."""
    name = check.session.helo
    if not name:
        return None
    literal = name.startswith("[") and name.endswith("]")
    if literal and _literal_ok(name):
        return None
    if not literal and (valid_hostname(_helo_name(name)) or is_address(_helo_name(name))):
        return None
    why = "invalid ip address" if literal else "Invalid name"
    return refusal(check.settings.codes["invalid_hostname_reject_code"], "5.5.2",
                   f"<{name}>: Helo command rejected: {why}")


@restriction("reject_non_fqdn_helo_hostname")
def reject_non_fqdn_helo_hostname(check: Check) -> Verdict | None:
    """Reject a HELO name that is not a fully-qualified host name: `504 5.5.2 <H>: Helo command rejected: need
    fully-qualified hostname`."""
    name = check.session.helo
    if not name or name.startswith("["):
        return None
    short = _helo_name(name)
    if valid_hostname(short) and "." in short:
        return None
    return refusal(check.settings.codes["non_fqdn_reject_code"], "5.5.2",
                   f"<{name}>: Helo command rejected: need fully-qualified hostname")


def _invalid_address(check: Check, name: str) -> Verdict:
    return refusal(check.settings.codes["invalid_hostname_reject_code"], "5.5.2",
                   f"<{name}>: Helo command rejected: invalid ip address")


@restriction("reject_unknown_helo_hostname")
@restriction("reject_unknown_hostname")
async def reject_unknown_helo_hostname(check: Check) -> Verdict | None:
    """Reject a HELO name with no A, AAAA or MX record (a null MX will do): `450 4.7.1 <H>: Helo command rejected:
    Host not found`; a temporary DNS failure is unknown_helo_hostname_tempfail_action's; an address literal must be
    valid."""
    name = check.session.helo
    if not name:
        return None
    if name.startswith("["):
        return None if _literal_ok(name) else _invalid_address(check, name)
    found = await check.settings.resolver.lookup_types(name, ("A", "AAAA", "MX")) if valid_hostname(name) else None
    status = NOTFOUND if found is None else found.status
    rejected = f"<{name}>: Helo command rejected: Host not found"
    if status == RETRY:
        action = check.settings.tempfail_actions["unknown_helo_hostname_tempfail_action"]
        return defer_unless_rejected(check, refusal(450, "4.7.1", rejected), action)
    if status in (NOTFOUND, FAIL):
        return refusal(check.settings.codes["unknown_hostname_reject_code"], "4.7.1", rejected)
    return None


@restriction("check_helo_access", argument=table)
async def check_helo_access(check: Check, access_table) -> Verdict | None:
    """Look the HELO name and its parent domains up in an access(5) table."""
    name = check.session.helo
    if not name:
        return None
    keys = access_keys(name, check.settings.parent_style("smtpd_access_maps"))
    return await check_access(check, access_table, keys, name, "Helo command")


@restriction("reject_rhsbl_helo", argument=zone_and_filter)
async def reject_rhsbl_helo(check: Check, zone: Zone) -> Verdict | None:
    """Reject a HELO name a domain blocklist lists: `554 5.7.1 Service unavailable; Helo command [NAME] blocked
    using ZONE; REASON`."""
    name = check.session.helo
    return await reject_rhsbl(check, zone, name, "Helo command") if name else None
