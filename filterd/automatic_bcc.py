"""always_bcc, sender_bcc_maps and recipient_bcc_maps: the blind copies Postfix's cleanup adds, the sender's before
the recipients, a recipient's after it, always_bcc's last; each looked up as mail_addr_find looks an address up, the
extension stripped if need be."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from filterd.address_keys import Delimiters, lookup_address
from filterd.addresses import AddressRules, unquote_local
from filterd.tables import open_tables


@dataclass(frozen=True)
class AutomaticBcc:
    always: str = ""
    sender_tables: tuple[Any, ...] = ()
    recipient_tables: tuple[Any, ...] = ()
    rules: AddressRules = AddressRules()
    delimiters: Delimiters = Delimiters()

    @classmethod
    def from_config(cls, config: Any) -> AutomaticBcc:
        """The tables of a loaded main.cf, opened (a table that cannot be: TableError)."""
        def tables(name: str) -> tuple[Any, ...]:
            specs = config.get(name).strip()
            return tuple(open_tables(specs)) if specs else ()

        return cls(config.get("always_bcc").strip(), tables("sender_bcc_maps"), tables("recipient_bcc_maps"),
                   AddressRules.from_config(config), Delimiters.from_config(config))

    def __bool__(self) -> bool:
        return bool(self.always or self.sender_tables or self.recipient_tables)

    def for_sender(self, sender: str) -> str | None:
        """The copy sender_bcc_maps give the (internal, canonical) sender, internal; None without one."""
        return self._find(self.sender_tables, sender)

    def for_recipient(self, recipient: str) -> str | None:
        """The copy recipient_bcc_maps give an (internal, canonical) recipient, internal; None without one."""
        return self._find(self.recipient_tables, recipient)

    def _find(self, tables: tuple[Any, ...], address: str) -> str | None:
        found = lookup_address(tables, address, self.rules, self.delimiters)
        return None if found is None else unquote_local(found[0].strip())
