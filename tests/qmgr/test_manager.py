"""The queue manager: queue files it cannot trust go to the corrupt queue, and incoming goes into active a bounded
number at a time."""

from __future__ import annotations

import asyncio
import json

from filterd.qmgr.after_queue import AfterQueue
from filterd.qmgr.manager import ACTIVATIONS_PER_SCAN, QueueManager, Schedule
from filterd.queue.queuefile import MAGIC, QueueEnvelope, Recipient
from filterd.queue.spool import Spool

CONTENT = b"Subject: hi\r\n\r\nbody\r\n"


def manager(tmp_path) -> QueueManager:
    return QueueManager(Spool(tmp_path / "spool").create(), Schedule(), None, AfterQueue(None), "mx.example")


def place(qmgr: QueueManager, queue: str, qid: str, **changes) -> None:
    record = json.loads(QueueEnvelope(qid, "a@example.org", [Recipient("b@example.net")], arrival=1.0,
                                      size=len(CONTENT)).to_json())
    record.update(changes)
    envelope = json.dumps(record).encode()
    qmgr.spool.path(queue, qid).write_bytes(MAGIC + str(len(envelope)).encode() + b"\n" + envelope + b"\n" + CONTENT)


def test_an_envelope_field_of_another_type_goes_to_the_corrupt_queue(tmp_path):
    """Found by fuzzing the reader: {"arrival": "soon"} passed it, delivery failed, and deferring the message
    raised TypeError out of the manager's task, leaving the file in the active queue."""
    qmgr = manager(tmp_path)
    place(qmgr, "active", "4AAAAAAAAAzA", arrival="soon")
    asyncio.run(qmgr._process("4AAAAAAAAAzA", 0.0))
    assert qmgr.spool.ids("corrupt") == ["4AAAAAAAAAzA"] and qmgr.spool.ids("active") == []


def test_a_file_holding_another_queue_id_goes_to_the_corrupt_queue(tmp_path):
    """The manager moves and removes a message by the queue id inside: one that names another file (or a path)
    would move that one instead."""
    qmgr = manager(tmp_path)
    place(qmgr, "maildrop", "4BBBBBBBBBzB", queue_id="../incoming/4CCCCCCCCCzC")
    place(qmgr, "active", "4DDDDDDDDDzD", queue_id="4EEEEEEEEEzE")
    qmgr._pickup("4BBBBBBBBBzB")
    asyncio.run(qmgr._process("4DDDDDDDDDzD", 0.0))
    assert qmgr.spool.ids("corrupt") == ["4BBBBBBBBBzB", "4DDDDDDDDDzD"]


def test_a_scan_moves_a_bounded_number_of_messages_into_active(tmp_path):
    """The scan runs in the loop that reads the next hops' replies: however full incoming is, it takes at most
    ACTIVATIONS_PER_SCAN messages, oldest first, and the next scan takes the next ones."""
    qmgr, started = manager(tmp_path), []
    ids = [f"4jg{n:04d}AAAAzA" for n in range(ACTIVATIONS_PER_SCAN + 5)]
    for qid in ids:
        place(qmgr, "incoming", qid)

    async def process(qid: str, activated: float) -> None:
        started.append(qid)

    async def two_scans() -> None:
        qmgr._process = process
        assert qmgr.scan() == ACTIVATIONS_PER_SCAN
        await asyncio.sleep(0)
        assert started == ids[:ACTIVATIONS_PER_SCAN] and qmgr.spool.ids("incoming") == ids[ACTIVATIONS_PER_SCAN:]
        assert qmgr.scan() == 5
        await asyncio.sleep(0)

    asyncio.run(two_scans())
    assert started == ids and qmgr.spool.ids("active") == ids
