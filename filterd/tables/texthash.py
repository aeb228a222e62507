"""texthash: tables (postmap(1)): `key whitespace value` lines, read as `postmap` reads its input.

Keys are case-folded, as Postfix's fixed-case tables; the first of duplicate keys wins, with
Postfix's warning; a line without a value is ignored with a warning.
"""

from __future__ import annotations

import re

from filterd.tables.base import BaseTable
from filterd.tables.logical_lines import logical_lines
from filterd.tables.notices import Notices

KEY = re.compile(rb'(?:"[^"]*"|[^\s"])+')
VALUE = re.compile(rb"\s+(\S.*)", re.S)


def fold(key: bytes) -> bytes:
    """A key as Postfix folds fixed-case table keys: full Unicode case folding of UTF-8 text."""
    if key.isascii():
        return key.lower()
    try:
        return key.decode("utf-8").casefold().encode("utf-8")
    except UnicodeDecodeError:
        return key.lower()


class HashTable(BaseTable):
    """An in-memory table of folded keys."""

    def __init__(self, spec: str, entries: dict[bytes, bytes]):
        self.spec = spec
        self.entries = entries
        self.notices = Notices()

    def lookup_bytes(self, key: bytes) -> bytes | None:
        return self.entries.get(fold(key))


class TexthashTable(HashTable):
    """The entries of a texthash: file."""

    def __init__(self, spec: str, name: str, data: bytes):
        super().__init__(spec, {})
        for lineno, line in logical_lines(data, name, self.notices):
            entry = self._entry(line, f"{name}, line {lineno}", lineno)
            if entry is None:
                continue
            key = fold(entry[0])
            if key in self.entries:
                shown = entry[0].decode("utf-8", "replace")
                self.notices.add(lineno, f'{name}, line {lineno}: duplicate entry: "{shown}"',
                                 f'duplicate entry: "{shown}"')
                continue
            self.entries[key] = entry[1]

    def _entry(self, line: bytes, where: str, lineno: int) -> tuple[bytes, bytes] | None:
        """(key, value) of `key whitespace value`; "..." in the key protects whitespace."""
        key = KEY.match(line)
        end = key.end() if key else 0
        if line[end:end + 1] == b'"':
            shown = line.decode("utf-8", "replace")
            self.notices.add(lineno, f"{where}: unbalanced '\"' in '{shown}' -- ignoring this line",
                             "unbalanced '\"'")
            return None
        value = VALUE.fullmatch(line, end)
        if not key or value is None:
            self.notices.add(lineno, f"{where}: expected format: key whitespace value -- ignoring this line",
                             "expected format: key whitespace value")
            return None
        return key.group(), value.group(1)
