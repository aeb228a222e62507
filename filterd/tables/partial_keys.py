"""Partial keys: what Postfix asks only of fixed-string tables (maps_find's PARTIAL flag).

A lookup tries the full key (the client's name or address, the whole email address) in every table, then the
shorter keys (parent domains, address prefixes, `user@`, a bare local part, `@domain`) only in the tables whose keys
are strings (texthash:, inline:, static:): a regexp:, pcre: or cidr: table has matched the full key with its own
patterns already, and an anchored pattern such as `/^example\\.com$/` must not match a parent of
`mail.example.com`."""

from __future__ import annotations

from typing import Iterable


class PartialKey(str):
    """A key asked only of fixed-string tables."""


def parent_keys(domain: str, parent_style: bool) -> list[PartialKey]:
    """A domain's parents as Postfix's domain lookups try them after the domain: `.example.com`, or `example.com`
    when parent_domain_matches_subdomains names the feature."""
    labels = domain.split(".")
    return [PartialKey(".".join(labels[i:]) if parent_style else "." + ".".join(labels[i:]))
            for i in range(1, len(labels))]


def fixed(table: object) -> bool:
    """Whether a table's keys are strings (Postfix's DICT_FLAG_FIXED); a plugin's own table is, unless it says
    `fixed = False`."""
    return getattr(table, "fixed", True)


def lookup_keys(tables: Iterable, keys: Iterable[str]) -> str | None:
    """The first result: each key in turn asked of each table in order, as maps_find(); None when none answers."""
    tables = list(tables)
    for key in keys:
        partial = type(key) is PartialKey
        for table in tables:
            if partial and not fixed(table):
                continue
            found = table.lookup(key)
            if found is not None:
                return found
    return None
