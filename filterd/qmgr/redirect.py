"""REDIRECT as Postfix's queue manager applies it (qmgr_message_resolve): of the pending recipients, sorted as
qmgr sorts them (by domain, then address), the first goes to the redirect address with its DSN attributes and
its address kept as the original recipient; the others are dropped, logged nowhere. It is applied to the queue file
as read for each attempt, never written into it: the file keeps the recipients the client gave (postqueue -p lists
them, as Postfix's showq does), and the outcome is recorded under the redirect address."""

from __future__ import annotations

from filterd.queue.queuefile import QueueFile, Recipient


def sort_key(address: str) -> tuple[bool, str, str]:
    """qmgr_message_sort_compare before resolving: addresses without a domain last, then by domain (case
    ignored), then by the address itself."""
    at = address.rfind("@")
    return at < 0, address[at:].lower() if at >= 0 else "", address


def redirect(recipients: list[Recipient], target: str) -> list[Recipient]:
    """The recipients as the queue manager delivers them once REDIRECT `target` applies: those done, and one."""
    pending = [r for r in recipients if not r.done]
    if not pending or [r.address for r in pending] == [target]:
        return recipients
    first = min(pending, key=lambda r: sort_key(r.address))
    original = first.orig or first.address
    moved = Recipient(target, orcpt=first.orcpt, notify=first.notify, orig=original if original != target else "")
    return [r for r in recipients if r.done] + [moved]


def redirected(qf: QueueFile) -> QueueFile:
    """The queue file as an attempt delivers it: with the REDIRECT it was queued with applied to its recipients."""
    if qf.envelope.redirect:
        qf.envelope.recipients = redirect(qf.envelope.recipients, qf.envelope.redirect)
    return qf
