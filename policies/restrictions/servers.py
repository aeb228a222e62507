"""access(5) tables asked about the DNS servers of a name (check_*_a_access, check_*_mx_access, check_*_ns_access):
the name's own addresses, its mail exchangers or its name servers, each by name and then by address, as smtpd_check.c's
check_server_access() looks them up. An OK there would let anyone in who points a record at a listed host: it is a
configuration error, as Postfix's forbid_allowlist() has it."""

from __future__ import annotations

import ipaddress
import logging

from filterd import Action, Verdict, lookup_keys

from .access import forbidden_ok, table, table_verdict
from .dnsbl import NOTFOUND, NULLMX, OK, RETRY
from .domains import access_keys, address_keys, ascii_domain, is_address
from .evaluation import Check
from .mx_backup import GAI_ERRORS, NO_ADDRESS
from .names import restriction
from .recipient import recipient_address
from .sender import sender_address

_log = logging.getLogger("filterd.restrictions")
_SMTPD = {"service": "smtpd"}
SUBJECTS = {
    "client": ("Client host", lambda check: check.session.client_name, lambda check: check.session.client),
    "reverse_client_hostname": ("Unverified Client host", lambda check: check.session.reverse_name,
                       lambda check: check.session.reverse_name),
    "helo": ("Helo command", lambda check: check.session.helo, lambda check: check.session.helo),
    "sender": ("Sender address", sender_address, sender_address),
    "recipient": ("Recipient address", recipient_address, recipient_address),
}
"""Each kind's class of reply, the name whose servers are looked up, and the name its replies give."""


def bare_address(literal: str) -> str | None:
    """The address in `[192.0.2.1]` or `[IPv6:2001:db8::1]`, as Postfix writes it; None when not one."""
    inner = literal[1:-1]
    inner = inner[5:] if inner[:5].lower() == "ipv6:" else inner
    try:
        return str(ipaddress.ip_address(inner))
    except ValueError:
        return None


def first_found(access_table, keys: list[str]) -> str | None:
    """The table's answer for the first key it has (a PartialKey only when its keys are strings)."""
    return lookup_keys([access_table], keys)


async def servers_of(check: Check, name: str, domain: str, rdtype: str) -> list[str]:
    """The hosts to ask the table about: the domain itself for A; its MX hosts (the domain itself without any, none
    with a null MX); its NS hosts, or those of the nearest parent that has some. None, with Postfix's warning, when
    the DNS cannot tell."""
    if rdtype == "A":
        return [domain]
    resolver = check.settings.resolver
    found = await resolver.lookup(domain, rdtype)
    if found.status == NULLMX:
        return []
    if found.status == NOTFOUND and rdtype == "MX":
        return [domain]
    while found.status == NOTFOUND and rdtype == "NS" and domain:
        domain = domain.partition(".")[2]
        found = await resolver.lookup(domain, rdtype) if domain else found
    if found.status != OK:
        _log.warning("warning: Unable to look up %s host for %s: %s", rdtype, domain or name,
                     found.reason.rpartition(": ")[2], extra=_SMTPD)
        return []
    return [str(getattr(record, "exchange", None) or record.target).rstrip(".") for record in found.records]


async def addresses_of(check: Check, host: str, rdtype: str, reply: tuple[str, str]) -> list[str]:
    """A server's addresses, of the families inet_protocols allows; an MX or NS host without any is Postfix's
    warning (`Unable to look up MX host H for CLASS NAME: REASON`, getaddrinfo's words)."""
    found = await check.settings.resolver.lookup_types(host, check.settings.address_types)
    if found.status != OK and rdtype != "A":
        reason = NO_ADDRESS if "no data record" in found.reason else GAI_ERRORS.get(found.status, GAI_ERRORS[RETRY])
        _log.warning("warning: Unable to look up %s host %s for %s %s: %s", rdtype, host, *reply, reason,
                     extra=_SMTPD)
    return [record.address for record in found.records]


async def server_result(check: Check, access_table, name: str, rdtype: str, reply: tuple[str, str]) -> str | None:
    """The table's answer about the first of the name's servers it knows (by name, except for A; then by address)."""
    domain = name.rpartition("@")[2]
    if domain.startswith("["):
        address = bare_address(domain) if rdtype in ("A", "MX") and domain.endswith("]") else None
        return None if address is None else first_found(access_table, address_keys(address))
    domain = ascii_domain(domain)
    for server in await servers_of(check, name, domain, rdtype):
        if is_address(server):
            result = first_found(access_table, address_keys(server))
            if result is not None:
                return result
            continue
        if rdtype != "A":
            result = first_found(access_table, access_keys(server, check.settings.parent_style("smtpd_access_maps")))
            if result is not None:
                return result
        for address in await addresses_of(check, server, rdtype, reply):
            result = first_found(access_table, address_keys(address))
            if result is not None:
                return result
    return None


async def check_server_access(check: Check, access_table, kind: str, rdtype: str) -> Verdict | None:
    """check_KIND_RDTYPE_access: the table's answer about the name's servers, read as any access table's; an OK is
    451 4.3.5 Server configuration error."""
    reply_class, name_of, reply_name_of = SUBJECTS[kind]
    name = name_of(check)
    if not name or (kind.endswith(("client", "hostname")) and name.lower() == "unknown"):
        return None
    result = await server_result(check, access_table, name, rdtype, (reply_class, reply_name_of(check)))
    if result is None:
        return None
    verdict = await table_verdict(check, result, reply_name_of(check), reply_class, access_table.spec)
    if verdict is None or verdict.action is not Action.OK:
        return verdict
    return forbidden_ok(f"check_{kind}_{rdtype.lower()}_access", name)


def register(kind: str, rdtype: str, record: str) -> None:
    """check_KIND_RECORD_access, as one restriction."""
    async def check_kind_access(check: Check, access_table) -> Verdict | None:
        return await check_server_access(check, access_table, kind, rdtype)

    check_kind_access.__doc__ = f"Look the {record.upper()} hosts of the {SUBJECTS[kind][0]}'s name up in an " \
                                "access(5) table."
    restriction(f"check_{kind}_{record}_access", argument=table)(check_kind_access)


for _kind in SUBJECTS:
    for _rdtype, _record in (("A", "a"), ("MX", "mx"), ("NS", "ns")):
        register(_kind, _rdtype, _record)
