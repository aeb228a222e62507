"""Postfix lookup tables by Postfix's `type:name` syntax, read and matched as Postfix does.

Plugins take Table, TableError, open_table and open_tables from `filterd`, which exports them.

    table = open_table("pcre:/etc/filterd/header_checks")
    table.lookup("Subject: hello")          # the result with $n substituted, or None

Types: regexp: (regexp_table(5)), pcre: (pcre_table(5)), cidr: (cidr_table(5)), texthash:
(postmap(1)), inline:{ key=value, ... } and static:value. File tables are re-read when the file
changes. A table loads as Postfix loads it: a rule Postfix skips is skipped, with Postfix's warning
logged, and the rest is used; what Postfix cannot open at all is a TableError. With strict=True any
line Postfix would warn about is a TableError naming FILE:LINE; `table_problems(config)` lists them all
for the configuration check.
"""

from __future__ import annotations

from typing import Protocol

from filterd.tables.base import SERVICE
from filterd.tables.notices import TableError
from filterd.tables.partial_keys import PartialKey, lookup_keys
from filterd.tables.table_types import open_table, split_specs

__all__ = ["PartialKey", "Table", "TableError", "lookup_keys", "open_table", "open_tables", "split_specs"]


class Table(Protocol):
    """What every table offers: its spec and a lookup."""

    spec: str
    fixed: bool
    """Its keys are strings (texthash:, inline:, static:), so that partial keys are asked of it too; False for
    regexp:, pcre: and cidr: (see PartialKey)."""

    def lookup(self, key: str) -> str | None:
        """The result for `key` ($n substitutions done), or None when nothing matches."""

    def lookup_bytes(self, key: bytes) -> bytes | None:
        """The same for a raw key (a header or body line as received, 8-bit included), as cleanup matches."""


def open_tables(specs: list[str] | str, *, strict: bool = False, service: str = SERVICE) -> list[Table]:
    """Open each table of a Postfix list-valued parameter (`pcre:a, regexp:b`), in order."""
    if isinstance(specs, str):
        specs = split_specs(specs)
    return [open_table(spec, strict=strict, service=service) for spec in specs]
