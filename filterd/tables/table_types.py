"""From `type:name` to a table object: the table types filterd knows, as Postfix's dict_open()."""

from __future__ import annotations

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
__all__ = ["open_table", "split_specs"]


def open_table(spec: str, *, strict: bool = True, service: str = SERVICE):
    """Open `type:name`; an unknown type, an unreadable file or (strict) a bad line is a TableError."""
    kind, colon, name = spec.partition(":")
    if not colon or not kind:
        raise TableError(spec, None, f'need dictionary type:name, got "{spec}"')
    if kind in VALUE_TYPES:
        table = checked(VALUE_TYPES[kind](spec, name), spec, strict, service)
    elif kind in FILE_TYPES:
        table = _open_file_table(spec, FILE_TYPES[kind], name, strict, service)
    else:
        raise TableError(spec, None, f"unsupported dictionary type: {kind}")
    return table


def _open_file_table(spec: str, make, name: str, strict: bool, service: str):
    """A table from its file (re-read on change), or from `{ {rule}, ... }` written in its name."""
    if name.startswith("{"):
        return checked(make(spec, spec, inline_rules(spec, name)), spec, strict, service)
    return ReloadingTable(spec, name, partial(make, spec, name), strict, service)
