"""Restriction lists as main.cf writes them (`permit_mynetworks, check_client_access cidr:/etc/filterd/clients,
reject`): words in order, each a restriction name, some followed by their argument. Read once at start-up; a
name filterd does not know is an error naming it and the closest known one."""

from __future__ import annotations

import difflib
from dataclasses import dataclass
from typing import Any

from .names import RESTRICTIONS, Restriction


@dataclass(frozen=True)
class Item:
    """One restriction of a list, with what its argument became."""

    restriction: Restriction
    argument: Any = None
    word: str = ""

    @property
    def name(self) -> str:
        return self.restriction.name


def words(text: str) -> list[str]:
    """The words of a list, split on commas and whitespace outside braces: `inline:{ {a=b c}, d=e }` is one word."""
    found, word, depth = [], [], 0
    for char in text:
        depth += (char == "{") - (char == "}" and depth > 0)
        if depth == 0 and (char == "," or char.isspace()):
            found.append("".join(word))
            word = []
        else:
            word.append(char)
    found.append("".join(word))
    return [item for item in found if item]


def parse(text: str, classes: dict[str, Restriction] | None = None) -> tuple[Item, ...]:
    """The items of a restriction list, where `classes` are the restriction classes' names too; ValueError says
    what is wrong (unknown name, missing argument)."""
    found, pending = [], words(text)
    while pending:
        name = pending.pop(0)
        known = RESTRICTIONS.get(name.lower()) or (classes or {}).get(name)
        if known is None:
            raise ValueError(unknown(name))
        if known.argument is None:
            found.append(Item(known))
            continue
        if not pending:
            raise ValueError(f'restriction "{known.name}" requires an argument')
        word = pending.pop(0)
        try:
            found.append(Item(known, known.argument(word), word))
        except Exception as exc:
            raise ValueError(f"{known.name} {word}: {exc}") from None
    return tuple(found)


def unknown(name: str) -> str:
    close = difflib.get_close_matches(name.lower(), sorted(RESTRICTIONS), 1)
    hint = f' (did you mean "{close[0]}"?)' if close else ""
    return f'unknown restriction "{name}"{hint}'


def names(items: tuple[Item, ...]) -> set[str]:
    return {item.name for item in items}
