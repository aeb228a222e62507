"""DNS lookups for restrictions: DNS blocklists (reject_rbl_client, the reject_rhsbl_* family) and whether a mail
domain exists (reject_unknown_sender_domain, reject_unknown_recipient_domain), through filterd's one resolver."""

from __future__ import annotations

import ipaddress

from filterd import Verdict, valid_hostname

from .domains import ascii_domain
from .evaluation import Check, defer_unless_rejected
from .replies import refusal
from .reply_filter import AddressPattern

OK, NOTFOUND, NULLMX, RETRY, FAIL = "ok", "notfound", "nullmx", "retry", "fail"


def reversed_address(address: str) -> str | None:
    """The client address as a DNSBL name's prefix: 4.3.2.1 for 1.2.3.4, nibbles for IPv6; None when not one."""
    try:
        ip = ipaddress.ip_address(address)
    except ValueError:
        return None
    return ip.reverse_pointer.rsplit(".", 2)[0]


Zone = tuple[str, "AddressPattern | None"]
"""A DNS list's zone and the reply filter of its answers."""


def zone_and_filter(argument: str) -> Zone:
    """`zone`, or `zone=PATTERN` (the answers that count: `127.0.0.2`, `127.0.0.[2..4]`), read at start-up."""
    zone, _, wanted = argument.partition("=")
    return zone.rstrip(".").lower(), AddressPattern.parse(wanted) if wanted else None


async def listing(check: Check, query: str, wanted: AddressPattern | None) -> str:
    """Whether a DNS list lists a name: OK (an answer the filter lets through), NOTFOUND (no answer, or none that
    passes), RETRY (the lookup failed: no answer either way)."""
    found = await check.settings.resolver.lookup(query, "A")
    if found.status != OK:
        return NOTFOUND if found.status == NOTFOUND else RETRY
    if wanted is not None and not any(wanted.matches(record.address) for record in found.records):
        return NOTFOUND
    return OK


async def listed(check: Check, query: str, wanted: AddressPattern | None) -> str | None:
    """The reason a DNSBL lists a name (its TXT record, "" without one), or None when it does not list it; a
    lookup that fails is no listing, as in Postfix."""
    if await listing(check, query, wanted) != OK:
        return None
    reason = await check.settings.resolver.lookup(query, "TXT")
    return "".join(b"".join(record.strings).decode("utf-8", "replace") for record in reason.records[:1])


def listed_domain(what: str) -> str | None:
    """The domain a domain blocklist is asked about, as find_dnsxl_domain takes it from a name or an address: what
    follows the last @ (not an address literal), else the whole name; none when its last label is all digits or it
    is not a valid host name."""
    at, domain = "@" in what, what.rpartition("@")[2]
    if (at and domain.startswith("[")) or not domain or domain.rpartition(".")[2].isdigit():
        return None
    domain = ascii_domain(domain)
    return domain if valid_hostname(domain) else None


async def reject_rhsbl(check: Check, zone: Zone, what: str, kind: str) -> Verdict | None:
    """reject_rbl_domain: refuse `what` (a host name or an address) when the domain blocklist lists its domain."""
    domain = listed_domain(what)
    if domain is None:
        return None
    reason = await listed(check, f"{domain}.{zone[0]}", zone[1])
    return None if reason is None else blocked(check, kind, what, zone[0], reason)


def blocked(check: Check, kind: str, what: str, zone: str, reason: str) -> Verdict:
    """default_rbl_reply: `554 5.7.1 Service unavailable; KIND [WHAT] blocked using ZONE; REASON`."""
    text = f"Service unavailable; {kind} [{what}] blocked using {zone}" + (f"; {reason}" if reason else "")
    return refusal(check.settings.codes["maps_rbl_reject_code"], "5.7.1", text)


async def mail_domain_status(check: Check, domain: str) -> str:
    """Whether a mail domain exists as reject_unknown_*_domain asks: an MX record (a null MX says no mail), else an
    A or AAAA record; RETRY when no lookup could tell."""
    resolver = check.settings.resolver
    mx = await resolver.lookup(domain, "MX")
    if mx.status in (OK, NULLMX):
        return mx.status
    addresses = await resolver.lookup_types(domain, ("A", "AAAA"))
    statuses = {mx.status, addresses.status}
    return OK if OK in statuses else RETRY if RETRY in statuses else NOTFOUND


async def unknown_domain(check: Check, address: str, kind: str, dsn: str, null_mx: tuple[str, str]) -> Verdict | None:
    """reject_unknown_address: a remote address's domain that does not exist is refused with
    unknown_address_reject_code, one with a null MX with `null_mx` (code, status); final (local, virtual alias, virtual mailbox) and
    literal domains and the null address are not looked up; a temporary failure is unknown_address_tempfail_action's."""
    rules = check.settings.rules
    resolution = rules.resolve(rules.rewrite(address)) if address else None
    if (resolution is None or resolution.address_class == "local" or resolution.domain.startswith("[")
            or check.settings.transports.is_final(resolution.domain)):
        return None
    status = await mail_domain_status(check, resolution.domain)
    rejected = f"<{address}>: {kind} rejected"
    if status == NULLMX:
        return refusal(int(null_mx[0]), null_mx[1], f"{rejected}: Domain {resolution.domain} does not accept mail "
                                                    "(nullMX)")
    if status == RETRY:
        action = check.settings.tempfail_actions["unknown_address_tempfail_action"]
        return defer_unless_rejected(check, refusal(450, dsn, f"{rejected}: Domain not found"), action)
    if status == NOTFOUND:
        return refusal(check.settings.codes["unknown_address_reject_code"], dsn, f"{rejected}: Domain not found")
    return None
