"""RFC 3461 xtext, as Postfix's xtext_quote() and xtext_unquote() write and read it: DSN's ORCPT, XFORWARD's and
XCLIENT's attribute values."""

from __future__ import annotations

import re

_UNSAFE = re.compile(r"[^!-*,-<>-~]")


def xtext(value: str) -> str:
    """`value` with every byte outside `!`..`~`, `+` and `=` written as `+XX` (UTF-8 bytes for the rest)."""
    return _UNSAFE.sub(lambda m: "".join(f"+{b:02X}" for b in m.group().encode()), value)


def unxtext(value: str) -> str:
    """An xtext value decoded; a `+` not followed by two hexadecimal digits is kept as it is."""
    if "+" not in value:
        return value
    out, i = [], 0
    while i < len(value):
        if value[i] == "+" and len(value[i + 1:i + 3]) == 2:
            try:
                out.append(chr(int(value[i + 1:i + 3], 16)))
                i += 3
                continue
            except ValueError:
                pass
        out.append(value[i])
        i += 1
    return "".join(out)
