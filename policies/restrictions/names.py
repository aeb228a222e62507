"""Restriction names and the code each one runs: Postfix's names (permit_mynetworks, check_client_access, ...)
mapped to small functions, so that a module adds a restriction by decorating one.

    @restriction("permit_mynetworks")
    def permit_mynetworks(check): ...

    @restriction("check_client_access", argument=open_table)
    def check_client_access(check, table): ...

A restriction is called with the `Check` at hand (evaluation.py: `check.session`, `check.envelope`,
`check.recipient` (None before RCPT; after it, the only one), `check.protocol_state` (CONNECT, EHLO, HELO, MAIL,
RCPT, DATA, END-OF-MESSAGE), `check.settings`) and, when it takes an argument (the next word of the list, as
Postfix reads `check_client_access cidr:/etc/filterd/clients`), what `argument` made of that word at start-up: an
exception there stops filterd naming the parameter's main.cf line.
It answers None (no opinion, Postfix's DUNNO) or a Verdict: OK (permit: this list ends), REJECT or DEFER (the
evaluation ends), or a non-final action (HOLD, PREPEND, ...: kept, the list goes on). It may be a coroutine.
Its module is imported by the package's __init__.py, and the name is valid in every list and access table.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Callable

RESTRICTIONS: dict[str, Restriction] = {}
"""Every restriction name filterd knows, filled as the restriction modules are imported."""


@dataclass(frozen=True)
class Restriction:
    """A restriction's code and, when it takes the next word of the list, how that word is read at start-up."""

    name: str
    function: Callable[..., Any]
    argument: Callable[[str], Any] | None = None


def restriction(name: str, argument: Callable[[str], Any] | None = None) -> Callable:
    """Register the decorated function as restriction `name` (taking the next word when `argument` is given)."""
    def register(function: Callable[..., Any]) -> Callable[..., Any]:
        if name in RESTRICTIONS:
            raise ValueError(f"restriction {name} is registered twice")
        RESTRICTIONS[name] = Restriction(name, function, argument)
        return function
    return register
