"""canonical_maps, sender_canonical_maps and recipient_canonical_maps on the envelope, as Postfix's cleanup applies
them (cleanup_map11: the answer's first address, looked up again until it maps to itself, at most ten times; an
extension stripped to find it given back with propagate_unmatched_extensions' `canonical`), each per its
*_canonical_classes, then masquerade_domains (a subdomain's address given the listed parent, but for the local parts of
masquerade_exceptions; `!name` keeps that domain and those below it as they are); the same for header addresses
(filterd.header_rewrite); and the addresses the tables list, which smtpd's check_rcpt_maps takes as valid."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from filterd import maillog
from filterd.address_keys import Delimiters, lookup_address, mapped_addresses
from filterd.addresses import AddressRules, quote_local
from filterd.domain_list import DomainList
from filterd.tables import open_tables

CLASSES = ("envelope_sender", "envelope_recipient", "header_sender", "header_recipient")
MAX_RECURSION = 10


@dataclass(frozen=True)
class Table:
    """One of the three parameters: its name (cleanup's warnings say it), tables and classes."""

    title: str
    tables: tuple[Any, ...] = ()
    classes: frozenset[str] = frozenset(CLASSES)


@dataclass(frozen=True)
class CanonicalMaps:
    common: Table = Table("canonical_maps")
    sender: Table = Table("sender_canonical_maps")
    recipient: Table = Table("recipient_canonical_maps")
    rules: AddressRules = AddressRules()
    delimiters: Delimiters = Delimiters()
    propagate: bool = True
    masquerade: tuple[str, ...] = ()
    """masquerade_domains, in order (`!` to keep a domain as it is)."""
    masquerade_exceptions: DomainList = DomainList(exact=True)
    masquerade_classes: frozenset[str] = frozenset({"envelope_sender", "header_sender", "header_recipient"})

    @classmethod
    def from_config(cls, config: Any) -> CanonicalMaps:
        """The tables of a loaded main.cf, opened (a table that cannot be: TableError)."""
        def table(name: str, classes: str) -> Table:
            specs = config.get(name).strip()
            return Table(name, tuple(open_tables(specs)) if specs else (), frozenset(config.list(classes)))

        return cls(table("canonical_maps", "canonical_classes"),
                   table("sender_canonical_maps", "sender_canonical_classes"),
                   table("recipient_canonical_maps", "recipient_canonical_classes"),
                   AddressRules.from_config(config), Delimiters.from_config(config),
                   "canonical" in config.list("propagate_unmatched_extensions"),
                   tuple(config.list("masquerade_domains")),
                   DomainList.from_config(config, "masquerade_exceptions", exact=True),
                   frozenset(config.list("masquerade_classes")))

    def __bool__(self) -> bool:
        return bool(self.common.tables or self.sender.tables or self.recipient.tables or self.masquerade)

    def listed(self, address: str, sender: bool = False) -> bool:
        """smtpd's check_rcpt_maps: recipient_canonical_maps, (for a sender) sender_canonical_maps, or
        canonical_maps list the (resolved) address."""
        tables = [self.recipient, *([self.sender] if sender else []), self.common]
        return any(lookup_address(table.tables, address, self.rules, self.delimiters) is not None for table in tables)

    def envelope_sender(self, address: str, queue_id: str = "") -> str:
        """The envelope sender (internal, canonical) after sender_canonical_maps, then canonical_maps."""
        return self._rewritten(address, (self.sender, self.common), "envelope_sender", queue_id)

    def envelope_recipient(self, address: str, queue_id: str = "") -> str:
        """An envelope recipient (internal, canonical) after recipient_canonical_maps, then canonical_maps."""
        return self._rewritten(address, (self.recipient, self.common), "envelope_recipient", queue_id)

    def header_sender(self, address: str, queue_id: str = "") -> str:
        """An address of a sender header (From, Reply-To, ...): the sender tables' header class."""
        return self._rewritten(address, (self.sender, self.common), "header_sender", queue_id)

    def header_recipient(self, address: str, queue_id: str = "") -> str:
        """An address of a recipient header (To, Cc, ...): the recipient tables' header class."""
        return self._rewritten(address, (self.recipient, self.common), "header_recipient", queue_id)

    def _rewritten(self, address: str, tables: tuple[Table, ...], kind: str, queue_id: str) -> str:
        for table in tables:
            if table.tables and kind in table.classes:
                address = self._map11(table, address, queue_id)
        if self.masquerade and kind in self.masquerade_classes:
            address = self._masqueraded(address)
        return address

    def _masqueraded(self, address: str) -> str:
        """cleanup_masquerade_internal: the first listed domain that is the address's domain or a parent of it
        decides; a parent (not `!`-marked) replaces the domain."""
        local_part, at, domain = address.rpartition("@")
        if not at or self.masquerade_exceptions.matches(quote_local(local_part)):
            return address
        domain = domain.lower()
        for pattern in self.masquerade:
            keep = (len(pattern) - len(pattern.lstrip("!"))) % 2 == 1
            masq = pattern.lstrip("!").lower()
            if not masq:
                continue
            if masq == domain:
                break
            if domain.endswith("." + masq):
                return address if keep else f"{local_part}@{masq}"
        return address

    def _map11(self, table: Table, address: str, queue_id: str) -> str:
        """cleanup_map11_internal: the first address of each answer until one maps to itself."""
        for _ in range(MAX_RECURSION):
            answers = mapped_addresses(table.tables, address, self.rules, self.delimiters, self.propagate)
            if answers is None:
                return address
            if len(answers) > 1:
                maillog.warning("cleanup", "%s: multi-valued %s entry for %s", queue_id, table.title,
                                quote_local(address))
            if not answers:
                return address
            before, address = address, answers[0]
            if before.lower() == address.lower():
                return address
        maillog.warning("cleanup", "%s: unreasonable %s map nesting for %s -- message not accepted, try again later",
                        queue_id, table.title, quote_local(address))
        return address
