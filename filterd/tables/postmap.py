"""`filterd postmap -q`: query lookup tables as Postfix's `postmap -q` does, same output and status.

`-q KEY` prints the first table's value for KEY; `-q -` reads keys from standard input, one a line,
and prints `key<TAB>value` for each key found. Exit status 0 when something was found, 1 when not,
1 with a fatal message when a table cannot be opened.
"""

from __future__ import annotations

import sys
from typing import BinaryIO

from filterd import maillog
from filterd.tables import TableError, open_table

SERVICE = "postmap"


def query(tables: list, key: bytes) -> bytes | None:
    """The first table's value for the key, or None."""
    text = key.decode("utf-8", "surrogateescape")
    for table in tables:
        value = table.lookup(text)
        if value is not None:
            return value.encode("utf-8", "surrogateescape")
    return None


def query_stream(tables: list, keys: BinaryIO, out: BinaryIO) -> bool:
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
    try:
        tables = [open_table(spec, strict=False, service=SERVICE) for spec in specs]
    except TableError as exc:
        maillog.error(SERVICE, "fatal: %s", exc.message)
        return 1
    if key == "-":
        found = query_stream(tables, stdin, stdout)
    else:
        value = query(tables, key.encode("utf-8", "surrogateescape"))
        found = value is not None
        if found:
            stdout.write(value + b"\n")
    stdout.flush()
    return 0 if found else 1


def run(key: str, specs: list[str]) -> int:
    """The command line entry: log to stderr as Postfix's postmap does, query, return the status."""
    maillog.setup("", "filterd", "localhost", foreground=True)
    return postmap_query(key, specs, sys.stdin.buffer, sys.stdout.buffer)
