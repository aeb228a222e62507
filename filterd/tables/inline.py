"""inline:{ key=value, { key = text with spaces } } and static:value / static:{ text with spaces }."""

from __future__ import annotations

from filterd.tables.base import BaseTable
from filterd.tables.notices import Notices, TableError
from filterd.tables.specs import braced_items, unbrace
from filterd.tables.texthash import HashTable, fold


def _entry(spec: str, item: str) -> tuple[bytes, bytes]:
    name, eq, value = item.partition("=")
    if not eq or not name.strip():
        raise TableError(spec, None, f'missing \'=\' after attribute name: "{spec}"; '
                         'need "inline:{name=value...}"')
    return fold(name.strip().encode("utf-8", "surrogateescape")), value.strip().encode("utf-8", "surrogateescape")


class InlineTable(HashTable):
    """The key=value pairs written in the table's name."""

    def __init__(self, spec: str, name: str):
        try:
            items = braced_items(spec, name)
        except TableError:
            items = []
        if not items:
            raise TableError(spec, None, f'bad syntax: "{spec}"; need "inline:{{name=value...}}"')
        entries: dict[bytes, bytes] = {}
        for item in items:
            key, value = _entry(spec, item)
            entries.setdefault(key, value)
        super().__init__(spec, entries)


class StaticTable(BaseTable):
    """Every key gives the same value."""

    def __init__(self, spec: str, name: str):
        self.spec = spec
        self.notices = Notices()
        if not name:
            raise TableError(spec, None, f'open dictionary: expecting "type:name" form instead of "{spec}"')
        if name.startswith("{"):
            try:
                name = unbrace(spec, name)
            except TableError as exc:
                raise TableError(spec, None, f"bad static:name syntax: {exc.message}") from None
        self.value = name.encode("utf-8", "surrogateescape")

    def lookup_bytes(self, key: bytes) -> bytes:
        return self.value
