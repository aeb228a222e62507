"""Where a recipient goes: local Maildir for $mydestination, else SMTP to transport_maps, relayhost or MX.

Next-hop syntax is Postfix's: `[host]:port` means no MX lookup, `host` or `host:port` means MX
lookup unless smtp_dns_support_level = disabled.
"""

from __future__ import annotations

import asyncio
import socket
from dataclasses import dataclass


@dataclass(frozen=True)
class Destination:
    """A transport and its next hop; recipients with equal destinations share deliveries."""

    transport: str
    nexthop: str

    def __str__(self) -> str:
        return f"{self.transport}:{self.nexthop}"


@dataclass(frozen=True)
class Router:
    """Postfix's trivial-rewrite decision, reduced to what relay mode needs."""

    mydestination: frozenset[str]
    relayhost: str = ""
    transport_maps: tuple = ()

    def destination(self, recipient: str, override: str = "") -> Destination:
        """The destination of one recipient; `override` is a FILTER action's transport:nexthop."""
        domain = recipient.rpartition("@")[2].lower()
        if override:
            return parse_transport(override, domain)
        for table in self.transport_maps:
            found = table.lookup(domain) or table.lookup(recipient.lower())
            if found:
                return parse_transport(found, domain)
        if domain in self.mydestination or not domain:
            return Destination("local", "")
        return Destination("smtp", self.relayhost or domain)


def parse_transport(value: str, domain: str) -> Destination:
    """`smtp:[host]:port`, `local:`, `smtp:` (the domain itself), as in transport(5)."""
    transport, _, nexthop = value.strip().partition(":")
    return Destination(transport or "smtp", nexthop or domain)


def split_nexthop(nexthop: str, default_port: int = 25) -> tuple[str, int, bool]:
    """`[host]:port` -> (host, port, no MX); `host[:port]` -> (host, port, MX wanted)."""
    if nexthop.startswith("["):
        host, _, rest = nexthop[1:].partition("]")
        return host, int(rest.lstrip(":") or default_port), False
    host, sep, port = nexthop.rpartition(":")
    if sep and port.isdigit():
        return host, int(port), True
    return nexthop, default_port, True


async def resolve(nexthop: str, dns: bool = True, resolver=None) -> list[tuple[str, str, int]]:
    """(name, address, port) to try, best first: MX hosts when wanted and DNS is on, else the host itself."""
    host, port, want_mx = split_nexthop(nexthop)
    names = [host]
    if want_mx and dns:
        names = await _mx_hosts(host, resolver) or [host]
    found = []
    loop = asyncio.get_running_loop()
    for name in names:
        try:
            infos = await loop.getaddrinfo(name, port, type=socket.SOCK_STREAM)
        except OSError:
            continue
        found.extend((name, info[4][0], port) for info in infos)
    return list(dict.fromkeys(found))


async def _mx_hosts(domain: str, resolver=None) -> list[str]:
    """MX hosts by preference; `resolver` is a dns.asyncresolver.Resolver (the system's when None)."""
    try:
        import dns.asyncresolver

        answer = await (resolver or dns.asyncresolver).resolve(domain, "MX")
    except Exception:
        return []
    records = sorted(answer, key=lambda r: r.preference)
    return [str(r.exchange).rstrip(".") for r in records if str(r.exchange) != "."]
