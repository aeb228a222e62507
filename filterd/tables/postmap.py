"""`filterd postmap -q`: query lookup tables as Postfix's `postmap -q` does, same output and status.

`-q KEY` prints the first table's value for KEY; `-q -` reads keys from standard input, one a line,
and prints `key<TAB>value` for each key found. Exit status 0 when something was found, 1 when not,
1 with a fatal message (and nothing on stdout) when a table that a key reaches cannot be opened; tables
are opened as keys reach them, as Postfix's postmap does. A rule Postfix skips is skipped, with Postfix's
warning on stderr naming the table and line (`postmap: warning: regexp map FILE, line N: ...`).
"""

from __future__ import annotations

import io
import sys
from typing import BinaryIO

from filterd import maillog
from filterd.tables import TableError, open_table

SERVICE = "postmap"


class LazyTables:
    """The tables of the command line, each opened when a key first reaches it, as Postfix's postmap opens them:
    a table after the one that answered is never read, so its warnings or its fatal error never come."""

    def __init__(self, specs: list[str]):
        self.specs = specs
        self.opened: list = []

    def __iter__(self):
        for index, spec in enumerate(self.specs):
            if index == len(self.opened):
                self.opened.append(open_table(spec, service=SERVICE))
            yield self.opened[index]


def query(tables, key: bytes) -> bytes | None:
    """The first table's value for the key, or None."""
    text = key.decode("utf-8", "surrogateescape")
    for table in tables:
        value = table.lookup(text)
        if value == "":
            maillog.warning(SERVICE, "table %s: key %s: empty string result is not allowed", table.spec, text)
            maillog.warning(SERVICE, "table %s should return NO RESULT in case of NOT FOUND", table.spec)
        if value is not None:
            return value.encode("utf-8", "surrogateescape")
    return None


def query_stream(tables, keys: BinaryIO, out: BinaryIO) -> bool:
    """Look up each line of `keys`; print the found ones as key TAB value. True if any was found."""
    found = False
    for line in keys:
        key = line.rstrip(b"\n")
        value = query(tables, key)
        if value is not None:
            out.write(key + b"\t" + value + b"\n")
            found = True
    return found


def postmap_query(key: str, specs: list[str], stdin: BinaryIO, stdout: BinaryIO) -> int:
    """Run `postmap -q KEY SPEC...` (KEY "-" reads keys from stdin) and return the exit status."""
    tables, out = LazyTables(specs), io.BytesIO()
    try:
        if key == "-":
            found = query_stream(tables, stdin, out)
        else:
            value = query(tables, key.encode("utf-8", "surrogateescape"))
            found = value is not None
            if found:
                out.write(value + b"\n")
    except TableError as exc:
        maillog.fatal(SERVICE, "%s", exc.message)
        return 1
    stdout.write(out.getvalue())
    stdout.flush()
    return 0 if found else 1


def run(key: str, specs: list[str]) -> int:
    """The command line entry: warnings to stderr as Postfix's postmap writes them, query, return the status."""
    maillog.setup_tool(SERVICE)
    return postmap_query(key, specs, sys.stdin.buffer, sys.stdout.buffer)
