"""The reply filter of a DNS list (`zone=127.0.0.[2..4]`): Postfix's ip_match pattern for IPv4, four fields each a
number or a `[...]` of `;`-separated numbers and `n..m` ranges; a DNSBL answer counts only when it matches."""

from __future__ import annotations

from dataclasses import dataclass


def octet(text: str, pattern: str) -> int:
    """One number of a pattern, 0 to 255."""
    if not text.isdigit() or int(text) > 255:
        raise ValueError(f"RBL reply error: in \"{pattern}\": bad octet value: \"{text}\"")
    return int(text)


def field(text: str, pattern: str) -> frozenset[int]:
    """The values one field of the pattern allows."""
    if not (text.startswith("[") and text.endswith("]")):
        return frozenset({octet(text, pattern)})
    allowed: set[int] = set()
    for item in text[1:-1].split(";"):
        low, dots, high = item.partition("..")
        first, last = octet(low, pattern), octet(high if dots else low, pattern)
        if first > last:
            raise ValueError(f"RBL reply error: in \"{pattern}\": bad octet range: \"{item}\"")
        allowed.update(range(first, last + 1))
    return frozenset(allowed)


def fields_of(pattern: str) -> list[str]:
    """The pattern's fields: split at the dots outside `[...]`."""
    parts, current, inside = [], [], False
    for char in pattern:
        inside = (inside or char == "[") and char != "]"
        if char == "." and not inside:
            parts.append("".join(current))
            current = []
        else:
            current.append(char)
    return [*parts, "".join(current)]


@dataclass(frozen=True)
class AddressPattern:
    """An IPv4 address pattern: the values each of the four fields allows."""

    fields: tuple[frozenset[int], ...]

    @classmethod
    def parse(cls, pattern: str) -> AddressPattern:
        """The pattern; a ValueError says what is wrong, as Postfix refuses to start with it."""
        parts = fields_of(pattern)
        if len(parts) != 4:
            raise ValueError(f"RBL reply error: in \"{pattern}\": expected 4 address fields, found {len(parts)}")
        return cls(tuple(field(part, pattern) for part in parts))

    def matches(self, address: str) -> bool:
        """Whether an A record's address is one the pattern allows."""
        parts = address.split(".")
        return len(parts) == 4 and all(part.isdigit() and int(part) in allowed
                                       for part, allowed in zip(parts, self.fields))
