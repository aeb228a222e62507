"""Tables read from a file, re-read when the file changes, without a restart.

The file's identity (mtime, size, inode) is checked on lookup at most once a second. A new
version that cannot be read or parsed (in strict mode: one with any Postfix warning) is refused
with a warning, and the table in force stays.
"""

from __future__ import annotations

import os
import time
from collections.abc import Callable

from filterd import maillog
from filterd.tables.notices import TableError, TableOpenError

CHECK_INTERVAL = 1.0
Build = Callable[[bytes], object]


def read_table_file(path: str) -> tuple[bytes, tuple]:
    """The file's bytes and identity; an unreadable file is a TableOpenError, as Postfix's `open FILE: reason`."""
    try:
        with open(path, "rb") as f:
            st = os.fstat(f.fileno())
            return f.read(), (st.st_mtime_ns, st.st_size, st.st_ino)
    except (OSError, ValueError) as exc:
        raise TableOpenError(path, None, f"open {path}: {getattr(exc, 'strerror', None) or exc}") from None


def checked(table, path: str, strict: bool, service: str):
    """Refuse a table with warnings in strict mode; otherwise log them as Postfix does."""
    table.service = service
    for notice in table.notices:
        if strict:
            raise notice.error(path)
        maillog.warning(service, "%s", notice.text)
    return table


class ReloadingTable:
    """A file table that re-reads its file when it changes; lookups go to the version in force."""

    def __init__(self, spec: str, path: str, build: Build, strict: bool, service: str):
        self.spec, self.path, self.build = spec, path, build
        self.strict, self.service = strict, service
        data, self.identity = read_table_file(path)
        self.current = checked(build(data), path, strict, service)
        self.checked_at = time.monotonic()

    def _refresh(self) -> None:
        now = time.monotonic()
        if now - self.checked_at < CHECK_INTERVAL:
            return
        self.checked_at = now
        try:
            st = os.stat(self.path)
        except OSError:
            return
        identity = (st.st_mtime_ns, st.st_size, st.st_ino)
        if identity != self.identity:
            self.identity = identity
            self._reload()

    def _reload(self) -> None:
        try:
            data, self.identity = read_table_file(self.path)
            self.current = checked(self.build(data), self.path, self.strict, self.service)
        except TableError as exc:
            maillog.warning(self.service, "%s: table not reloaded, keeping the one in force: %s",
                            self.spec, exc)
            return
        maillog.info(self.service, "%s: reloaded after change", self.spec)

    def lookup(self, key: str) -> str | None:
        """The result of the version in force (re-read first if the file changed)."""
        self._refresh()
        return self.current.lookup(key)

    def lookup_bytes(self, key: bytes) -> bytes | None:
        self._refresh()
        return self.current.lookup_bytes(key)
