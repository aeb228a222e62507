"""The plugins on a message from stdin, streamed into a spool as an SMTP session would feed it, then the
after-queue `queue` hook: what a simple filter decides in one run."""

from __future__ import annotations

import tempfile
from dataclasses import dataclass
from typing import IO

from filterd import queue_stage
from filterd.chain import Chain
from filterd.content import ContentParser, crlf_lines
from filterd.lifecycle import Lifecycle, refuses, resolved
from filterd.model import Envelope, Message, Session
from filterd.queueid import new_queue_id
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
    after = await queue_stage.run(chain, txn, txn.apply_edits())
    if after.verdict.final:
        return Judged(after.verdict, after.txn.message, after.txn.envelope.sender or "",
                      after.txn.envelope.recipients, envelope.queue_id)
    return Judged(None, after.txn.apply_edits(), after.plan.sender or "", list(after.plan.recipients),
                  envelope.queue_id)


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
