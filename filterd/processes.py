"""What each child process of the master runs once it is forked and set up: a worker serving the listeners, the
queue manager with the delivery agent it forks, anvil. Each runs its own event loop until SIGTERM."""

from __future__ import annotations

import asyncio
import functools
import os
import signal
import socket
import sys

from filterd import maillog
from filterd.anvil.server import run_anvil
from filterd.assembly import Listener, connection_gate, delivery_agent, previous_agent_gone, queue_manager, serve
from filterd.draining import OpenConnections
from filterd.loading import Loaded
from filterd.privileges import MailOwner

SETTLE_TIME = 5.0
"""How long a worker that stops waits for its last sessions' disconnect tasks."""


def new_loop() -> asyncio.AbstractEventLoop:
    """uvloop when installed: measured faster for many small SMTP sessions."""
    try:
        import uvloop
    except ImportError:
        return asyncio.new_event_loop()
    return uvloop.new_event_loop()


def _stop_event(loop: asyncio.AbstractEventLoop) -> asyncio.Event:
    stop = asyncio.Event()
    loop.add_signal_handler(signal.SIGTERM, stop.set)
    loop.add_signal_handler(signal.SIGINT, stop.set)
    return stop


def worker(loaded: Loaded, bound: list[tuple[Listener, socket.socket]], anvil_path: str | None) -> None:
    """A worker: serve until SIGTERM, then stop accepting and let the open sessions finish (up to
    filterd_shutdown_timeout); or, once a burst of sessions is over, stop accepting, let the last sessions end and
    leave, for the master to start a fresh worker in its place (Python keeps the memory a burst took)."""
    loop = new_loop()
    asyncio.set_event_loop(loop)
    stop, recycle = _stop_event(loop), asyncio.Event()
    timeout = loaded.config.time("filterd_shutdown_timeout")
    gate = connection_gate(loaded.config, anvil_path, recycle.set)

    async def run() -> None:
        connections = OpenConnections()
        servers = await serve(loaded, bound, gate, connections)
        await _first(stop.wait(), recycle.wait())
        for server in servers:
            server.close()
        if not stop.is_set():
            await _first(gate.idle.wait(), stop.wait())
        await connections.drained(timeout)
        await _settle()

    try:
        loop.run_until_complete(run())
    finally:
        loop.close()


async def _first(*waits) -> None:
    """Wait until the first of these is done; the others are cancelled."""
    tasks = [asyncio.ensure_future(wait) for wait in waits]
    await asyncio.wait(tasks, return_when=asyncio.FIRST_COMPLETED)
    for task in tasks:
        task.cancel()


async def _settle() -> None:
    """Let the last sessions' disconnect tasks (their `disconnect from` lines, plugins' disconnect hook) run."""
    others = [task for task in asyncio.all_tasks() if task is not asyncio.current_task()]
    if others:
        await asyncio.wait(others, timeout=SETTLE_TIME)


def queue_manager_process(loaded: Loaded, owner: MailOwner | None) -> None:
    """The qmgr process: run until SIGTERM, finishing deliveries in progress; SIGUSR1 flushes the queue. Its
    deliveries are made by a delivery agent process it forks first (qmgr/agent.py), once the agent of a manager
    that died has finished; when the agent dies, so does the manager, and the master starts both again (what was
    active is taken back from the active queue)."""
    previous_agent_gone(loaded.config)
    ours, theirs = socket.socketpair()
    agent = os.fork()
    if agent == 0:
        ours.close()
        _delivery_agent(loaded, owner, theirs)
    theirs.close()
    loop = new_loop()
    asyncio.set_event_loop(loop)
    stop = _stop_event(loop)
    manager = queue_manager(loaded, ours, functools.partial(os._exit, 1))
    loop.add_signal_handler(signal.SIGUSR1, manager.flush)
    manager.spool.write_pid("qmgr")
    if owner is not None:
        owner.become()
    try:
        loop.run_until_complete(manager.run(stop))
    finally:
        manager.close()
        os.waitpid(agent, 0)


def _delivery_agent(loaded: Loaded, owner: MailOwner | None, sock: socket.socket) -> None:
    """The delivery agent process (never returns): Ctrl-C and SIGTERM are its manager's to act on."""
    code = 0
    try:
        signal.signal(signal.SIGINT, signal.SIG_IGN)
        signal.signal(signal.SIGTERM, signal.SIG_IGN)
        name_process("filterd-smtp")
        work = delivery_agent(loaded.config, sock)
        if owner is not None:
            owner.become()
        loop = new_loop()
        asyncio.set_event_loop(loop)
        loop.run_until_complete(work())
    except BaseException:
        maillog.error("smtp", "delivery agent failed", exc_info=True)
        code = 1
    finally:
        sys.stdout.flush()
        sys.stderr.flush()
        os._exit(code)


def name_process(name: str) -> None:
    """The name ps shows (/proc/self/comm), set before privileges are dropped: a process that changed its user
    may no longer write its own /proc files."""
    try:
        with open("/proc/self/comm", "w") as comm:
            comm.write(name)
    except OSError:
        pass


def anvil(loaded: Loaded, sock: socket.socket) -> None:
    """The anvil process: the connection counts and rates of every worker's clients (filterd.anvil)."""
    config = loaded.config
    run_anvil(sock, config.time("anvil_rate_time_unit"), config.time("anvil_status_update_time"), new_loop)
