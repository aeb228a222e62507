"""Where a recipient goes: local_transport (Maildir) for $mydestination, relay_transport for $relay_domains,
default_transport (SMTP to relayhost or MX) for the rest, transport_maps over all (filterd.transport_maps).

Next-hop syntax is Postfix's: `[host]:port` means no MX lookup, `host` or `host:port` means MX
lookup unless smtp_dns_support_level = disabled. Addresses are of the families in inet_protocols; among
addresses of equal MX preference, smtp_address_preference says which family comes first. The lookups and
what their failures mean (defer or bounce, with which status and text) are Postfix's smtp_addr.c, in
filterd.qmgr.mail_exchangers.
"""

from __future__ import annotations

import socket
from dataclasses import dataclass, replace

from filterd.addresses import LOCAL, AddressRules, Resolution, unquote_local
from filterd.transport_maps import TransportMaps

FAMILIES = {"ipv4": socket.AF_INET, "ipv6": socket.AF_INET6}


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
    transports: TransportMaps = TransportMaps()
    rules: AddressRules | None = None

    def __post_init__(self) -> None:
        """relayhost is the router's (the delivery agent asks it): the transports resolve with the same one."""
        if self.transports.relayhost != self.relayhost:
            object.__setattr__(self, "transports", replace(self.transports, relayhost=self.relayhost))

    def resolve(self, recipient: str) -> Resolution:
        """Where a queued recipient (external form) goes: percent hack, bang path and all, as qmgr asks it."""
        rules = self.rules or AddressRules(tuple(self.mydestination))
        return rules.resolve(rules.rewrite(unquote_local(recipient)))

    def destination(self, recipient: str, override: str = "", sender: str = "") -> Destination:
        """The destination of one recipient of a message from `sender`; `override` is a FILTER action's
        transport:nexthop."""
        resolution = self.resolve(recipient)
        domain = resolution.domain.lower()
        if override:
            return parse_transport(override, domain)
        return Destination(*self.transports.resolve(resolution.recipient.lower(), domain,
                                                    resolution.address_class == LOCAL, sender))


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


def ipv6_supported() -> bool:
    """Whether this system makes IPv6 sockets, which decides what inet_protocols = all means."""
    try:
        socket.socket(socket.AF_INET6, socket.SOCK_STREAM).close()
    except OSError:
        return False
    return True


@dataclass(frozen=True)
class AddressFamilies:
    """The families the SMTP client connects over (inet_protocols) and the one it tries first among addresses
    of equal MX preference (smtp_address_preference; "any" keeps the resolver's order)."""

    families: tuple[int, ...] = (socket.AF_INET, socket.AF_INET6)
    preference: str = "any"

    @classmethod
    def from_settings(cls, inet_protocols: list[str], preference: str = "any") -> AddressFamilies:
        """Postfix's reading of inet_protocols: "all" is ipv4, plus ipv6 where the system has IPv6."""
        names = set(inet_protocols)
        if "all" in names:
            names |= {"ipv4", "ipv6"} if ipv6_supported() else {"ipv4"}
        return cls(tuple(FAMILIES[name] for name in ("ipv4", "ipv6") if name in names), preference)

    @property
    def lookup_family(self) -> int:
        """The family getaddrinfo is asked for: the only one enabled, else any."""
        return self.families[0] if len(self.families) == 1 else socket.AF_UNSPEC

    def rank(self, family: int) -> int:
        """0 for the preferred family (for every family under "any"), 1 for the other."""
        return int(self.preference in FAMILIES and family != FAMILIES[self.preference])


