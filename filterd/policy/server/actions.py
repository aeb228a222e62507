"""The chain's decision on a policy request as one access(5) action, the reply Postfix's check_policy_service
acts on: a final verdict as its SMTP reply (`550 5.7.1 text`, `450 4.7.1 text`) or DISCARD, OK as OK, and
otherwise what the request's hooks asked of the message, HOLD, REDIRECT, FILTER, PREPEND or BCC, else DUNNO.

One request has one reply: when the hooks asked for more than one of these, the first in that order is answered
and the others are named in a warning. Edits a policy reply cannot carry (recipients, body) are dropped."""

from __future__ import annotations

from dataclasses import dataclass

from filterd.edits import Before
from filterd.transaction import Transaction
from filterd.verdict import Action, AddHeader, InsertHeader, Verdict


@dataclass(frozen=True)
class Asked:
    """What a transaction had asked of its message at one moment: compared before and after a request's hooks."""

    hold: str | None = None
    redirect: str | None = None
    filter: str | None = None
    bcc: int = 0
    edits: int = 0

    @classmethod
    def of(cls, txn: Transaction | None) -> Asked:
        if txn is None:
            return cls()
        return cls(txn.hold, txn.redirect, txn.filter, len(txn.bcc), len(txn.edits))


def action(verdict: Verdict) -> str | None:
    """The action of a verdict that decides by itself (REJECT, DEFER, DISCARD, OK); None for the others."""
    if verdict.action is Action.DISCARD:
        return f"DISCARD {verdict.text}".rstrip()
    if verdict.final:
        return " ".join(map(str, verdict.reply()))
    return "OK" if verdict.action is Action.OK else None


def requested(before: Asked, txn: Transaction | None) -> list[str]:
    """The actions the request's hooks added to the transaction, in the order a reply prefers them."""
    if txn is None:
        return []
    found = [f"HOLD {txn.hold}" if txn.hold != "hold" else "HOLD"] if txn.hold != before.hold else []
    if txn.redirect != before.redirect:
        found.append(f"REDIRECT {txn.redirect}")
    if txn.filter != before.filter:
        found.append(f"FILTER {txn.filter}")
    found.extend(f"PREPEND {header}" for edit in txn.edits[before.edits:] if (header := _prepended(edit)))
    found.extend(f"BCC {address}" for address in txn.bcc[before.bcc:])
    return found


def _prepended(edit: object) -> str | None:
    """A header edit as PREPEND's `name: value`; None for an edit a policy reply cannot carry."""
    if isinstance(edit, Before) and edit.target is None:
        return edit.text
    if isinstance(edit, (AddHeader, InsertHeader)):
        return f"{edit.name}: {edit.value}"
    return None
