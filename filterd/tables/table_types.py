"""From `type:name` to a table object: the table types filterd knows, as Postfix's dict_open()."""

from __future__ import annotations

import weakref
from functools import partial

from filterd.tables import pcre, regexp
from filterd.tables.base import SERVICE
from filterd.tables.cidr import CidrTable
from filterd.tables.inline import InlineTable, StaticTable
from filterd.tables.notices import TableError
from filterd.tables.pattern_table import PatternTable
from filterd.tables.reloading import ReloadingTable, checked
from filterd.tables.specs import inline_rules, split_specs
from filterd.tables.texthash import TexthashTable

FILE_TYPES = {
    "regexp": partial(PatternTable, engine=regexp),
    "pcre": partial(PatternTable, engine=pcre),
    "cidr": CidrTable,
    "texthash": TexthashTable,
}
VALUE_TYPES = {"inline": InlineTable, "static": StaticTable}
_opened: weakref.WeakValueDictionary = weakref.WeakValueDictionary()
__all__ = ["open_table", "split_specs"]


def open_table(spec: str, *, strict: bool = False, service: str = SERVICE, quiet: bool = False):
    """Open `type:name` as Postfix does: a rule Postfix skips is skipped, with Postfix's warning in `service`'s
    log (none when quiet; the table's `notices` keep them). What Postfix cannot open at all (an unknown type, an
    unreadable file, a malformed inline: or static:) is a TableError; with strict=True, so is any warning.
    A table already open in this process is shared, as Postfix's dict_register() shares it (so its warnings
    are logged once, though header_checks, mime_header_checks and nested_header_checks name it each)."""
    key = (spec, strict, service, quiet)
    table = _opened.get(key)
    if table is None:
        table = _opened[key] = _open(spec, strict, service, quiet)
    elif isinstance(table, ReloadingTable):
        table.refresh_now(announce=False)
    return table


def _open(spec: str, strict: bool, service: str, quiet: bool):
    kind, colon, name = spec.partition(":")
    if not colon or not kind:
        raise TableError(spec, None, f'need dictionary type:name, got "{spec}"')
    if not name:
        raise TableError(spec, None, f'open dictionary: expecting "type:name" form instead of "{spec}"')
    if kind in VALUE_TYPES:
        table = checked(VALUE_TYPES[kind](spec, name), spec, strict, service, quiet)
    elif kind in FILE_TYPES:
        table = _open_file_table(spec, FILE_TYPES[kind], name, (strict, service, quiet))
    else:
        raise TableError(spec, None, f"unsupported dictionary type: {kind}")
    return table


def _open_file_table(spec: str, make, name: str, how: tuple[bool, str, bool]):
    """A table from its file (re-read on change), or from `{ {rule}, ... }` written in its name."""
    if name.startswith("{") and make is not TexthashTable:
        return checked(make(spec, name, inline_rules(spec, name)), spec, *how)
    return ReloadingTable(spec, name, partial(make, spec, name), *how)
