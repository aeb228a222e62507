"""A recipient's transport and next hop as trivial-rewrite's resolve_addr() chooses them: by address class
(local_transport for $mydestination, relay_transport for $relay_domains, default_transport for the rest, relayhost
or the domain as the off-host next hop, a `transport:nexthop` setting's own next hop first), then transport_maps as
trivial-rewrite searches and applies them: user@domain in every table, then of fixed-string tables the domain and
its parents (`.parent`, or `parent` when parent_domain_matches_subdomains names transport_maps), then the `*`
wildcard; a result changes the transport and next hop as update_entry() does. The queue manager routes by it, and
smtpd refuses at RCPT what it sends to error: or retry: (check_rcpt_maps)."""

from __future__ import annotations

import re
from dataclasses import dataclass

from filterd.address_keys import Delimiters, find_address
from filterd.domain_list import DomainList
from filterd.tables import open_tables
from filterd.tables.partial_keys import PartialKey, lookup_keys, parent_keys

UNDELIVERABLE = "Address is undeliverable"
"""The reason of `error:` or `retry:` without a next hop."""
_DSN = re.compile(r"([245]\.\d{1,3}\.\d{1,3})(?:\s+|$)")


@dataclass(frozen=True)
class TransportMaps:
    """The tables of transport_maps, how their domain keys match subdomains, and the transports by address class."""

    tables: tuple = ()
    parent_style: bool = False
    local_transport: str = "local"
    default_transport: str = "smtp"
    relay_transport: str = "relay"
    relayhost: str = ""
    relay_domains: DomainList = DomainList()
    sender_relayhosts: tuple = ()
    """sender_dependent_relayhost_maps: a relayhost by envelope sender, then by its @domain."""
    null_sender_key: str = "<>"
    """empty_address_relayhost_maps_lookup_key: what the null sender is looked up as."""
    sender_transports: tuple = ()
    """sender_dependent_default_transport_maps: a default_transport by envelope sender, then by its @domain."""
    null_sender_transport_key: str = "<>"
    """empty_address_default_transport_maps_lookup_key."""
    alias_domains: DomainList = DomainList(exact=True)
    """virtual_alias_domains: their addresses resolve to error: (none is left once cleanup expanded the listed ones),
    transport_maps not asked, as trivial-rewrite resolves the virtual alias class."""
    unknown_alias: str = "5.1.1 User unknown in virtual alias table"
    mailbox_domains: DomainList = DomainList(exact=True)
    """virtual_mailbox_domains: their addresses go to virtual_transport, the domain the next hop."""
    virtual_transport: str = "virtual"
    relocated: tuple = ()
    """relocated_maps: an address they list resolves to error:5.1.6 User has moved to ITS ANSWER, whatever its
    class (trivial-rewrite asks them last)."""
    delimiters: Delimiters = Delimiters()
    myorigin: str = ""

    @classmethod
    def from_config(cls, config) -> TransportMaps:
        """transport_maps and the class transports of a loaded main.cf; a table that cannot be opened is a
        TableError."""
        def tables(name: str) -> tuple:
            specs = config.get(name).strip()
            return tuple(open_tables(specs)) if specs else ()

        return cls(tables("transport_maps"), "transport_maps" in config.list("parent_domain_matches_subdomains"),
                   config.get("local_transport"), config.get("default_transport"), config.get("relay_transport"),
                   config.get("relayhost"), DomainList.from_config(config, "relay_domains"),
                   tables("sender_dependent_relayhost_maps"), config.get("empty_address_relayhost_maps_lookup_key"),
                   tables("sender_dependent_default_transport_maps"),
                   config.get("empty_address_default_transport_maps_lookup_key"),
                   DomainList.from_config(config, "virtual_alias_domains", exact=True),
                   "5.1.1 User unknown" + (" in virtual alias table" if config.bool("show_user_unknown_table_name")
                                           else ""),
                   DomainList.from_config(config, "virtual_mailbox_domains", exact=True),
                   config.get("virtual_transport"), tables("relocated_maps"), Delimiters.from_config(config),
                   config.get("myorigin"))

    @property
    def may_refuse(self) -> bool:
        """Whether some recipient may go to error: or retry: (a table, or a class transport that is one)."""
        classes = (self.local_transport, self.default_transport, self.relay_transport, self.virtual_transport)
        refusing = any(t.partition(":")[0] in ("error", "retry") for t in classes)
        return bool(self.tables or self.alias_domains.patterns or self.relocated) or refusing

    def resolve(self, address: str, domain: str, local: bool, sender: str = "") -> tuple[str, str]:
        """(transport, next hop) of a resolved recipient (internal form, lower case) of a message from `sender`:
        its class's transport, then transport_maps, then relocated_maps."""
        found = self._route(address, domain, local, sender)
        if self.relocated:
            moved = find_address(self.relocated, address, local or domain == self.myorigin.lower(), self.delimiters)
            if moved is not None:
                return "error", f"5.1.6 User has moved to {moved[0]}"
        return found

    def _route(self, address: str, domain: str, local: bool, sender: str) -> tuple[str, str]:
        if local:
            channel, nexthop = self.local_transport, domain
        elif self.is_alias_domain(domain):
            return "error", self.unknown_alias
        elif self.is_mailbox_domain(domain):
            channel, nexthop = self.virtual_transport, domain
        elif self.relay_domains.matches(domain):
            channel, nexthop = self.relay_transport, self._relayhost(sender, domain)
        else:
            default = by_sender(self.sender_transports, sender, self.null_sender_transport_key)
            channel, nexthop = default or self.default_transport, self._relayhost(sender, domain)
        transport, _, explicit = channel.partition(":")
        return self.route(address, domain, transport, explicit or nexthop)

    def is_alias_domain(self, domain: str) -> bool:
        """Whether a domain (not a local one) is of the virtual alias class."""
        return self.alias_domains.matches(domain)

    def is_mailbox_domain(self, domain: str) -> bool:
        """Whether a domain (neither local nor of the alias class) is of the virtual mailbox class."""
        return self.mailbox_domains.matches(domain)

    def is_final(self, domain: str) -> bool:
        """A domain of a final class besides the local one: virtual alias or virtual mailbox (RESOLVE_CLASS_FINAL)."""
        return self.is_alias_domain(domain) or self.is_mailbox_domain(domain)

    def _relayhost(self, sender: str, domain: str) -> str:
        """The off-host next hop: the sender's relayhost, else relayhost, else the domain."""
        return by_sender(self.sender_relayhosts, sender, self.null_sender_key) or self.relayhost or domain

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


def by_sender(tables: tuple, sender: str, null_key: str) -> str | None:
    """A sender_dependent_*_maps result for the sender (its address, then @domain; the null sender as `null_key`);
    None when none, or DUNNO, says one."""
    if not tables:
        return None
    sender = sender.lower()
    keys = [sender, PartialKey("@" + sender.rpartition("@")[2])] if "@" in sender else [sender or null_key]
    found = (lookup_keys(tables, keys) or "").strip()
    return None if not found or found.upper() == "DUNNO" else found


def updated(transport: str, nexthop: str, value: str, domain: str) -> tuple[str, str]:
    """A result applied as update_entry(): `:nexthop` keeps the transport (and `:` changes nothing), `transport:`
    sends to the recipient's domain (error: and retry: say UNDELIVERABLE), `transport:nexthop` to the one given."""
    new_transport, _, new_nexthop = value.strip().partition(":")
    if not new_transport:
        return transport, new_nexthop or nexthop
    if not new_nexthop:
        new_nexthop = UNDELIVERABLE if new_transport in ("error", "retry") else domain
    return new_transport, new_nexthop
