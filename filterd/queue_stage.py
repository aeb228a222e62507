"""The after-queue `queue` hook where filterd writes no queue file: `filterd pipe` and the `filter` listener run it
in one go after the earlier stages, on the message as they left it, while the MTA in front keeps the message queued."""

from __future__ import annotations

from dataclasses import dataclass

from filterd import reroute
from filterd.chain import Chain
from filterd.handoff import Routing
from filterd.model import Envelope, Message
from filterd.transaction import Transaction
from filterd.verdict import Verdict


@dataclass
class AfterQueue:
    """The stage's verdict, its transaction (routing and edits still to apply) and the envelope as the message
    leaves: the earlier stages' REDIRECT, BCC and envelope edits, then the stage's own."""

    verdict: Verdict
    txn: Transaction
    plan: reroute.Plan

    def routing(self, earlier: Routing) -> Routing:
        """The earlier stages' HOLD, FILTER, REDIRECT and BCC with the stage's own: its HOLD, FILTER and REDIRECT
        win, BCCs add up."""
        txn = self.txn
        return Routing(txn.hold or earlier.hold, txn.filter or earlier.filter, txn.redirect or earlier.redirect,
                       tuple(dict.fromkeys(earlier.bcc + tuple(txn.bcc))))


async def run(chain: Chain, txn: Transaction, message: Message) -> AfterQueue:
    """The queue hook on `message` (the earlier stages' edits applied) for the envelope they rerouted."""
    original = tuple(txn.envelope.recipients)
    first = reroute.plan(txn)
    envelope = Envelope(txn.envelope.queue_id, first.sender, list(first.recipients), list(txn.envelope.mail_options),
                        arrival=txn.envelope.arrival)
    after = Transaction(txn.session, envelope, message, service=txn.service)
    verdict = await chain.run("queue", after)
    return AfterQueue(verdict, after, reroute.then(first, reroute.plan(after), original))
