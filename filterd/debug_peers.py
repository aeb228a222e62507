"""debug_peer_list and debug_peer_level: verbose logging for chosen clients only, as Postfix's."""

from __future__ import annotations

import ipaddress
from dataclasses import dataclass

from filterd.network import in_networks, networks


@dataclass(frozen=True)
class DebugPeers:
    """The clients to log verbosely: addresses and networks, host names and the domains under them."""

    networks: tuple[ipaddress.IPv4Network | ipaddress.IPv6Network, ...] = ()
    names: tuple[str, ...] = ()
    level: int = 2

    @classmethod
    def from_config(cls, config) -> DebugPeers:
        items = config.list("debug_peer_list")
        names = tuple(item.lower().lstrip(".") for item in items if not _is_network(item))
        return cls(networks(items), names, config.int("debug_peer_level"))

    def matches(self, name: str, address: str) -> bool:
        """Whether a client is listed: its address in a network, or its name a listed name or under one (Postfix's
        parent_domain_matches_subdomains includes debug_peer_list)."""
        if self.level <= 0:
            return False
        name = name.lower()
        return in_networks(address, self.networks) or any(
            name == listed or name.endswith("." + listed) for listed in self.names)


def _is_network(item: str) -> bool:
    return bool(networks([item]))
