"""Running the chain on a message without any network: for `filterd check` and `filterd.testing`.

It walks the same hooks, in the same order, through the same Chain the front ends use.
"""

from __future__ import annotations

import io
import time
from dataclasses import dataclass, field

from filterd.chain import Chain
from filterd.model import Envelope, Message, Session
from filterd.queueid import new_queue_id
from filterd.content import HEADER, ContentParser, crlf_lines, run_events
from filterd.smtp.received import received_header
from filterd.transaction import Call, Transaction
from filterd.verdict import Action, Verdict


@dataclass
class Outcome:
    """What the chain decided for one message, and the message as it would leave."""

    verdict: Verdict | None
    message: Message
    envelope: Envelope
    trace: list[Call]
    rejected_recipients: dict[str, Verdict] = field(default_factory=dict)
    hold: str | None = None
    redirect: str | None = None
    filter: str | None = None
    bcc: list[str] = field(default_factory=list)

    @property
    def action(self) -> Action:
        """The transaction's fate: REJECT, DEFER or DISCARD when final, HOLD when held, else DUNNO (delivered)."""
        if self.verdict is not None:
            return self.verdict.action
        return Action.HOLD if self.hold else Action.DUNNO

    @property
    def accepted(self) -> bool:
        return self.verdict is None

    def header(self, name: str) -> str | None:
        return self.message.get(name)


async def simulate(chain: Chain, data: bytes, sender: str = "sender@example.org",
                   recipients: tuple[str, ...] | list[str] = ("recipient@example.net",),
                   client_address: str = "127.0.0.1", client_name: str = "localhost",
                   helo: str = "localhost", myhostname: str = "localhost", add_received: bool = False) -> Outcome:
    """Run connect .. end_of_message on `data` as if a client had sent it."""
    session = Session(client_address=client_address, client_name=client_name, helo=helo, protocol="ESMTP")
    envelope = Envelope(queue_id=new_queue_id(), sender=sender, arrival=time.time())
    txn = Transaction(session, envelope, trace=[], service="check")
    outcome_rejects: dict[str, Verdict] = {}
    verdict = await _envelope_stage(chain, txn, helo, list(recipients), outcome_rejects)
    parser = ContentParser(io.BytesIO(), want_body_events=chain.wants("body"))
    txn.message = Message(parser.headers, parser.spool)
    if verdict is None:
        if add_received:
            parser.headers.append(received_header(session, envelope, myhostname))
            await run_events(chain, txn, [(HEADER, parser.headers[0])])
        for line in crlf_lines([data]):
            await run_events(chain, txn, parser.feed_line(line))
        await run_events(chain, txn, parser.finish_events())
        if txn.final is None:
            await chain.run("end_of_message", txn)
        verdict = txn.final
    else:
        for line in crlf_lines([data]):
            parser.feed_line(line)
        parser.finish_events()
    message = txn.apply_edits() if verdict is None else txn.message
    return Outcome(verdict, message, envelope, txn.trace or [], outcome_rejects, txn.hold, txn.redirect,
                   txn.filter, list(txn.bcc))


async def _envelope_stage(chain: Chain, txn: Transaction, helo: str, recipients: list[str],
                          rejects: dict[str, Verdict]) -> Verdict | None:
    for hook, kwargs in (("connect", {}), ("helo", {"hostname": helo}), ("mail_from", {"sender": txn.envelope.sender})):
        verdict = await chain.run(hook, txn, **kwargs)
        if verdict.final:
            return verdict
    for rcpt in recipients:
        txn.final = None
        verdict = await chain.run("rcpt", txn, recipient=rcpt)
        if verdict.final:
            rejects[rcpt] = verdict
        else:
            txn.envelope.recipients.append(rcpt)
    txn.final = None
    if not txn.envelope.recipients:
        return next(iter(rejects.values()), Verdict.reject("5.5.1 Error: no valid recipients", 554))
    verdict = await chain.run("data", txn)
    return verdict if verdict.final else None
