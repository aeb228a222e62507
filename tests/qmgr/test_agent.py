"""The delivery agent beside the queue manager: what it delivers is what the queue file says afterwards, a manager
that goes without a word makes it leave, and an agent that goes makes the manager leave (issue 19)."""

from __future__ import annotations

import asyncio
import os
import socket
import threading
import time

from filterd.qmgr.agent import AgentFailed, RemoteDeliverer, serve, wait_for_agent
from filterd.qmgr.delivery import Attempt, Deliverer
from filterd.qmgr.routing import Router
from filterd.qmgr.smtp_delivery import SmtpDelivery, SmtpSettings
from filterd.queue.queuefile import QueueEnvelope, QueueFile, Recipient
from filterd.queue.spool import Spool

CONTENT = b"Subject: hi\r\n\r\nbody\r\n"


def local_deliverer(tmp_path) -> Deliverer:
    """Delivers to maildirs under tmp_path/mail: a real delivery, no next hop needed."""
    return Deliverer(Router(frozenset({"example.net"})), SmtpDelivery(SmtpSettings("filterd.test")),
                     str(tmp_path / "mail"))


def queued(spool: Spool, qid: str, *recipients: str) -> QueueFile:
    envelope = QueueEnvelope(qid, "a@example.org", [Recipient(r) for r in recipients], arrival=time.time(),
                             size=len(CONTENT))
    spool.store("active", envelope, iter([CONTENT]))
    return QueueFile.read(str(spool.path("active", qid)))


class Pair:
    """An agent serving one end of a socket pair in this loop, a RemoteDeliverer on the other."""

    def __init__(self, tmp_path, deliverer: Deliverer | None = None):
        self.spool = Spool(tmp_path / "spool").create()
        self.ours, theirs = socket.socketpair()
        self.lost = asyncio.Event()
        self.gone = asyncio.Event()
        self.remote = RemoteDeliverer(self.ours, self.spool, self.lost.set)
        self.agent = asyncio.get_running_loop().create_task(
            serve(theirs, deliverer or local_deliverer(tmp_path), self.spool, self.gone.set))


def test_what_the_agent_delivered_and_recorded_is_what_the_manager_is_told(tmp_path):
    async def run() -> tuple[list[Recipient], list[Recipient], list[str]]:
        pair = Pair(tmp_path)
        attempts = [Attempt(queued(pair.spool, f"4AAAAAAAAAzA{n}", f"user{n}@example.net"), time.time())
                    for n in range(5)]
        await asyncio.wait_for(asyncio.gather(*(pair.remote.deliver(attempt) for attempt in attempts)), 10)
        await pair.remote.stop()
        await asyncio.wait_for(pair.agent, 5)
        pair.remote.close()
        recorded = [r for a in attempts for r in QueueFile.read(a.qf.path).envelope.recipients]
        return [r for a in attempts for r in a.qf.envelope.recipients], recorded, sorted(
            p.parent.parent.parent.name for p in (tmp_path / "mail").glob("*/Maildir/new/*"))

    told, recorded, mailboxes = asyncio.run(run())
    assert [r.status for r in told] == ["sent"] * 5
    assert told == recorded and all(r.relay and r.dsn for r in told)
    assert mailboxes == [f"user{n}" for n in range(5)]


async def raised(pair: Pair, qid: str, move_away: bool = False) -> BaseException | None:
    """What the manager's deliver() raises for a message of bob's (moved to hold first, if asked), if anything."""
    attempt = Attempt(queued(pair.spool, qid, "bob@example.net"), time.time())
    if move_away:
        pair.spool.move(qid, "active", "hold")
    try:
        await asyncio.wait_for(pair.remote.deliver(attempt), 10)
    except BaseException as exc:
        return exc
    finally:
        await pair.remote.stop()
        pair.remote.close()
    return None


def test_a_message_moved_away_meanwhile_is_file_not_found_for_the_manager(tmp_path):
    async def run() -> BaseException | None:
        return await raised(Pair(tmp_path), "4AAAAAAAAAzB", move_away=True)

    assert isinstance(asyncio.run(run()), FileNotFoundError)


class Broken(Deliverer):
    async def deliver(self, attempt: Attempt) -> list[Recipient]:
        raise RuntimeError("disk on fire")


def test_an_error_in_the_agent_is_the_managers_to_defer(tmp_path):
    async def run() -> BaseException | None:
        broken = Broken(Router(frozenset()), SmtpDelivery(SmtpSettings("filterd.test")), "")
        return await raised(Pair(tmp_path, broken), "4AAAAAAAAAzC")

    error = asyncio.run(run())
    assert isinstance(error, AgentFailed) and "disk on fire" in str(error)


def test_a_manager_gone_without_quit_makes_the_agent_leave_at_once(tmp_path):
    async def run() -> tuple[bool, bool]:
        pair = Pair(tmp_path)
        pair.ours.close()
        await asyncio.wait_for(pair.gone.wait(), 5)
        await asyncio.wait_for(pair.agent, 5)
        return pair.gone.is_set(), pair.lost.is_set()

    assert asyncio.run(run()) == (True, False)


def test_an_agent_gone_makes_the_manager_leave(tmp_path):
    """The agent's end closes while a message is in delivery: the manager's `lost` runs (the master then starts a
    manager and an agent again, which take the message back from the active queue)."""

    async def run() -> bool:
        spool = Spool(tmp_path / "spool").create()
        ours, theirs = socket.socketpair()
        lost = asyncio.Event()
        remote = RemoteDeliverer(ours, spool, lost.set)
        delivery = asyncio.ensure_future(remote.deliver(Attempt(queued(spool, "4AAAAAAAAAzD", "b@example.net"),
                                                                time.time())))
        await asyncio.sleep(0.1)
        theirs.close()
        await asyncio.wait_for(lost.wait(), 5)
        delivery.cancel()
        remote.close()
        return lost.is_set()

    assert asyncio.run(run())


def test_a_quit_is_no_loss(tmp_path):
    async def run() -> bool:
        pair = Pair(tmp_path)
        await asyncio.wait_for(pair.remote.deliver(Attempt(queued(pair.spool, "4AAAAAAAAAzE", "bob@example.net"),
                                                           time.time())), 10)
        await pair.remote.stop()
        await asyncio.wait_for(pair.agent, 5)
        pair.remote.close()
        return pair.lost.is_set() or pair.gone.is_set()

    assert asyncio.run(run()) is False


def test_the_next_manager_waits_for_the_agent_of_the_last_one(tmp_path):
    """The lock an orphaned agent still holds (shared with its dead manager) keeps the next manager from taking
    the active messages back until the agent has left."""
    spool = Spool(tmp_path / "spool").create()
    held = wait_for_agent(spool)
    got: list[int] = []
    waiter = threading.Thread(target=lambda: got.append(wait_for_agent(spool)))
    waiter.start()
    time.sleep(0.3)
    waited = not got
    os.close(held)
    waiter.join(5)
    assert waited and got
