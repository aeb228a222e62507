"""Table names as Postfix writes them in main.cf: lists of `type:name`, and `{ ... }` inline text.

Braces group text that contains separators, as Postfix's mystrtokq(3) and extpar(3) do, so that
`pcre:/a, inline:{ k=v, k2=v2 }` is two tables and `regexp:{ {/a/ x}, {/b/ y} }` is two rules.
"""

from __future__ import annotations

from filterd.tables.notices import TableError

SEPARATORS = ", \t\r\n"


def split_quoted(text: str, separators: str = SEPARATORS) -> list[str]:
    """Split at separators outside {...}; an unbalanced brace keeps the rest as one item."""
    items, current, depth = [], [], 0
    for c in text:
        if c in separators and depth == 0:
            if current:
                items.append("".join(current))
                current = []
            continue
        depth += (c == "{") - (c == "}" and depth > 0)
        current.append(c)
    if current:
        items.append("".join(current))
    return items


def split_specs(value: str) -> list[str]:
    """The tables of a list-valued parameter such as `header_checks = pcre:a, regexp:b`."""
    return split_quoted(value)


def unbrace(spec: str, text: str) -> str:
    """The inside of `{ text }` without surrounding whitespace; a TableError if it is not braced."""
    stripped = text.strip()
    if not stripped.startswith("{"):
        raise TableError(spec, None, f'syntax error: expected "{{", got "{stripped}"')
    depth = 0
    for i, c in enumerate(stripped):
        depth += (c == "{") - (c == "}")
        if depth == 0:
            if stripped[i + 1:].strip():
                raise TableError(spec, None, f"syntax error after '}}' in \"{stripped}\"")
            return stripped[1:i].strip()
    raise TableError(spec, None, f"missing '}}' in \"{text.lstrip()}\"")


def braced_items(spec: str, text: str) -> list[str]:
    """The items of `{ a, { b c }, ... }`, each without its own braces and outer whitespace."""
    items = split_quoted(unbrace(spec, text))
    return [unbrace(spec, item) if item.startswith("{") else item for item in items]


def inline_rules(spec: str, name: str) -> bytes:
    """`{ {rule-1}, {rule-2} }` as the in-memory file Postfix writes: one rule per line; an error is worded as
    Postfix's `regexp map: ...`."""
    kind = spec.partition(":")[0]
    try:
        items = split_quoted(unbrace(spec, name))
        for item in items:
            if not item.startswith("{"):
                raise TableError(spec, None, f"no '{{' at start of text in \"{item}\"")
        rules = [unbrace(spec, item) for item in items]
    except TableError as exc:
        raise TableError(spec, None, f"{kind} map: {exc.message}") from None
    return "".join(rule + "\n" for rule in rules).encode("utf-8", "surrogateescape")
