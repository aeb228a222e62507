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
from filterd.received import received_header
from filterd.score import Scored
from filterd.transaction import Call, Transaction
from filterd.verdict import ENVELOPE_EDITS, Action, Edit, Verdict


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
    envelope_edits: list[Edit] = field(default_factory=list)
    """Changes to the sender and recipients (ChangeSender, AddRecipient, DeleteRecipient), for the front end."""
    symbols: list[Scored] = field(default_factory=list)
    """The symbols plugins added to the message's score, each with the plugin that added it."""

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


@dataclass(frozen=True)
class Client:
    """Who connects, as XCLIENT names it: ADDR, NAME (the reverse lookup's result), HELO, and PROTO (ESMTP after
    EHLO, SMTP after HELO)."""

    address: str = "127.0.0.1"
    name: str = "localhost"
    helo: str = "localhost"
    extended: bool = True


class Connection:
    """One client session through the front ends' lifecycle: connect and HELO, any number of mail transactions,
    disconnect. A connect or HELO verdict that refuses stays in force for every transaction of the session."""

    def __init__(self, chain: Chain, client: Client = Client(), myhostname: str = "localhost",
                 add_received: bool = False):
        session = Session(client_address=client.address, client_name=client.name)
        self.life = Lifecycle(chain, session, "check", [])
        self.client, self.myhostname, self.add_received = client, myhostname, add_received
        self.greeting = Verdict()
        """The HELO verdict; a final one refuses (or discards) every transaction."""

    async def open(self) -> None:
        """connect, then HELO or EHLO."""
        await resolved(self.life.connect())
        self.greeting = await resolved(self.life.helo(self.client.helo, self.client.extended))

    async def send(self, data: bytes, sender: str, recipients: list[str] | tuple[str, ...],
                   queue_id: str | None = None, arrival: float | None = None) -> Outcome:
        """One mail transaction, MAIL FROM to the end of the message; `queue_id` and `arrival` (the time of MAIL
        FROM) make its Received: header the same in two runs."""
        envelope = Envelope(queue_id=queue_id or new_queue_id(), sender=sender)
        rejects: dict[str, Verdict] = {}
        verdict = self.greeting if self.greeting.final else await self._envelope_stage(envelope, recipients, rejects)
        if verdict is not None:
            self.life.abort()
            return Outcome(verdict, _parsed(data, self.life.chain), envelope, self._taken_trace(), rejects)
        if arrival is not None:
            envelope.arrival = arrival
        txn = await self._content_stage(data, envelope)
        message = txn.apply_edits() if txn.final is None else txn.message
        return Outcome(txn.final, message, envelope, self._taken_trace(), rejects, txn.hold, txn.redirect,
                       txn.filter, list(txn.bcc), [e for e in txn.edits if isinstance(e, ENVELOPE_EDITS)],
                       txn.symbols)

    async def close(self) -> list[Call]:
        """The client goes away: what the disconnect hook's plugins said."""
        await resolved(self.life.disconnect())
        return self._taken_trace()

    def _taken_trace(self) -> list[Call]:
        """The plugin calls so far; the next ones go to a new list."""
        trace, self.life.trace = self.life.trace, []
        return trace

    async def _envelope_stage(self, envelope: Envelope, recipients: list[str] | tuple[str, ...],
                              rejects: dict[str, Verdict]) -> Verdict | None:
        """mail_from, each rcpt and data; the verdict that refuses the transaction, if one does."""
        life = self.life
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

    async def _content_stage(self, data: bytes, envelope: Envelope) -> Transaction:
        """The headers and body to their hooks (after the Received: header smtpd would add), then end_of_message."""
        life = self.life
        parser = ContentParser(io.BytesIO(), want_body_events=life.chain.wants("body"))
        life.txn.message = Message(parser.headers, parser.spool)
        if self.add_received:
            parser.headers.append(received_header(life.session, envelope, self.myhostname))
            await resolved(life.content([(HEADER, parser.headers[0])]))
        for line in crlf_lines([data]):
            await resolved(life.content(parser.feed_line(line)))
        return await resolved(life.end_of_message(parser.finish_events()))


def _parsed(data: bytes, chain: Chain) -> Message:
    """The message as received, for a transaction refused before its content."""
    parser = ContentParser(io.BytesIO(), want_body_events=chain.wants("body"))
    for line in crlf_lines([data]):
        parser.feed_line(line)
    parser.finish_events()
    return Message(parser.headers, parser.spool)


async def simulate(chain: Chain, data: bytes, sender: str = "sender@example.org",
                   recipients: tuple[str, ...] | list[str] = ("recipient@example.net",),
                   client_address: str = "127.0.0.1", client_name: str = "localhost",
                   helo: str = "localhost", myhostname: str = "localhost", add_received: bool = False,
                   extended: bool = True) -> Outcome:
    """Run connect .. end_of_message and disconnect on `data` as if a client had sent it in a session of its
    own, through the front ends' lifecycle."""
    connection = Connection(chain, Client(client_address, client_name, helo, extended), myhostname, add_received)
    await connection.open()
    outcome = await connection.send(data, sender, recipients)
    outcome.trace.extend(await connection.close())
    return outcome
