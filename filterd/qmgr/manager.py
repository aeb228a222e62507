"""The queue manager (Postfix's qmgr): maildrop and incoming into active, the after-queue stage,
delivery, then removal, deferral with backoff, expiry and bounces.

One per spool. Restart-safe: active files go back to incoming at start; deferred files keep their
schedule (the file's mtime is its next attempt time, as in Postfix).
"""

from __future__ import annotations

import asyncio
import contextlib
import dataclasses
import os
import time
from dataclasses import dataclass

from filterd import maillog
from filterd.qmgr import bounce
from filterd.qmgr.after_queue import AfterQueue
from filterd.qmgr.agent import RemoteDeliverer
from filterd.qmgr.delivery import Attempt, Deliverer, log_recipient
from filterd.qmgr.smtp_delivery import Timing
from filterd.queue.envelope_mapping import EnvelopeMapping, Given
from filterd.queue.queuefile import CorruptQueueFile, QueueEnvelope, QueueFile, Recipient
from filterd.queue.spool import Spool
from filterd.virtual_alias import ExpansionError

POLL = 0.05
ACTIVATIONS_PER_SCAN = 20
"""At most this many messages go from incoming into active at one scan, so that a burst is taken in steps and the
loop keeps turning: where the deliveries share it (no delivery agent), a reply waiting to be read is a message that a
crash delivers twice (kill -9 under load: 0-4 duplicates in five kills with 20, 0-27 with 100). A scan that took a
full batch is followed by the next one after BUSY_POLL, so that the rate is not capped at 400 a second."""
BUSY_POLL = 0.005


@dataclass(frozen=True)
class Schedule:
    """Postfix's timing parameters, in seconds."""

    active_limit: int = 20000
    run_delay: float = 300.0
    min_backoff: float = 300.0
    max_backoff: float = 4000.0
    max_lifetime: float = 432000.0
    bounce_lifetime: float = 432000.0
    delay_warning: float = 0.0
    """delay_warning_time: a message still deferred this long after its arrival gets its sender one notice."""

    def next_attempt(self, age: float, now: float) -> float:
        return now + min(max(age, self.min_backoff), self.max_backoff)

    def lifetime(self, qf: QueueFile) -> float:
        env = qf.envelope
        return self.bounce_lifetime if env.is_bounce or not env.sender else self.max_lifetime


def wants_notice(rcpt: Recipient, kind: str) -> bool:
    """RFC 3461: a recipient without NOTIFY gets failure and delay notices; one with it, those it lists
    (NOTIFY=NEVER: none)."""
    return not rcpt.notify or kind in rcpt.notify.upper().split(",")


class QueueManager:
    """Moves messages through the queues and hands them to the delivery agents."""

    def __init__(self, spool: Spool, schedule: Schedule, deliverer: Deliverer | RemoteDeliverer,
                 after_queue: AfterQueue, myhostname: str, mapping: EnvelopeMapping | None = None):
        self.spool, self.schedule, self.deliverer = spool, schedule, deliverer
        self.after_queue, self.myhostname = after_queue, myhostname
        self.mapping = mapping
        """cleanup's envelope for local submissions (canonical maps, virtual aliases, automatic BCCs)."""
        self.tasks: dict[str, asyncio.Task] = {}
        self.next_deferred_scan = 0.0
        self.flushing = False

    def recover(self) -> None:
        """After a crash or stop, active messages start over from incoming.

        Half-written files are removed by the master before any receiving process starts, never here:
        the receiving processes may be writing theirs right now.
        """
        for qid in self.spool.ids("active"):
            self.spool.move(qid, "active", "incoming", sync=False)

    async def run(self, stop: asyncio.Event) -> None:
        self.recover()
        while not stop.is_set():
            busy = self._start(await self._files(self._moves)) >= ACTIVATIONS_PER_SCAN
            try:
                await asyncio.wait_for(stop.wait(), BUSY_POLL if busy else POLL)
            except asyncio.TimeoutError:
                pass
        if self.tasks:
            await asyncio.wait(list(self.tasks.values()), timeout=10)
        await self.deliverer.stop()

    def close(self) -> None:
        """Close the SMTP connections kept for reuse (or the agent's socket), once the manager has stopped."""
        self.deliverer.close()

    def scan(self) -> int:
        """One pass: pickup, due deferred messages, then incoming into active; how many it activated."""
        return self._start(self._moves())

    def _moves(self) -> list[str]:
        """The scan's renames (the queue manager runs them in a thread, off its loop); the queue ids now in
        active."""
        for qid in self.spool.ids("maildrop"):
            self._pickup(qid)
        now = time.time()
        if now >= self.next_deferred_scan:
            self.next_deferred_scan = now + self.schedule.run_delay
            self._due_deferred(now)
        return self._activate_incoming()

    def _start(self, qids: list[str]) -> int:
        """A delivery task for each message taken into active; how many."""
        for qid in qids:
            task = asyncio.get_running_loop().create_task(self._process(qid, time.time()))
            self.tasks[qid] = task
            task.add_done_callback(lambda _t, qid=qid: self.tasks.pop(qid, None))
        return len(qids)

    def flush(self) -> None:
        """Try every deferred message now (postqueue -f sends SIGUSR1 to the pid in pid/qmgr.pid)."""
        self.next_deferred_scan, self.flushing = 0.0, True
        self.deliverer.flush_dead()

    def _pickup(self, qid: str) -> None:
        """A local submission into incoming, its envelope as cleanup would write it (a new queue file when that
        changes it); an alias expansion past a limit leaves it in maildrop for the next scan, with cleanup's
        warning."""
        qf = self._read("maildrop", qid)
        if qf is None:
            return
        uid = self.spool.path("maildrop", qid).stat().st_uid
        try:
            mapped = self._mapped(qf)
        except ExpansionError as exc:
            maillog.warning("cleanup", "%s", exc)
            return
        if mapped != qf.envelope:
            self.spool.store("incoming", mapped, qf.content())
            self.spool.remove("maildrop", qid)
        elif uid == os.geteuid():
            self.spool.move(qid, "maildrop", "incoming")
        else:
            self.spool.copy_in(qid, "maildrop", "incoming")
        maillog.info("pickup", "%s: uid=%d from=<%s>", qid, uid, qf.envelope.sender)

    def _mapped(self, qf: QueueFile) -> QueueEnvelope:
        env = self.mapping and qf.envelope
        if not env:
            return qf.envelope
        sender = self.mapping.sender(env.sender, env.queue_id)
        given = [Given(r.orig or r.address, r.orcpt, r.notify) for r in env.recipients]
        return dataclasses.replace(env, sender=sender, recipients=self.mapping.recipients(sender, given, env.queue_id))

    def _due_deferred(self, now: float) -> None:
        everything, self.flushing = self.flushing, False
        for qid in self.spool.ids("deferred"):
            try:
                due = everything or self.spool.path("deferred", qid).stat().st_mtime <= now
                if due:
                    self.spool.move(qid, "deferred", "incoming", sync=False)
            except FileNotFoundError:
                continue

    def _activate_incoming(self) -> list[str]:
        """incoming into active, oldest first, within qmgr_message_active_limit and ACTIVATIONS_PER_SCAN."""
        room = min(self.schedule.active_limit - len(self.tasks), ACTIVATIONS_PER_SCAN)
        moved: list[str] = []
        for qid in self.spool.ids("incoming"):
            if len(moved) >= room:
                break
            if qid not in self.tasks:
                try:
                    self.spool.move(qid, "incoming", "active", sync=False)
                except FileNotFoundError:
                    continue
                moved.append(qid)
        return moved

    async def _files(self, work, *args):
        """Queue-file work (renames, reads, removals): in a thread while the deliveries share this loop (see
        `_finish`), at once where a delivery agent process makes them (a thread's hand-off costs more than the
        work)."""
        if isinstance(self.deliverer, RemoteDeliverer):
            return work(*args)
        return await asyncio.to_thread(work, *args)

    async def _process(self, qid: str, activated: float) -> None:
        qf = await self._files(self._read, "active", qid)
        if qf is None:
            return
        env = qf.envelope
        maillog.info("qmgr", "%s: from=<%s>, size=%d, nrcpt=%d (queue active)", qid, env.sender, env.size,
                     len(env.recipients))
        try:
            qf, deliver = await self.after_queue.run(self.spool, qf)
            if qf is None:
                return
            attempt = Attempt(qf, activated, first=not any(r.status for r in qf.envelope.recipients))
            if deliver:
                await self.deliverer.deliver(attempt)
            await self._files(self._finish, attempt)
        except FileNotFoundError:
            maillog.info("qmgr", "%s: moved away during delivery (postsuper); left where it is", qid)
        except Exception:
            maillog.error("qmgr", "%s: unexpected error, message deferred", qid, exc_info=True)
            with contextlib.suppress(FileNotFoundError):
                self._defer(qid, time.time() - env.arrival)

    def _finish(self, attempt: Attempt) -> None:
        """After the delivery attempt: expire, report, defer, bounce or remove. Run in a thread where the deliveries
        share the loop, as the queue file's first read is: a rename or unlink that waits for the file system's journal
        must not stall them (kill -9 under disk load gave 38 duplicates where Postfix's smtp had 4)."""
        qf, now = attempt.qf, time.time()
        env = qf.envelope
        age = now - env.arrival
        if env.pending() and age >= self.schedule.lifetime(qf):
            self._expire(attempt)
        if env.record and attempt.first and env.sender and not env.is_bounce:
            self._report(qf)
        if env.pending():
            if self._delay_notice_due(env, age):
                self._warn(qf)
            self._defer(env.queue_id, age)
            return
        failed = [r for r in env.recipients if r.status in ("bounced", "expired") and wants_notice(r, "FAILURE")]
        if failed and env.sender and not env.is_bounce:
            self._bounce(qf, failed)
        self.spool.remove("active", env.queue_id, sync=False)
        maillog.info("qmgr", "%s: removed", env.queue_id)

    def _expire(self, attempt: Attempt) -> None:
        """Too old: what is still pending bounces with its last reason, logged once for the message as Postfix's
        qmgr logs it."""
        env = attempt.qf.envelope
        expired: list[Recipient] = env.pending()
        for rcpt in expired:
            rcpt.status = "expired"
        attempt.qf.record_all(expired)
        maillog.info("qmgr", "%s: from=<%s>, status=expired, returned to sender", env.queue_id, env.sender)

    def _defer(self, qid: str, age: float) -> None:
        now = time.time()
        self.spool.move(qid, "active", "deferred", when=self.schedule.next_attempt(age, now), sync=False)

    def _delay_notice_due(self, env: QueueEnvelope, age: float) -> bool:
        """delay_warning_time has passed (Postfix's warn time less a second) and the sender was not told yet."""
        return (self.schedule.delay_warning > 0 and age >= self.schedule.delay_warning - 1 and not env.warned
                and bool(env.sender) and not env.is_bounce)

    def _warn(self, qf: QueueFile) -> None:
        """The delay notice, once: the deferred recipients that did not ask for no DELAY notice (RFC 3461)."""
        delayed = [r for r in qf.envelope.recipients if r.status == "deferred" and wants_notice(r, "DELAY")]
        qf.mark_warned()
        if not delayed:
            return
        lifetime = self.schedule.lifetime(qf)
        notice = bounce.delay_notice(self.schedule.delay_warning, lifetime)
        envelope, content = bounce.compose(qf, delayed, self.myhostname, notice, lifetime)
        self.spool.store("incoming", envelope, iter([content]))
        maillog.info("bounce", "%s: sender delay notification: %s", qf.envelope.queue_id, envelope.queue_id)

    def _bounce(self, qf: QueueFile, failed: list[Recipient]) -> None:
        envelope, content = bounce.compose(qf, failed, self.myhostname)
        self.spool.store("incoming", envelope, iter([content]))
        maillog.info("bounce", "%s: sender non-delivery notification: %s", qf.envelope.queue_id, envelope.queue_id)

    def _read(self, queue: str, qid: str) -> QueueFile | None:
        """The queue file, or None when it is corrupt (moved to the corrupt queue): unreadable, or holding another
        queue id (the manager moves and removes files by the id inside)."""
        try:
            qf = QueueFile.read(str(self.spool.path(queue, qid)))
            if qf.envelope.queue_id != qid:
                raise CorruptQueueFile(f"it holds queue id {qf.envelope.queue_id!r}")
        except CorruptQueueFile as exc:
            self._corrupt(queue, qid, exc)
            return None
        return qf
    def _report(self, qf: QueueFile) -> None:
        """sendmail -v: what became of every recipient at the first attempt, mailed to the sender."""
        envelope, content = bounce.compose(qf, qf.envelope.recipients, self.myhostname, bounce.RECORD)
        self.spool.store("incoming", envelope, iter([content]))
        maillog.info("bounce", "%s: sender delivery status notification: %s", qf.envelope.queue_id,
                     envelope.queue_id)

    def _corrupt(self, queue: str, qid: str, exc: Exception) -> None:
        maillog.warning("qmgr", "%s: corrupt queue file moved to the corrupt queue: %s", qid, exc)
        try:
            self.spool.move(qid, queue, "corrupt")
        except FileNotFoundError:
            pass
