"""The delivery agent process beside the queue manager, as Postfix's smtp(8) and local(8) beside qmgr(8): the
manager hands it one active message at a time over a socket pair, and hears back once every recipient's outcome
is in the queue file (the outcomes in the answer, so that the manager need not read the file again).

Apart so that nothing but deliveries shares the loop that reads a next hop's 250: the manager's scans, renames,
queue-file reads and after-queue filters would delay that read, and a reply waiting to be read is a message that
a crash delivers twice. The agent lives and dies with its manager: one gone without a word (kill -9) takes the
other. An agent whose manager went finishes the deliveries in progress first, as Postfix's smtp(8) finishes one its
qmgr no longer waits for, and the next manager waits for it (`wait_for_agent`) before it takes the active messages
back, so that none is delivered twice by two agents.
"""

from __future__ import annotations

import asyncio
import fcntl
import json
import os
import socket
from typing import Callable

from filterd import maillog
from filterd.qmgr.delivery import Attempt, Deliverer
from filterd.qmgr.redirect import redirected
from filterd.queue.queuefile import CorruptQueueFile, QueueFile, status_record, take_status
from filterd.queue.spool import PID_DIRECTORY, Spool

QUIT = b'{"quit": true}\n'
"""The manager's last words: stop taking messages, QUIT the cached connections and exit."""
FLUSH = b'{"flush": true}\n'
"""postqueue -f: dead destinations are tried again."""
LINE_LIMIT = 65536
ORPHAN_GRACE = 30.0
"""How long an agent whose manager is gone goes on with the deliveries in progress (their replies recorded) before
it leaves; the next manager waits that long at most."""
LOCK_FILE = "qmgr.lock"


class AgentFailed(Exception):
    """The agent could not deliver a message (its own log line says why): the manager defers it."""


class RemoteDeliverer:
    """The manager's side: a Deliverer whose deliveries the agent process makes."""

    def __init__(self, sock: socket.socket, spool: Spool, lost: Callable[[], None]):
        self.sock, self.spool, self.lost = sock, spool, lost
        self._writer: asyncio.StreamWriter | None = None
        self._waiting: dict[str, asyncio.Future] = {}
        self._replies: asyncio.Task | None = None
        self._opening: asyncio.Future | None = None
        self._stopping = False

    async def deliver(self, attempt: Attempt) -> None:
        """Have the agent try every pending recipient once; attempt.qf is then the queue file as it recorded
        them."""
        writer = await self._open()
        qid = attempt.qf.envelope.queue_id
        reply = self._waiting[qid] = asyncio.get_running_loop().create_future()
        writer.write(json.dumps({"q": qid, "a": attempt.activated, "f": attempt.first}).encode() + b"\n")
        answer = await reply
        if answer.get("gone"):
            raise FileNotFoundError(qid)
        if answer.get("x"):
            raise AgentFailed(answer["x"])
        _take_statuses(attempt.qf, answer.get("r", []))

    async def _open(self) -> asyncio.StreamWriter:
        """The stream to the agent, opened by the first delivery; those that come meanwhile wait for it."""
        if self._opening is None:
            self._opening = asyncio.ensure_future(asyncio.open_connection(sock=self.sock, limit=LINE_LIMIT))
        reader, writer = await asyncio.shield(self._opening)
        if self._writer is None:
            self._writer = writer
            self._replies = asyncio.get_running_loop().create_task(self._read_replies(reader))
        return writer

    async def _read_replies(self, reader: asyncio.StreamReader) -> None:
        try:
            while line := await reader.readline():
                answer = json.loads(line)
                future = self._waiting.pop(answer["q"], None)
                if future is not None and not future.done():
                    future.set_result(answer)
        except OSError:
            pass
        if self._stopping:
            return
        maillog.error("qmgr", "fatal: the delivery agent exited with %d messages in delivery", len(self._waiting))
        self.lost()

    def flush_dead(self) -> None:
        """Have the agent try dead destinations again at once (the queue was flushed)."""
        if self._writer is not None:
            self._writer.write(FLUSH)

    async def stop(self) -> None:
        """The manager is done: the agent QUITs its cached connections and exits."""
        self._stopping = True
        if self._writer is not None:
            self._writer.write(QUIT)
            await self._writer.drain()
            if self._replies is not None:
                await asyncio.wait([self._replies], timeout=10)

    def close(self) -> None:
        if self._replies is not None:
            self._replies.cancel()
        if self._writer is not None:
            self._writer.close()
        else:
            self.sock.close()


def _take_statuses(qf: QueueFile, records: list[dict]) -> None:
    """What the agent recorded in the queue file, told in its answer: the manager need not read the file again."""
    by_address = {rcpt.address: rcpt for rcpt in qf.envelope.recipients}
    for record in records:
        take_status(by_address, record)


def _active(spool: Spool, qid: str) -> QueueFile:
    """The message's queue file in the active queue; FileNotFoundError when it was moved away (postsuper)."""
    try:
        return QueueFile.read(str(spool.path("active", qid)))
    except CorruptQueueFile as exc:
        if isinstance(exc.__cause__, FileNotFoundError):
            raise exc.__cause__ from None
        raise


def wait_for_agent(spool: Spool) -> int:
    """Lock $queue_directory/pid/qmgr.lock for this manager and the agent it forks (they share the descriptor),
    first waiting for the agent of a manager that died to finish its deliveries and leave; the descriptor."""
    fd = os.open(spool.root / PID_DIRECTORY / LOCK_FILE, os.O_RDWR | os.O_CREAT | os.O_CLOEXEC, 0o600)
    try:
        fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except BlockingIOError:
        maillog.info("qmgr", "waiting for the delivery agent of the previous queue manager to finish")
        fcntl.flock(fd, fcntl.LOCK_EX)
    return fd


def _leave_now() -> None:
    os._exit(0)


async def serve(sock: socket.socket, deliverer: Deliverer, spool: Spool, gone: Callable[[], None] = _leave_now
                ) -> None:
    """The agent process: deliver each message the manager names until it says QUIT; when the manager goes
    without a word, the deliveries in progress are finished (within ORPHAN_GRACE), then `gone` (leave the process:
    see the module's docstring)."""
    reader, writer = await asyncio.open_connection(sock=sock, limit=LINE_LIMIT)
    running: set[asyncio.Task] = set()
    while True:
        try:
            line = await reader.readline()
        except OSError:
            line = b""
        if not line:
            if running:
                await asyncio.wait(running, timeout=ORPHAN_GRACE)
            gone()
            return
        request = json.loads(line)
        if request.get("quit"):
            break
        if request.get("flush"):
            deliverer.flush_dead()
            continue
        task = asyncio.get_running_loop().create_task(_deliver(request, deliverer, spool, writer))
        running.add(task)
        task.add_done_callback(running.discard)
    await deliverer.stop()
    deliverer.close()
    writer.close()


async def _deliver(request: dict, deliverer: Deliverer, spool: Spool, writer: asyncio.StreamWriter) -> None:
    qid = request["q"]
    answer: dict = {"q": qid}
    try:
        qf = redirected(_active(spool, qid))
        changed = await deliverer.deliver(Attempt(qf, request["a"], first=request["f"]))
        answer["r"] = [status_record(rcpt) for rcpt in changed]
    except FileNotFoundError:
        answer["gone"] = True
    except Exception as exc:
        maillog.error("smtp", "%s: unexpected error in delivery", qid, exc_info=True)
        answer["x"] = str(exc) or type(exc).__name__
    writer.write(json.dumps(answer).encode() + b"\n")
