"""The addresses the SMTP client tries for a next hop, best first, or why there are none: Postfix's smtp_addr.c.

A domain's MX hosts are looked up, sorted by preference, and each host's addresses found; a domain that exists
with no MX record stands for itself. A temporary DNS failure defers (4.4.3), a null MX (RFC 7505) bounces
(5.1.0), a domain or host that does not exist bounces (5.4.4), a non-recoverable error bounces (5.4.3); among
the MX hosts, one temporary failure makes the whole answer temporary. Host addresses come from the DNS
(smtp_host_lookup = dns), the system's getaddrinfo (native), or both, as in Postfix; with DNS support disabled,
from getaddrinfo alone and no MX lookup.
"""

from __future__ import annotations

import asyncio
import ipaddress
import socket
from dataclasses import dataclass, field

from filterd import maillog
from filterd.dns import FAIL, NOTFOUND, NULLMX, OK, RETRY, Lookup, Resolver
from filterd.qmgr.routing import AddressFamilies, split_nexthop

RETRY_AI_ERRORS = (socket.EAI_AGAIN, socket.EAI_MEMORY, socket.EAI_SYSTEM)
NO_HOST_AI_ERRORS = (socket.EAI_AGAIN, socket.EAI_NONAME, getattr(socket, "EAI_NODATA", socket.EAI_NONAME))
ADDRESS_TYPES = {socket.AF_INET: "A", socket.AF_INET6: "AAAA"}
HOST_LOOKUP_STATUS = {RETRY: ("4.4.3", "4.4.3"), FAIL: ("4.4.3", "5.4.3"), NOTFOUND: ("4.4.4", "5.4.4")}
"""A failed host address lookup's status: (after an earlier soft failure, otherwise)."""
SMTP_PORT = 25


@dataclass
class Why:
    """Postfix's DSN_BUF: the status and text of the last lookup problem; a soft (4.x.x) status stays soft."""

    status: str = ""
    reason: str = ""
    relay: str = "none"
    """The server the problem was met on once connected (a refused login), for the status line's relay=."""

    @property
    def soft(self) -> bool:
        return self.status.startswith("4")

    def set(self, soft: str, hard: str, reason: str | None = None) -> None:
        """Record a problem: the soft status if one was soft before, else the hard one."""
        self.status = soft if self.soft else hard
        if reason is not None:
            self.reason = reason


@dataclass
class Hosts:
    """(name, address, port) to try, best first; when there are none, `why` says whether to defer or bounce."""

    hosts: list[tuple[str, str, int]] = field(default_factory=list)
    why: Why = field(default_factory=Why)
    myself: bool = False
    """This mail system was among the MX hosts (smtp_find_self)."""


@dataclass(frozen=True)
class HostLookup:
    """How next hops become addresses: smtp_dns_support_level, smtp_host_lookup, inet_protocols and the MX knobs.

    `resolver` is None when DNS is disabled; `getaddrinfo` has the signature of the event loop's (which it is
    when None).
    """

    resolver: Resolver | None = None
    host_lookup: tuple[str, ...] = ("dns",)
    families: AddressFamilies = AddressFamilies()
    ignore_mx_lookup_error: bool = False
    defer_if_no_mx_address: bool = False
    getaddrinfo: object = None
    own_addresses: frozenset[str] = frozenset()
    """inet_interfaces' and proxy_interfaces' addresses: mail sent to one of them on port 25 would come back."""

    @property
    def dns_hosts(self) -> bool:
        return self.resolver is not None and "dns" in self.host_lookup

    @property
    def native_hosts(self) -> bool:
        return self.resolver is None or "native" in self.host_lookup

    async def resolve(self, nexthop: str) -> Hosts:
        """The addresses for a next hop: `[host]:port` is a host, `domain[:port]` a domain when DNS is on."""
        host, port, want_mx = split_nexthop(nexthop)
        if want_mx and self.resolver is not None:
            return await self.domain_addresses(host, port)
        return await self.host_addresses(host, port)

    async def domain_addresses(self, domain: str, port: int) -> Hosts:
        """smtp_domain_addr(): the MX hosts' addresses, or the domain's own when it has no MX record."""
        mx = await self.resolver.lookup(domain, "MX")
        if mx.status == NOTFOUND or (mx.status in (RETRY, FAIL) and self.ignore_mx_lookup_error):
            return await self.host_addresses(domain, port)
        if mx.status != OK:
            status = {RETRY: "4.4.3", NULLMX: "5.1.0", FAIL: "5.4.3"}.get(mx.status, "5.4.4")
            return Hosts([], Why(status, mx.reason))
        found = await self._exchanger_addresses(mx, port, domain)
        if not found.hosts and not found.myself:
            if self.defer_if_no_mx_address and not found.why.soft:
                found.why.status = "4" + found.why.status[1:]
            maillog.warning("smtp", "no MX host for %s has a valid address record", domain)
        return found

    async def _exchanger_addresses(self, mx: Lookup, port: int, domain: str) -> Hosts:
        found, why = [], Why()
        records = sorted(mx.records, key=lambda r: r.preference)
        for record in records:
            name = record.exchange.to_text(omit_final_dot=True)
            for family, address in await self._one(name, port, why):
                found.append(((record.preference, self.families.rank(family)), (name, address, port)))
        found.sort(key=lambda item: item[0])
        own = [key[0] for key, (_, address, _) in found if address in self.own_addresses] if port == SMTP_PORT else []
        if own:
            best_found = found[0][0][0]
            found = [item for item in found if item[0][0] < own[0]]
            if not found and records[0].preference != best_found:
                why = Why("4.4.4", f"unable to find primary relay for {domain}")
            elif not found:
                why = Why("5.4.6", f"mail for {domain} loops back to myself")
        return Hosts(list(dict.fromkeys(host for _, host in found)), why, bool(own))

    async def host_addresses(self, host: str, port: int) -> Hosts:
        """smtp_host_addr(): one host's addresses, the preferred family first."""
        why = Why()
        found = [(self.families.rank(family), (host, address, port)) for family, address in
                 await self._one(host, port, why)]
        if port == SMTP_PORT and any(address in self.own_addresses for _, (_, address, _) in found):
            return Hosts([], Why("5.4.6", f"mail for {host} loops back to myself"))
        found.sort(key=lambda item: item[0])
        return Hosts(list(dict.fromkeys(h for _, h in found)), why)

    async def _one(self, host: str, port: int, why: Why) -> list[tuple[int, str]]:
        """smtp_addr_one(): (family, address) of one host: the address itself, else DNS, else the system's."""
        literal = _literal(host)
        if literal is not None and literal[0] in self.families.families:
            return [literal]
        if self.dns_hosts:
            answer = await self.resolver.lookup_types(host, [ADDRESS_TYPES[f] for f in self.families.families])
            if answer.status == OK:
                return [(socket.AF_INET6 if ":" in r.address else socket.AF_INET, r.address) for r in answer.records]
            why.set(*HOST_LOOKUP_STATUS[answer.status], answer.reason)
            if answer.status != NOTFOUND:
                return []
        return await self._native(host, port, why) if self.native_hosts else []

    async def _native(self, host: str, port: int, why: Why) -> list[tuple[int, str]]:
        lookup = self.getaddrinfo or asyncio.get_running_loop().getaddrinfo
        try:
            infos = await lookup(host, port, family=self.families.lookup_family, type=socket.SOCK_STREAM)
        except socket.gaierror as exc:
            no_host = exc.errno in NO_HOST_AI_ERRORS
            soft = why.soft or exc.errno in RETRY_AI_ERRORS
            why.status = ("4.4.4" if no_host else "4.3.0") if soft else ("5.4.4" if no_host else "5.3.0")
            why.reason = f"unable to look up host {host}: {exc.strerror}"
            return []
        found = [(info[0], info[4][0]) for info in infos if info[0] in self.families.families]
        if not found:
            why.set("4.4.4", "5.4.4", f"{host}: host not found")
        return found


def _literal(host: str) -> tuple[int, str] | None:
    """(family, address) when the host is a numeric address."""
    try:
        address = ipaddress.ip_address(host)
    except ValueError:
        return None
    return (socket.AF_INET6 if address.version == 6 else socket.AF_INET), str(address)
