"""Restriction classes (smtpd_restriction_classes): a name that stands for a restriction list of its own
parameter, usable in every list and as an access table's result, as Postfix's are."""

from __future__ import annotations

from filterd import Verdict

from .evaluation import Check, evaluate
from .lists import Item
from .names import Restriction


def restriction_class(name: str, lists: dict[str, tuple[Item, ...]]) -> Restriction:
    """The class `name` as a restriction: its list (looked up in `lists` when asked, so that classes may name
    each other in any order), evaluated in place; its permit is the enclosing list's."""
    async def apply_class(check: Check) -> Verdict | None:
        return await evaluate(lists[name], check)

    apply_class.__doc__ = f"The restriction class {name}."
    return Restriction(name, apply_class)
