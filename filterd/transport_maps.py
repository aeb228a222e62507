"""transport_maps as trivial-rewrite searches and applies them: user@domain in every table, then of fixed-string
tables the domain and its parents (`.parent`, or `parent` when parent_domain_matches_subdomains names
transport_maps), then the `*` wildcard; a result changes the transport and next hop as update_entry() does. The
queue manager routes by it, and smtpd refuses at RCPT what it sends to error: or retry: (check_rcpt_maps)."""

from __future__ import annotations

import re
from dataclasses import dataclass

from filterd.tables import open_tables
from filterd.tables.partial_keys import PartialKey, lookup_keys, parent_keys

UNDELIVERABLE = "Address is undeliverable"
"""The reason of `error:` or `retry:` without a next hop."""
_DSN = re.compile(r"([245]\.\d{1,3}\.\d{1,3})(?:\s+|$)")


@dataclass(frozen=True)
class TransportMaps:
    """The tables of transport_maps, and how their domain keys match subdomains."""

    tables: tuple = ()
    parent_style: bool = False

    @classmethod
    def from_config(cls, config) -> TransportMaps:
        """transport_maps of a loaded main.cf; a table that cannot be opened is a TableError."""
        specs = config.get("transport_maps").strip()
        return cls(tuple(open_tables(specs)) if specs else (),
                   "transport_maps" in config.list("parent_domain_matches_subdomains"))

    def route(self, address: str, domain: str, transport: str, nexthop: str) -> tuple[str, str]:
        """(transport, next hop) for a recipient (internal form, lower case) whose default route is the one given."""
        if not self.tables:
            return transport, nexthop
        found = lookup_keys(self.tables, self._keys(address, domain))
        return (transport, nexthop) if found is None else updated(transport, nexthop, found, domain)

    def _keys(self, address: str, domain: str) -> list[str]:
        domains = [PartialKey(domain), *parent_keys(domain, self.parent_style)] if domain else []
        return [address, *domains, "*"]

    @staticmethod
    def reason(nexthop: str, default: str) -> tuple[str, str]:
        """(status, text) of an error:, retry: or discard: next hop, as dsn_split() reads it: its own status when it
        starts with one (`5.1.2 Bad destination`), else `default`."""
        stated = _DSN.match(nexthop)
        return (stated[1], nexthop[stated.end():]) if stated else (default, nexthop)


def updated(transport: str, nexthop: str, value: str, domain: str) -> tuple[str, str]:
    """A result applied as update_entry(): `:nexthop` keeps the transport (and `:` changes nothing), `transport:`
    sends to the recipient's domain (error: and retry: say UNDELIVERABLE), `transport:nexthop` to the one given."""
    new_transport, _, new_nexthop = value.strip().partition(":")
    if not new_transport:
        return transport, new_nexthop or nexthop
    if not new_nexthop:
        new_nexthop = UNDELIVERABLE if new_transport in ("error", "retry") else domain
    return new_transport, new_nexthop
