"""Tables read from a file, re-read when the file changes, without a restart.

The file's identity (mtime, size, inode) is checked on lookup at most once a second. A new
version that cannot be read (in strict mode: one with any Postfix warning) is refused with a
warning, and the table in force stays; otherwise its rules replace the old ones, the ones Postfix
skips skipped with Postfix's warnings, as a Postfix daemon that reopens the table.
"""

from __future__ import annotations

import os
import time
from collections.abc import Callable

from filterd import maillog
from filterd.tables.notices import TableError, TableOpenError

CHECK_INTERVAL = 1.0
TABLE_NOTICE = "table_notice"
Build = Callable[[bytes], object]


def _unreadable(kind: str, path: str, exc: OSError | ValueError) -> str:
    """Postfix's words for a table file it cannot open or read, which differ by type."""
    reason = getattr(exc, "strerror", None) or str(exc)
    if isinstance(exc, IsADirectoryError) and kind == "texthash":
        return f"read {path}: {reason}"
    if isinstance(exc, IsADirectoryError) and kind == "cidr":
        return f"cidr map {path}: read error: {reason}"
    return f"open database {path}: {reason}" if kind == "texthash" else f"open {path}: {reason}"


def read_table_file(path: str, kind: str = "") -> tuple[bytes, tuple]:
    """The file's bytes and identity; an unreadable file is a TableOpenError in Postfix's words for `kind`."""
    try:
        with open(path, "rb") as f:
            st = os.fstat(f.fileno())
            return f.read(), (st.st_mtime_ns, st.st_size, st.st_ino)
    except (OSError, ValueError) as exc:
        raise TableOpenError(path, None, _unreadable(kind, path, exc)) from None


def checked(table, path: str, strict: bool, service: str, quiet: bool = False):
    """Refuse a table with warnings in strict mode; otherwise log them as Postfix does (unless quiet)."""
    table.service = service
    table.path = path
    for notice in table.notices:
        if strict:
            raise notice.error(path)
        if not quiet:
            maillog.log.warning("%s", notice.text, extra={"service": service, TABLE_NOTICE: True})
    return table


class ReloadingTable:
    """A file table that re-reads its file when it changes; lookups go to the version in force."""

    def __init__(self, spec: str, path: str, build: Build, strict: bool, service: str, quiet: bool = False):
        self.spec, self.path, self.build = spec, path, build
        self.strict, self.service, self.quiet = strict, service, quiet
        data, self.identity = read_table_file(path, spec.partition(":")[0])
        self.current = checked(build(data), path, strict, service, quiet)
        self.checked_at = time.monotonic()

    def _refresh(self) -> None:
        if time.monotonic() - self.checked_at < CHECK_INTERVAL:
            return
        self.refresh_now()

    def refresh_now(self, announce: bool = True) -> None:
        """Re-read the file if it changed since it was read (logging that it did, when announce)."""
        self.checked_at = time.monotonic()
        try:
            st = os.stat(self.path)
        except OSError:
            return
        identity = (st.st_mtime_ns, st.st_size, st.st_ino)
        if identity != self.identity:
            self.identity = identity
            self._reload(announce)

    def _reload(self, announce: bool) -> None:
        try:
            data, self.identity = read_table_file(self.path, self.spec.partition(":")[0])
            self.current = checked(self.build(data), self.path, self.strict, self.service, self.quiet)
        except TableError as exc:
            maillog.warning(self.service, "%s: table not reloaded, keeping the one in force: %s",
                            self.spec, exc)
            return
        if announce:
            maillog.info(self.service, "%s: reloaded after change", self.spec)

    @property
    def fixed(self) -> bool:
        return getattr(self.current, "fixed", True)

    @property
    def notices(self):
        """The warnings Postfix logged when it read the version in force."""
        return self.current.notices

    def lookup(self, key: str) -> str | None:
        """The result of the version in force (re-read first if the file changed)."""
        self._refresh()
        return self.current.lookup(key)

    def lookup_bytes(self, key: bytes) -> bytes | None:
        self._refresh()
        return self.current.lookup_bytes(key)
