"""The after-queue stage: the `queue` hook on a message safely on disk, before delivery.

REJECT bounces the pending recipients, DEFER retries later, DISCARD drops the message, HOLD moves it
to the hold queue; REDIRECT, BCC, FILTER and edits rewrite the queue file (atomically) first. A REDIRECT, this
stage's or one the message was queued with, is applied to the file as read, as Postfix's queue manager applies it
(filterd.qmgr.redirect): the file keeps the recipients it was queued with. The stage runs once
per message (the queue file says when it is done), never on mail back from a filter, and a message with more
Received: headers than hopcount_limit is bounced before it reaches a filter again (a filter loop).
"""

from __future__ import annotations

import re
import tempfile

from filterd import maillog
from filterd.chain import Chain
from filterd.model import Envelope, Message, Session
from filterd.qmgr.delivery import soften
from filterd.qmgr.redirect import redirected
from filterd.queue.queuefile import QueueFile, Recipient
from filterd.queue.spool import Spool
from filterd.transaction import Transaction
from filterd.verdict import Action, Verdict


def load_message(qf: QueueFile, memory_limit: int = 262144) -> Message:
    """The queued content as a Message, the body spooled (never held whole in memory)."""
    return Message.from_chunks(qf.content(), tempfile.SpooledTemporaryFile(max_size=memory_limit))


def _session(qf: QueueFile) -> Session:
    env = qf.envelope
    name, _, address = env.client.partition("[")
    return Session(client_address=address.rstrip("]") or "127.0.0.1", client_name=name or "unknown",
                   helo=env.helo, protocol=env.protocol or "ESMTP", daemon_name="qmgr")


_RECEIVED = re.compile(rb"received[ \t]*:", re.I)
TOO_MANY_HOPS = Verdict.reject("554 5.4.0 too many hops")


def hop_count(qf: QueueFile) -> int:
    """The Received: headers of the queued message, as Postfix's cleanup counts hops."""
    count, pending = 0, b""
    for chunk in qf.content():
        lines = (pending + chunk).split(b"\n")
        pending = lines.pop()
        for line in lines:
            if line in (b"", b"\r"):
                return count
            count += bool(_RECEIVED.match(line))
    return count


class AfterQueue:
    """Runs the chain's `queue` hook for the queue manager."""

    def __init__(self, chain: Chain | None, soft_bounce: bool = False, hopcount_limit: int = 50):
        self.chain = chain
        self.soft_bounce = soft_bounce
        self.hopcount_limit = hopcount_limit

    async def run(self, spool: Spool, qf: QueueFile) -> tuple[QueueFile | None, bool]:
        """(the queue file to go on with or None when it left the active queue, whether to deliver)."""
        queued = qf.envelope.recipients
        qf = redirected(qf)
        env = qf.envelope
        wanted = self.chain is not None and self.chain.wants("queue")
        if env.filtered or not (wanted or env.filter):
            return qf, True
        if (hops := hop_count(qf)) >= self.hopcount_limit:
            maillog.warning("qmgr", "%s: filter loop: %d Received: headers, hopcount_limit is %d", env.queue_id,
                            hops, self.hopcount_limit)
            return self._final(spool, qf, TOO_MANY_HOPS, self.soft_bounce), False
        if not wanted:
            return qf, True
        return await self._filter(spool, qf, queued)

    async def _filter(self, spool: Spool, qf: QueueFile, queued: list[Recipient]) -> tuple[QueueFile | None, bool]:
        env = qf.envelope
        message = load_message(qf)
        envelope = Envelope(env.queue_id, env.sender, [r.address for r in env.pending()], arrival=env.arrival)
        txn = Transaction(_session(qf), envelope, message, service="qmgr")
        try:
            verdict = await self.chain.run("queue", txn)
            if verdict.final:
                return self._final(spool, qf, verdict, self.soft_bounce), False
            if txn.hold:
                spool.move(env.queue_id, "active", "hold")
                return None, False
            if txn.redirect or txn.bcc or txn.edits or txn.filter:
                return self._rewrite(spool, qf, txn, queued), True
            qf.mark_filtered()
            return qf, True
        finally:
            message.close()

    @staticmethod
    def _final(spool: Spool, qf: QueueFile, verdict: Verdict, soft_bounce: bool = False) -> QueueFile | None:
        env = qf.envelope
        if verdict.action is Action.DISCARD:
            spool.remove("active", env.queue_id)
            maillog.info("qmgr", "%s: removed", env.queue_id)
            return None
        code, dsn, text = verdict.reply()
        pending = env.pending()
        for rcpt in pending:
            rcpt.status = "bounced" if code >= 500 else "deferred"
            rcpt.dsn, rcpt.text, rcpt.relay = dsn, f"{code} {dsn} {text}", "none"
            if soft_bounce:
                soften(rcpt)
        qf.record_all(pending)
        return qf

    @staticmethod
    def _rewrite(spool: Spool, qf: QueueFile, txn: Transaction, queued: list[Recipient]) -> QueueFile:
        """The queue file written again with the stage's BCC recipients, REDIRECT, FILTER and edits; `queued` are its
        recipients as the file had them (a REDIRECT is applied to the file as read, not written into it)."""
        env = qf.envelope
        known = {r.address for r in queued}
        env.recipients = queued + [Recipient(a) for a in dict.fromkeys(txn.bcc) if a not in known]
        env.redirect = txn.redirect or env.redirect
        env.filter = txn.filter or env.filter
        env.filtered = True
        edited = txn.apply_edits()
        env.size = edited.size
        try:
            spool.store("active", env, edited.chunks())
        finally:
            edited.close()
        return redirected(QueueFile.read(str(spool.path("active", env.queue_id))))
