"""Headers between filterd's form (a `Header` holding `Name: value\\r\\n`, folding kept) and the milter's
(name and value apart, folded lines joined by LF, the space after the colon sent only with HDR_LEADSPC)."""

from __future__ import annotations

from filterd.content import Header, decode, encode


def to_header(name: str, value: str, leading_space: bool, limit: int = 102400) -> Header:
    """The Header as received; without HDR_LEADSPC the MTA ate the space after the colon."""
    folded = encode(value).replace(b"\r\n", b"\n").replace(b"\n", b"\r\n")
    raw = encode(name) + (b":" if leading_space else b": ") + folded + b"\r\n"
    if len(raw) > limit:
        raw = raw[:max(limit - 2, 0)].rstrip(b"\r\n") + b"\r\n"
    return Header(raw)


def from_header(header: Header, leading_space: bool) -> tuple[str, str]:
    """Name and value as a milter request carries them."""
    _, _, rest = header.raw.partition(b":")
    value = rest.rstrip(b"\r\n").replace(b"\r\n", b"\n")
    if not leading_space and value[:1] == b" ":
        value = value[1:]
    return header.name, decode(value)


def header_line(text: str) -> Header:
    """A header from a PREPEND or REPLACE text "Name: value"."""
    return Header(encode(text.rstrip("\r\n")) + b"\r\n")
