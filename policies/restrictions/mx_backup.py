"""permit_mx_backup: accept mail for a domain that lists this host as a backup mail exchanger, as Postfix 3.7's
smtpd_check.c has it (permit_mx_backup, i_am_mx, permit_mx_primary), with permit_mx_backup_networks."""

from __future__ import annotations

import ipaddress

from filterd import Verdict, in_networks

from .dnsbl import NOTFOUND, OK, RETRY
from .domains import ascii_domain
from .evaluation import Check, defer_a_reject
from .names import restriction
from .recipient import authorized, recipient_address
from .replies import refusal

GAI_ERRORS = {NOTFOUND: "Name or service not known", RETRY: "Temporary failure in name resolution"}
"""getaddrinfo()'s words for a host Postfix's has_my_addr() cannot look up."""
NO_ADDRESS = "No address associated with hostname"


def h_errno_text(reason: str) -> str:
    """dns_strerror()'s words: the end of a failed lookup's reason."""
    return reason.rpartition(": ")[2]


def unable(check: Check, text: str) -> None:
    """A lookup that failed makes a later reject a deferral (DEFER_IF_REJECT, the first such reason): `450 4.4.4
    <R>: Recipient address rejected: TEXT`."""
    defer_a_reject(check, refusal(450, "4.4.4", f"<{recipient_address(check)}>: Recipient address rejected: {text}"))


async def has_my_address(check: Check, host: str) -> bool:
    """Whether one of the host's addresses is filterd's own (inet_interfaces)."""
    found = await check.settings.resolver.lookup_types(host, check.settings.address_types)
    if found.status != OK:
        reason = NO_ADDRESS if "no data record" in found.reason else GAI_ERRORS.get(found.status, GAI_ERRORS[RETRY])
        unable(check, f"Unable to look up mail exchanger host {host}: {reason}")
        return False
    own = check.settings.rules.local_addresses
    return any(ipaddress.ip_address(record.address) in own for record in found.records)


async def i_am_mx(check: Check, hosts: list[str]) -> bool:
    """Whether one of the hosts is this one: by name (a local domain, an own address literal), then by address."""
    if any(check.settings.rules.is_local_domain(host) for host in hosts):
        return True
    for host in hosts:
        if await has_my_address(check, host):
            return True
    return False


async def all_in_backup_networks(check: Check, hosts: list[str]) -> bool:
    """Whether every address of every primary MX host is in permit_mx_backup_networks."""
    for host in hosts:
        found = await check.settings.resolver.lookup_types(host, check.settings.address_types)
        if found.status != OK:
            unable(check, f"Unable to look up host {host} as mail exchanger: {h_errno_text(found.reason)}")
            return False
        if not all(in_networks(record.address, check.settings.mx_backup_networks) for record in found.records):
            return False
    return True


async def backup_for(check: Check, domain: str) -> bool:
    """Whether this host is one of the domain's MX hosts but not of the most preferred ones (and those are all in
    permit_mx_backup_networks, when it is set)."""
    found = await check.settings.resolver.lookup(domain, "MX")
    if found.status != OK:
        if found.status == RETRY:
            unable(check, f"Unable to look up mail exchanger information: {h_errno_text(found.reason)}")
        return False
    best = min(record.preference for record in found.records)
    primaries = [str(r.exchange).rstrip(".") for r in found.records if r.preference == best]
    backups = [str(r.exchange).rstrip(".") for r in found.records if r.preference != best]
    if await i_am_mx(check, primaries) or not backups or not await i_am_mx(check, backups):
        return False
    return not check.settings.mx_backup_networks or await all_in_backup_networks(check, primaries)


@restriction("permit_mx_backup")
async def permit_mx_backup(check: Check) -> Verdict | None:
    """Permit mail for a local domain, one of $relay_domains, or a domain for which this host is a backup MX host;
    a failed lookup turns a later reject into `450 4.4.4 ... Unable to look up ...`."""
    if check.recipient is None:
        return None
    rules = check.settings.rules
    resolution = rules.resolve(rules.rewrite(recipient_address(check)))
    if resolution.routed and not check.settings.allow_untrusted_routing:
        return None
    if "@" not in resolution.recipient or authorized(check):
        return Verdict.ok()
    domain = resolution.domain
    if domain.startswith("[") and domain.endswith("]"):
        return None
    domain = ascii_domain(domain)
    return Verdict.ok() if await backup_for(check, domain) else None
