"""The plugins on a message from stdin, streamed into a spool as an SMTP session would feed it, then the
after-queue `queue` hook: what a simple filter decides in one run."""

from __future__ import annotations

import tempfile
from dataclasses import dataclass
from typing import IO

from filterd.chain import Chain
from filterd.content import ContentParser, crlf_lines
from filterd.lifecycle import Lifecycle, refuses, resolved
from filterd.model import Envelope, Message, Session
from filterd.queueid import new_queue_id
from filterd.transaction import Transaction
from filterd.verdict import Verdict


@dataclass
class Judged:
    """The chain's refusal (None: accepted), the message as it leaves, its envelope as it leaves, and the queue id
    its log lines carry."""

    verdict: Verdict | None
    message: Message
    sender: str
    recipients: list[str]
    queue_id: str


def _chunks(stdin: IO[bytes]):
    while chunk := stdin.read(65536):
        yield chunk


async def judge(chain: Chain, sender: str, recipients: list[str], stdin: IO[bytes], memory: int) -> Judged:
    session = Session(client_address="127.0.0.1", client_name="localhost", helo="localhost", protocol="SMTP",
                      daemon_name="pipe")
    life = Lifecycle(chain, session, "pipe")
    spool = tempfile.SpooledTemporaryFile(max_size=memory)
    parser = ContentParser(spool, want_body_events=chain.wants("body"))
    message = Message(parser.headers, parser.spool)
    envelope = Envelope(queue_id=new_queue_id(), sender=sender)
    verdict = await _envelope(life, envelope, recipients)
    if verdict is not None:
        return Judged(verdict, message, sender, recipients, envelope.queue_id)
    life.txn.message = message
    for line in crlf_lines(_chunks(stdin)):
        await resolved(life.content(parser.feed_line(line)))
    txn = await resolved(life.end_of_message(parser.finish_events()))
    if txn.final is not None:
        return Judged(txn.final, message, sender, recipients, envelope.queue_id)
    return await _after_queue(chain, session, envelope, txn)


async def _envelope(life: Lifecycle, envelope: Envelope, recipients: list[str]) -> Verdict | None:
    """connect, helo, mail_from, each rcpt and data; a refusal of the whole message, if one comes."""
    for step in (life.connect, lambda: life.helo("localhost"), lambda: life.mail(envelope.sender, envelope=envelope)):
        if refuses(verdict := await resolved(step())):
            return verdict
    for rcpt in recipients:
        if refuses(verdict := await resolved(life.rcpt(rcpt))):
            return verdict
        life.add_recipient(rcpt)
    verdict = await resolved(life.data())
    return verdict if refuses(verdict) else None


async def _after_queue(chain: Chain, session: Session, envelope: Envelope, txn: Transaction) -> Judged:
    """The queue hook on the message as the earlier stages left it; REDIRECT and BCC change the recipients."""
    edited = txn.apply_edits()
    recipients = [txn.redirect] if txn.redirect else list(envelope.recipients)
    recipients += [a for a in txn.bcc if a not in recipients]
    after = Transaction(session, Envelope(envelope.queue_id, envelope.sender, recipients), edited, service="pipe")
    verdict = await chain.run("queue", after)
    if verdict.final:
        return Judged(verdict, edited, envelope.sender or "", recipients, envelope.queue_id)
    final = [after.redirect] if after.redirect else recipients
    final += [a for a in after.bcc if a not in final]
    return Judged(None, after.apply_edits(), envelope.sender or "", final, envelope.queue_id)
