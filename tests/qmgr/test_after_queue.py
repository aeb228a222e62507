"""The after-queue stage once per message, never on mail back from a filter, and a filter loop bounced."""

from __future__ import annotations

import asyncio

from filterd import hookimpl
from filterd.chain import Chain
from filterd.qmgr.after_queue import AfterQueue, hop_count
from filterd.queue.queuefile import QueueEnvelope, QueueFile, Recipient
from filterd.queue.spool import Spool
from filterd.registry import Plugins
from filterd.verdict import Verdict


class Counting:
    """A queue hook that counts its calls."""

    calls = 0

    @hookimpl
    def queue(self, envelope):
        Counting.calls += 1
        return Verdict()


def store(spool: Spool, content: bytes, **fields) -> QueueFile:
    env = QueueEnvelope("4Q1", "a@example.org", [Recipient("b@example.net")], 0.0, size=len(content), **fields)
    spool.store("active", env, iter([content]))
    return QueueFile.read(str(spool.path("active", "4Q1")))


def after_queue() -> AfterQueue:
    return AfterQueue(Chain(Plugins.load(["counting"], {"counting": Counting()}), 10.0, "tempfail"), hopcount_limit=3)


def test_the_stage_runs_once_and_the_queue_file_remembers(tmp_path):
    spool, Counting.calls = Spool(tmp_path).create(), 0
    qf = store(spool, b"Subject: x\r\n\r\nbody\r\n")
    stage = after_queue()
    asyncio.run(stage.run(spool, qf))
    asyncio.run(stage.run(spool, QueueFile.read(qf.path)))
    assert Counting.calls == 1 and QueueFile.read(qf.path).envelope.filtered


def test_mail_back_from_a_filter_is_not_filtered(tmp_path):
    spool, Counting.calls = Spool(tmp_path).create(), 0
    asyncio.run(after_queue().run(spool, store(spool, b"Subject: x\r\n\r\nbody\r\n", filtered=True)))
    assert Counting.calls == 0


def test_a_message_over_hopcount_limit_is_bounced_before_any_filter(tmp_path):
    spool, Counting.calls = Spool(tmp_path).create(), 0
    content = b"Received: from a\r\nReceived: from b\r\n\tby c\r\nreceived: from d\r\nSubject: x\r\n\r\nReceived: body\r\n"
    qf = store(spool, content, filter="smtp:[127.0.0.1]:10025")
    assert hop_count(qf) == 3
    left, deliver = asyncio.run(after_queue().run(spool, qf))
    assert not deliver and Counting.calls == 0
    [rcpt] = left.envelope.recipients
    assert (rcpt.status, rcpt.dsn, rcpt.text) == ("bounced", "5.4.0", "554 5.4.0 too many hops")


def test_a_redirect_queued_with_the_message_is_applied_to_the_file_as_read_and_not_written_into_it(tmp_path):
    """As Postfix's qmgr: postqueue -p goes on listing the recipients the client gave, and each attempt redirects the
    first pending one again."""
    spool = Spool(tmp_path).create()
    content = b"Subject: x\r\n\r\nbody\r\n"
    env = QueueEnvelope("4Q1", "a@example.org", [Recipient("b@example.net", notify="SUCCESS"), Recipient("a@example.net")],
                        0.0, size=len(content), redirect="new@example.org", filter="smtp:[127.0.0.1]:10025")
    spool.store("active", env, iter([content]))
    left, deliver = asyncio.run(AfterQueue(None).run(spool, QueueFile.read(str(spool.path("active", "4Q1")))))
    assert deliver and left.envelope.recipients == [Recipient("new@example.org", orig="a@example.net")]
    again = QueueFile.read(left.path)
    assert again.envelope.recipients == env.recipients and b"".join(again.content()) == content
    [moved] = left.envelope.recipients
    moved.status, moved.dsn, moved.text = "deferred", "4.4.1", "connect to example.org: Connection refused"
    left.record(moved)
    retried, _ = asyncio.run(AfterQueue(None).run(spool, QueueFile.read(str(spool.path("active", "4Q1")))))
    assert retried.envelope.recipients == [Recipient("new@example.org", orig="a@example.net")]
