"""The master process: binds the listeners once, forks the worker processes that share them and the queue manager,
restarts the dead.

Like Postfix's master(8) with many smtpd processes: a Python process saturates one core, so
filterd_worker_processes workers accept on the same sockets.
"""

from __future__ import annotations

import asyncio
import os
import shutil
import signal
import socket
import sys
import tempfile
import time

from filterd import __version__, maillog
from filterd.anvil.server import bind_anvil, run_anvil
from filterd.assembly import Listener, connection_gate, listeners, queue_manager, serve, smtp_listening
from filterd.config import Config, ConfigError
from filterd.fatal import FatalError
from filterd.loading import Loaded
from filterd.queue.spool import Spool
from filterd.tables import TableError, open_tables

_RESTART_DELAY = 1.0
_SETTLE_TIME = 5.0
QUEUE_TABLES = ("transport_maps",)


def _new_loop() -> asyncio.AbstractEventLoop:
    """uvloop when installed: measured faster for many small SMTP sessions."""
    try:
        import uvloop
    except ImportError:
        return asyncio.new_event_loop()
    return uvloop.new_event_loop()


def _worker(loaded: Loaded, bound: list[tuple[Listener, socket.socket]], anvil_path: str | None) -> None:
    """A worker: serve until SIGTERM, then stop accepting and leave; or, once a burst of sessions is over, stop
    accepting, let the last sessions end and leave, for the master to start a fresh worker in its place."""
    loop = _new_loop()
    asyncio.set_event_loop(loop)
    stop, recycle = asyncio.Event(), asyncio.Event()
    loop.add_signal_handler(signal.SIGTERM, stop.set)
    loop.add_signal_handler(signal.SIGINT, stop.set)
    gate = connection_gate(loaded.config, anvil_path, recycle.set)

    async def run() -> None:
        servers = await serve(loaded, bound, gate)
        waiting = [loop.create_task(stop.wait()), loop.create_task(recycle.wait())]
        await asyncio.wait(waiting, return_when=asyncio.FIRST_COMPLETED)
        for server in servers:
            server.close()
        for task in waiting:
            task.cancel()
        if recycle.is_set() and not stop.is_set():
            await gate.idle.wait()
            await _settle()

    try:
        loop.run_until_complete(run())
    finally:
        loop.close()


async def _settle() -> None:
    """Let the last sessions' closing work (their `disconnect from` lines) finish before the worker leaves."""
    others = asyncio.all_tasks() - {asyncio.current_task()}
    if others:
        await asyncio.wait(others, timeout=_SETTLE_TIME)


def _queue_manager(loaded: Loaded) -> None:
    """The qmgr process: run until SIGTERM, finishing deliveries in progress; SIGUSR1 flushes the queue."""
    loop = _new_loop()
    asyncio.set_event_loop(loop)
    stop = asyncio.Event()
    loop.add_signal_handler(signal.SIGTERM, stop.set)
    loop.add_signal_handler(signal.SIGINT, stop.set)
    manager = queue_manager(loaded)
    loop.add_signal_handler(signal.SIGUSR1, manager.flush)
    manager.spool.write_pid("qmgr")
    try:
        loop.run_until_complete(manager.run(stop))
    finally:
        manager.close()


def create_spool(config: Config) -> None:
    """The queue directories, made before the processes that use them; a failure names queue_directory's line."""
    try:
        spool = Spool(config.get("queue_directory")).create()
    except OSError as exc:
        raise config.error("queue_directory", f"mkdir {exc.filename}: {exc.strerror or exc}") from exc
    spool.clean_temporary()


def open_queue_tables(config: Config) -> None:
    """Open the queue manager's tables once here, so that a missing one stops start-up instead of the qmgr."""
    for name in QUEUE_TABLES:
        try:
            open_tables(config.get(name))
        except TableError as exc:
            raise config.error(name, str(exc)) from exc


def bind_all(wanted: list[Listener]) -> list[tuple[Listener, socket.socket]]:
    """Every listener's socket; when one cannot be bound, those already bound are closed again."""
    bound: list[tuple[Listener, socket.socket]] = []
    try:
        for listener in wanted:
            bound.append((listener, listener.bind()))
    except FatalError:
        for _, sock in bound:
            sock.close()
        raise
    return bound


def _anvil(loaded: Loaded, sock: socket.socket) -> None:
    """The anvil process: the connection counts and rates of every worker's clients (filterd.anvil)."""
    try:
        with open("/proc/self/comm", "w") as comm:
            comm.write("filterd-anvil")
    except OSError:
        pass
    config = loaded.config
    run_anvil(sock, config.time("anvil_rate_time_unit"), config.time("anvil_status_update_time"), _new_loop)


def anvil_wanted(config: Config) -> bool:
    """anvil runs when an SMTP listener has a client connection limit in force."""
    limited = config.int("smtpd_client_connection_count_limit") > 0 or \
        config.int("smtpd_client_connection_rate_limit") > 0
    return limited and smtp_listening(config)


class Master:
    """Forks and watches the workers."""

    def __init__(self, loaded: Loaded):
        self.loaded = loaded
        self.count = max(1, loaded.config.int("filterd_worker_processes"))
        self.workers: dict[int, tuple[str, float]] = {}
        self.stopping = False
        self.bound: list[tuple[Listener, socket.socket]] = []
        self.anvil_path: str | None = None

    def run(self) -> int:
        try:
            self._prepare()
        except (ConfigError, FatalError) as exc:
            maillog.log.critical("%s", exc, extra={"service": "master"})
            raise
        maillog.info("master", "daemon started -- version %s, configuration %s", __version__, self.loaded.path)
        for listener, _ in self.bound:
            maillog.info("master", "listening on %s (%s)", listener.address, listener.mode)
        signal.signal(signal.SIGTERM, self._stop)
        signal.signal(signal.SIGINT, self._stop)
        if self.anvil_path:
            self._spawn("anvil")
        for _ in range(self.count):
            self._spawn("smtpd")
        if any(listener.mode == "relay" for listener, _ in self.bound):
            self._spawn("qmgr")
        while self.workers:
            try:
                pid, status = os.wait()
            except ChildProcessError:
                break
            except InterruptedError:
                continue
            self._reap(pid, status)
        if self.anvil_path:
            shutil.rmtree(os.path.dirname(self.anvil_path), ignore_errors=True)
        maillog.info("master", "terminating on signal")
        return 0

    def _prepare(self) -> None:
        """What can fail on the user's account (the spool, the queue's tables, the ports), before any fork."""
        config = self.loaded.config
        if any(listener.mode == "relay" for listener in listeners(config)):
            create_spool(config)
            open_queue_tables(config)
        self.bound = bind_all(listeners(config))
        if anvil_wanted(config):
            self.anvil_path = os.path.join(tempfile.mkdtemp(prefix="filterd-anvil-"), "anvil")

    def _spawn(self, kind: str) -> None:
        anvil_sock = None
        if kind == "anvil" and self.anvil_path:
            try:
                anvil_sock = bind_anvil(self.anvil_path)
            except OSError as exc:
                maillog.warning("master", "bind %s: %s: client connection limits are not enforced",
                                self.anvil_path, exc.strerror or exc)
                return
        pid = os.fork()
        if pid == 0:
            signal.signal(signal.SIGTERM, signal.SIG_DFL)
            signal.signal(signal.SIGINT, signal.SIG_DFL)
            code = 0
            try:
                self._child(kind, anvil_sock)
            except BaseException:
                maillog.error(kind, "%s process failed", kind, exc_info=True)
                code = 1
            finally:
                sys.stdout.flush()
                sys.stderr.flush()
                os._exit(code)
        if anvil_sock is not None:
            anvil_sock.close()
        self.workers[pid] = (kind, time.monotonic())

    def _child(self, kind: str, anvil_sock: socket.socket | None) -> None:
        if kind in ("qmgr", "anvil"):
            for _, sock in self.bound:
                sock.close()
        if kind == "qmgr":
            _queue_manager(self.loaded)
        elif kind == "anvil" and anvil_sock is not None:
            _anvil(self.loaded, anvil_sock)
        else:
            _worker(self.loaded, self.bound, self.anvil_path)

    def _reap(self, pid: int, status: int) -> None:
        kind, started = self.workers.pop(pid, ("", 0.0))
        if not kind or self.stopping:
            return
        if kind == "smtpd" and os.WIFEXITED(status) and os.WEXITSTATUS(status) == 0:
            self._spawn(kind)  # a worker that left after a burst of sessions, to hand back its memory
            return
        if os.WIFSIGNALED(status):
            maillog.warning("master", "process %s pid %d killed by signal %d", kind, pid, os.WTERMSIG(status))
        else:
            maillog.warning("master", "process %s pid %d exit status %d", kind, pid, os.WEXITSTATUS(status))
        if time.monotonic() - started < _RESTART_DELAY:
            time.sleep(_RESTART_DELAY)
        self._spawn(kind)

    def _stop(self, signum: int, frame: object) -> None:
        self.stopping = True
        for pid in list(self.workers):
            try:
                os.kill(pid, signal.SIGTERM)
            except ProcessLookupError:
                pass
