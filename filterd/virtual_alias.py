"""virtual_alias_maps: the addresses an address stands for, as Postfix's mail_addr_map() finds them and cleanup's
one-to-many expansion applies them to each recipient (recursively, each result canonical, an address that maps to
itself kept), within virtual_alias_expansion_limit, virtual_alias_recursion_limit and the address length limit."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from filterd.address_keys import Delimiters, lookup_address, mapped_addresses
from filterd.addresses import AddressRules
from filterd.tables import open_tables

TITLE = "virtual_alias_maps"


class ExpansionError(Exception):
    """An expansion cleanup gives up on: the message is not accepted, the client told to try again later."""


@dataclass(frozen=True)
class VirtualAliases:
    tables: tuple[Any, ...] = ()
    rules: AddressRules = AddressRules()
    expansion_limit: int = 1000
    recursion_limit: int = 1000
    length_limit: int = 1000
    delimiters: Delimiters = Delimiters()
    propagate: bool = True
    """propagate_unmatched_extensions has `virtual`: user+foo@domain found as user@domain gives each result +foo."""

    @classmethod
    def from_config(cls, config: Any) -> VirtualAliases:
        """The tables of a loaded main.cf, opened (a table that cannot be: TableError)."""
        specs = config.get("virtual_alias_maps").strip()
        return cls(tuple(open_tables(specs)) if specs else (), AddressRules.from_config(config),
                   config.int("virtual_alias_expansion_limit"), config.int("virtual_alias_recursion_limit"),
                   config.int("virtual_alias_address_length_limit"), Delimiters.from_config(config),
                   "virtual" in config.list("propagate_unmatched_extensions"))

    def __bool__(self) -> bool:
        return bool(self.tables)

    def lookup(self, address: str) -> tuple[str, str] | None:
        """The table's answer for an internal address and the extension its addresses get back, None when no key
        matches."""
        return lookup_address(self.tables, address, self.rules, self.delimiters)

    def mapped(self, address: str) -> list[str] | None:
        """The addresses (internal, canonical) one address maps to, None when the tables do not list it."""
        if not self.tables:
            return None
        return mapped_addresses(self.tables, address, self.rules, self.delimiters, self.propagate)

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

