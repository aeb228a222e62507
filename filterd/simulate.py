"""Running the chain on a message without any network: for `filterd check` and `filterd.testing`.

It walks the same hooks, in the same order, through the same Chain the front ends use.
"""

from __future__ import annotations

import io
from dataclasses import dataclass, field

from filterd.chain import Chain
from filterd.model import Envelope, Message, Session
from filterd.queueid import new_queue_id
from filterd.content import HEADER, ContentParser, crlf_lines
from filterd.lifecycle import Lifecycle, refuses, resolved
from filterd.smtp.received import received_header
from filterd.transaction import Call
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
    """Run connect .. end_of_message on `data` as if a client had sent it, through the front ends' lifecycle."""
    session = Session(client_address=client_address, client_name=client_name)
    trace: list[Call] = []
    life = Lifecycle(chain, session, "check", trace)
    envelope = Envelope(queue_id=new_queue_id(), sender=sender)
    rejects: dict[str, Verdict] = {}
    verdict = await _envelope_stage(life, helo, envelope, list(recipients), rejects)
    parser = ContentParser(io.BytesIO(), want_body_events=chain.wants("body"))
    if verdict is not None:
        for line in crlf_lines([data]):
            parser.feed_line(line)
        parser.finish_events()
        return Outcome(verdict, Message(parser.headers, parser.spool), envelope, trace, rejects)
    life.txn.message = Message(parser.headers, parser.spool)
    if add_received:
        parser.headers.append(received_header(session, envelope, myhostname))
        await resolved(life.content([(HEADER, parser.headers[0])]))
    for line in crlf_lines([data]):
        await resolved(life.content(parser.feed_line(line)))
    txn = await resolved(life.end_of_message(parser.finish_events()))
    message = txn.apply_edits() if txn.final is None else txn.message
    return Outcome(txn.final, message, envelope, trace, rejects, txn.hold, txn.redirect, txn.filter, list(txn.bcc))


async def _envelope_stage(life: Lifecycle, helo: str, envelope: Envelope, recipients: list[str],
                          rejects: dict[str, Verdict]) -> Verdict | None:
    """connect, helo, mail_from, each rcpt and data; the verdict that refuses the transaction, if one does."""
    await resolved(life.connect())
    verdict = await resolved(life.helo(helo))
    if not verdict.final:
        verdict = await resolved(life.mail(envelope.sender, envelope=envelope))
    if refuses(verdict):
        return verdict
    for rcpt in recipients:
        verdict = await resolved(life.rcpt(rcpt))
        if refuses(verdict):
            rejects[rcpt] = verdict
        else:
            life.add_recipient(rcpt)
    if not envelope.recipients:
        return next(iter(rejects.values()), Verdict.reject("5.5.1 Error: no valid recipients", 554))
    verdict = await resolved(life.data())
    return verdict if refuses(verdict) else None
