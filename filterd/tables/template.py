"""Result text with $n substitution, parsed as Postfix's mac_parse(3) does for regexp and pcre tables.

`$1`..`$9` (any number), `${n}`, `$(n)` insert what the n-th () group matched; `$$` is a `$`. A
group that did not take part, or matched nothing, inserts nothing.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from filterd.tables.notices import Notices

NAME_BYTES = frozenset(b"abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789_")
CLOSE = {ord("("): ord(")"), ord("{"): ord("}")}


class _Bad(Exception):
    """The result text is malformed; Postfix's warning is the message."""


@dataclass(frozen=True)
class Template:
    """Literal bytes and group numbers, in order; `max_sub` is the highest group used (0: none)."""

    parts: tuple[bytes | int, ...]
    max_sub: int

    def expand(self, group: Callable[[int], bytes | None]) -> bytes:
        """The result with each $n replaced by group(n) (None for a group that did not match)."""
        if not self.max_sub:
            return self.parts[0] if self.parts else b""
        return b"".join(p if isinstance(p, bytes) else (group(p) or b"") for p in self.parts)


def _bracketed(text: bytes, i: int) -> tuple[bytes, int]:
    """The name inside $(...) or ${...} starting at text[i], and the index after the close."""
    open_, close, depth = text[i], CLOSE[text[i]], 1
    for j in range(i + 1, len(text)):
        if text[j] == open_:
            depth += 1
        elif text[j] == close:
            depth -= 1
            if depth == 0:
                return text[i + 1:j], j + 1
    raise _Bad(f'truncated macro reference: "{_show(text)}"')


def _name(text: bytes, i: int) -> tuple[bytes, int]:
    if i < len(text) and text[i] in CLOSE:
        name, end = _bracketed(text, i)
    else:
        end = i
        while end < len(text) and text[end] in NAME_BYTES:
            end += 1
        name = text[i:end]
    if not name:
        raise _Bad(f'empty macro name: "{_show(text)}"')
    return name, end


def _show(text: bytes) -> str:
    return text.decode("utf-8", "replace")


def _index(name: bytes, where: str, out_of_range: str) -> int:
    if not name.isdigit():
        raise _Bad(f'{where}: non-numeric replacement index "{_show(name)}"')
    if int(name) < 1:
        raise _Bad(f'{where}: {out_of_range} replacement index "{_show(name)}"')
    return int(name)


def _scan(text: bytes, where: str, out_of_range: str) -> list[bytes | int]:
    parts: list[bytes | int] = []
    literal, i = bytearray(), 0
    while i < len(text):
        dollar = text.find(b"$", i)
        if dollar < 0:
            literal += text[i:]
            break
        literal += text[i:dollar]
        if text[dollar + 1:dollar + 2] == b"$":
            literal += b"$"
            i = dollar + 2
            continue
        name, i = _name(text, dollar + 1)
        parts += [bytes(literal), _index(name, where, out_of_range)]
        literal = bytearray()
    parts.append(bytes(literal))
    return [p for p in parts if p != b""]


def parse_template(text: bytes, where: str, lineno: int, notices: Notices,
                   out_of_range: str = "out-of-range") -> Template | None:
    """Parse result text; on a syntax error add Postfix's warnings and return None (rule skipped). `out_of_range`
    is how the table type spells it for $0: "out-of-range" (regexp:), "out of range" (pcre:)."""
    try:
        parts = _scan(text, where, out_of_range)
    except _Bad as exc:
        notices.add(lineno, str(exc), f"bad replacement text: {str(exc).removeprefix(where + ': ')}")
        notices.add(lineno, f"{where}: bad replacement syntax: skipping this rule", "")
        return None
    numbers = [p for p in parts if isinstance(p, int)]
    return Template(tuple(parts) if numbers else (b"".join(parts),) if parts else (), max(numbers, default=0))

