"""A Postfix domain list (relay_domains, fast_flush_domains): names, `.parent` patterns, `type:table` lookups and
`!` exclusions, the first pattern that matches deciding, as Postfix's match_list and match_hostname read them; or a
string list (virtual_alias_domains), whose names and lookups match the domain itself only (match_string)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from filterd.config import split_braced
from filterd.tables import open_tables
from filterd.tables.partial_keys import lookup_keys, parent_keys


@dataclass(frozen=True)
class DomainList:
    """With parent style (parent_domain_matches_subdomains naming the list's parameter), `example.com` matches its
    subdomains too; without, `.example.com` does."""

    patterns: tuple[str, ...] = ()
    tables: tuple[Any, ...] = ()
    """Opened tables by pattern (`filterd.tables`), in the order of `patterns`."""
    parent_style: bool = True
    exact: bool = False
    """A string list: no subdomain matches, whatever the style."""

    @classmethod
    def from_config(cls, config: Any, name: str, exact: bool = False) -> DomainList:
        """The list in parameter `name`, its tables opened (a table that cannot be: TableError)."""
        patterns = tuple(split_braced(config.get(name)))
        tables = open_tables([p.lstrip("!") for p in patterns if ":" in p and not p.lstrip("!").startswith("[")])
        return cls(patterns, tuple(tables), name in config.list("parent_domain_matches_subdomains"), exact)

    def matches(self, domain: str) -> bool:
        """Whether the domain is listed: the first pattern that matches decides (a `!` one says no)."""
        domain = domain.lower()
        tables = iter(self.tables)
        for pattern in self.patterns:
            negated = pattern.startswith("!")
            pattern = pattern.lstrip("!")
            if ":" in pattern and not pattern.startswith("["):
                found = self._in_table(next(tables), domain)
            else:
                found = self._matches_name(pattern.lower(), domain)
            if found:
                return not negated
        return False

    def _matches_name(self, pattern: str, domain: str) -> bool:
        """match_hostname(): the name itself, a parent domain in parent style, else a `.domain` pattern (which parent
        style never reads as one)."""
        if domain == pattern or self.exact:
            return domain == pattern
        if self.parent_style:
            return domain.endswith("." + pattern)
        return pattern.startswith(".") and domain.endswith(pattern) and len(domain) > len(pattern)

    def _in_table(self, table: Any, domain: str) -> bool:
        """match_hostname's table lookups: the name, then of a fixed-string table each parent (`.parent` without
        parent style)."""
        parents = [] if self.exact else parent_keys(domain, self.parent_style)
        return lookup_keys([table], [domain, *parents]) is not None
