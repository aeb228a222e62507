"""Logical lines of a Postfix table file (readllines(3)): comments, blank lines, continuation.

A logical line starts with non-whitespace text; a line that starts with whitespace continues it.
Comment lines (first non-whitespace character `#`) and blank lines are skipped, also inside a
logical line. Lines are bytes, as Postfix reads them; numbers are those of the first line.
"""

from __future__ import annotations

from collections.abc import Iterator

from filterd.tables.notices import Notices

WHITESPACE = b" \t\r\n\v\f"


def _physical(data: bytes) -> Iterator[tuple[int, bytes]]:
    lines = data.split(b"\n")
    if lines and lines[-1] == b"":
        lines.pop()
    for lineno, line in enumerate(lines, 1):
        stripped = line.strip(WHITESPACE)
        if stripped and not stripped.startswith(b"#"):
            yield lineno, line


def _joined(data: bytes) -> Iterator[tuple[int, bytes]]:
    first, parts = 0, []
    for lineno, line in _physical(data):
        if parts and line[:1].isspace():
            parts.append(line)
            continue
        if parts:
            yield first, b"".join(parts)
        first, parts = lineno, [line]
    if parts:
        yield first, b"".join(parts)


def logical_lines(data: bytes, name: str, notices: Notices) -> Iterator[tuple[int, bytes]]:
    """Yield (first line number, logical line without trailing whitespace)."""
    for lineno, line in _joined(data):
        line = line.rstrip(WHITESPACE)
        if line[:1].isspace():
            text = line.decode("utf-8", "replace")
            notices.add(lineno, f'{name}: logical line must not start with whitespace: "{text}"',
                        "logical line must not start with whitespace")
            continue
        yield lineno, line
