"""The envelope as it will leave: REDIRECT, BCC and recipient/sender edits folded together, in order."""

from __future__ import annotations

from dataclasses import dataclass

from filterd.transaction import Transaction
from filterd.verdict import AddRecipient, ChangeSender, DeleteRecipient


@dataclass(frozen=True)
class Plan:
    """Sender and recipients after the chain; `restart` when the next hop must begin the transaction anew."""

    sender: str
    recipients: tuple[str, ...]
    added: tuple[str, ...]
    restart: bool


def plan(txn: Transaction) -> Plan:
    sender, original = txn.envelope.sender, list(txn.envelope.recipients)
    recipients = [txn.redirect] if txn.redirect else list(original)
    restart = bool(txn.redirect)
    for edit in txn.edits:
        if isinstance(edit, AddRecipient) and edit.address not in recipients:
            recipients.append(edit.address)
        elif isinstance(edit, DeleteRecipient) and edit.address in recipients:
            recipients.remove(edit.address)
            restart = True
        elif isinstance(edit, ChangeSender) and edit.address != sender:
            sender, restart = edit.address, True
    recipients += [address for address in txn.bcc if address not in recipients]
    added = tuple(r for r in recipients if r not in original)
    return Plan(sender, tuple(recipients), added, restart)


def then(first: Plan, second: Plan, original: tuple[str, ...]) -> Plan:
    """Two stages' plans as one, measured against the recipients the next hop was first given."""
    added = tuple(r for r in second.recipients if r not in original)
    return Plan(second.sender, second.recipients, added, first.restart or second.restart)
