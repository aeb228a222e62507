"""Postfix's mail_addr_find and mail_addr_map for an address, with recipient_delimiter: user+foo@domain, then
user@domain (the extension stripped, of fixed-string tables only), then the local part(s) when the domain is local,
then @domain; and split_addr's rules for what has an extension (postmaster, MAILER-DAEMON, double-bounce never;
owner-foo and foo-request not when `-` is a delimiter and owner_request_special is on)."""

from __future__ import annotations

from dataclasses import dataclass

from typing import Any

from filterd.addresses import AddressRules, find_addresses, internalize, quote_local, scan
from filterd.tables.partial_keys import PartialKey, fixed


@dataclass(frozen=True)
class Delimiters:
    """recipient_delimiter (each character one) and owner_request_special."""

    characters: str = ""
    owner_request_special: bool = True
    double_bounce: str = "double-bounce"

    @classmethod
    def from_config(cls, config: Any) -> Delimiters:
        return cls(config.get("recipient_delimiter"), config.bool("owner_request_special"))

    def split(self, local_part: str) -> tuple[str, str] | None:
        """(bare local part, extension with its delimiter), or None when the local part has no extension."""
        lowered = local_part.lower()
        if not self.characters or lowered in ("postmaster", "mailer-daemon", self.double_bounce.lower()):
            return None
        if "-" in self.characters and self.owner_request_special and (
                lowered.startswith("owner-") or len(lowered) > 8 and lowered.endswith("-request")):
            return None
        at = next((i for i, c in enumerate(local_part) if c in self.characters), len(local_part))
        if at == 0 or at == len(local_part):
            return None
        return local_part[:at], local_part[at:]

    def strip(self, address: str) -> tuple[str, str] | None:
        """(user@domain, +foo) for user+foo@domain; None without an extension."""
        local_part, at, domain = address.rpartition("@")
        if not at:
            local_part = address
        found = self.split(local_part)
        if found is None:
            return None
        return found[0] + at + domain, found[1]


@dataclass(frozen=True)
class Key:
    """One search key, and whether it is the address with its extension stripped (which a result may get back)."""

    key: str
    stripped: bool = False


def address_keys(address: str, local_domain: bool, delimiters: Delimiters = Delimiters()) -> list[Key]:
    """mail_addr_find's default search keys for an internal address (MA_FIND_DEFAULT, each form quoted first):
    user+foo@domain (every table), user@domain, then when the domain is local user+foo and user, then @domain
    (fixed-string tables only, as PartialKey)."""
    local_part, at, domain = address.rpartition("@")
    if not at:
        local_part, domain = address, ""
    bare = delimiters.strip(address)
    keys = [Key(k) for k in _forms(address)]
    if bare is not None:
        keys += [Key(PartialKey(k), True) for k in _forms(bare[0])]
    if local_domain and at:
        keys += [Key(PartialKey(k)) for k in _forms(local_part, bare_local=True)]
        if bare is not None:
            keys += [Key(PartialKey(k), True) for k in _forms(bare[0].rpartition("@")[0], bare_local=True)]
    if at:
        keys.append(Key(PartialKey(f"@{domain.lower()}")))
    return keys


def _forms(address: str, bare_local: bool = False) -> list[str]:
    """The external (quoted) form, then the internal one when it differs, lower case."""
    quoted = quote_local(address + "@x")[:-2] if bare_local else quote_local(address)
    return list(dict.fromkeys([quoted.lower(), address.lower()]))


def find_address(tables, address: str, local_domain: bool,
                 delimiters: Delimiters = Delimiters()) -> tuple[str, str] | None:
    """(the first answer, the extension to give its addresses back: empty unless a stripped key matched), or None,
    each key asked of every table in turn (a PartialKey of fixed-string tables only), as maps_find()."""
    tables = list(tables)
    stripped = delimiters.strip(address)
    for key in address_keys(address, local_domain, delimiters):
        partial = type(key.key) is PartialKey
        for table in tables:
            if partial and not fixed(table):
                continue
            found = table.lookup(key.key)
            if found is not None:
                return found, stripped[1] if key.stripped and stripped else ""
    return None


def lookup_address(tables, address: str, rules: AddressRules,
                   delimiters: Delimiters = Delimiters()) -> tuple[str, str] | None:
    """find_address, with the local-part keys when the domain is $myorigin or a local one (mail_addr_find's own
    test); None without tables or address."""
    if not tables or not address:
        return None
    _, at, domain = address.rpartition("@")
    local = bool(at) and (domain.lower() == rules.myorigin.lower() or rules.is_local_domain(domain))
    return find_address(tables, address, local, delimiters)


def mapped_addresses(tables, address: str, rules: AddressRules, delimiters: Delimiters = Delimiters(),
                     propagate: bool = True) -> list[str] | None:
    """mail_addr_map: the addresses (internal, canonical) the tables give an internal address, None when they do
    not list it. An `@domain` answer keeps the (bare) local part; an extension stripped to find the answer is given
    back to each address when `propagate` (propagate_unmatched_extensions)."""
    found = lookup_address(tables, address, rules, delimiters)
    if found is None:
        return None
    answer, extension = found
    if answer.startswith("@"):
        local_part = address.rpartition("@")[0] if "@" in address else address
        answer = quote_local(local_part[:len(local_part) - len(extension)] if extension else local_part) + answer
    if not answer.strip() or answer.strip() == "<>":
        answer = '""'
    addresses = [rules.rewrite(internalize(group)) for group in find_addresses(scan(answer))]
    if not (extension and propagate):
        return addresses
    return [f"{a.rpartition('@')[0]}{extension}@{a.rpartition('@')[2]}" if "@" in a else a + extension
            for a in addresses]
