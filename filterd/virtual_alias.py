"""virtual_alias_maps: the addresses an address stands for, as Postfix's mail_addr_map() finds them and cleanup's
one-to-many expansion applies them to each recipient (recursively, each result canonical, an address that maps to
itself kept), within virtual_alias_expansion_limit, virtual_alias_recursion_limit and the address length limit."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from filterd.addresses import AddressRules, find_addresses, internalize, quote_local, scan
from filterd.tables import open_tables
from filterd.tables.partial_keys import PartialKey, lookup_keys

TITLE = "virtual_alias_maps"


class ExpansionError(Exception):
    """An expansion cleanup gives up on: the message is not accepted, the client told to try again later."""


def address_keys(address: str, local_domain: bool) -> list[str]:
    """mail_addr_find's default search keys for an internal address: user@domain (its quoted form first), then,
    when the domain is local, the local part alone (of fixed-string tables only), then @domain."""
    local_part, _, domain = address.rpartition("@")
    keys: list[str] = list(dict.fromkeys([quote_local(address).lower(), address.lower()]))
    if local_domain:
        keys += map(PartialKey, dict.fromkeys([quote_local(local_part).lower(), local_part.lower()]))
    keys.append(PartialKey(f"@{domain.lower()}"))
    return keys


@dataclass(frozen=True)
class VirtualAliases:
    tables: tuple[Any, ...] = ()
    rules: AddressRules = AddressRules()
    expansion_limit: int = 1000
    recursion_limit: int = 1000
    length_limit: int = 1000

    @classmethod
    def from_config(cls, config: Any) -> VirtualAliases:
        """The tables of a loaded main.cf, opened (a table that cannot be: TableError)."""
        specs = config.get("virtual_alias_maps").strip()
        return cls(tuple(open_tables(specs)) if specs else (), AddressRules.from_config(config),
                   config.int("virtual_alias_expansion_limit"), config.int("virtual_alias_recursion_limit"),
                   config.int("virtual_alias_address_length_limit"))

    def __bool__(self) -> bool:
        return bool(self.tables)

    def lookup(self, address: str) -> str | None:
        """The table's answer for an internal address, None when no key matches."""
        if not self.tables or not address:
            return None
        domain = address.rpartition("@")[2]
        return lookup_keys(self.tables, address_keys(address, "@" in address and self.rules.is_local_domain(domain)))

    def mapped(self, address: str) -> list[str] | None:
        """The addresses (internal, canonical) one address maps to: an @domain answer keeps the local part;
        None when the tables do not list it."""
        found = self.lookup(address)
        if found is None:
            return None
        if found.startswith("@"):
            found = quote_local(address.rpartition("@")[0] if "@" in address else address) + found
        if not found.strip() or found.strip() == "<>":
            found = '""'
        return [self.rules.rewrite(internalize(group)) for group in find_addresses(scan(found))]

    def expand(self, address: str, queue_id: str = "") -> list[str]:
        """cleanup_map1n_internal: the final addresses of one recipient; ExpansionError (its log text) when the
        expansion grows too large or too deep, or a result is too long."""
        found = [address]
        kept: set[str] = set()
        arg = 0
        while arg < len(found):
            if len(found) > self.expansion_limit:
                raise ExpansionError(f"{queue_id}: unreasonable {TITLE} map expansion size for {address} -- "
                                     "message not accepted, try again later")
            count = 0
            while found[arg].lower() not in kept:
                if count >= self.recursion_limit:
                    raise ExpansionError(f"{queue_id}: unreasonable {TITLE} map nesting for {address} -- "
                                         "message not accepted, try again later")
                results = self.mapped(found[arg])
                if results is None:
                    break
                before = found[arg]
                for i, result in enumerate(results):
                    if len(result) > self.length_limit:
                        raise ExpansionError(f"{queue_id}: unreasonable {TITLE} result {result[:300]}... -- "
                                             "message not accepted, try again later")
                    if i == 0:
                        found[arg] = result
                    else:
                        found.append(result)
                    if result.lower() == before.lower():
                        kept.add(before.lower())
                count += 1
            arg += 1
        return found
