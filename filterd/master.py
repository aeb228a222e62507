"""The master process: binds the listeners once, forks worker processes that share them, restarts the dead.

Like Postfix's master(8) with many smtpd processes: a Python process saturates one core, so
filterd_worker_processes workers accept on the same sockets.
"""

from __future__ import annotations

import asyncio
import os
import signal
import socket
import sys
import time

from filterd import __version__, maillog
from filterd.queue.spool import Spool
from filterd.service import Listener, listeners, serve
from filterd.startup import Loaded

_RESTART_DELAY = 1.0


def _new_loop() -> asyncio.AbstractEventLoop:
    """uvloop when installed: measured faster for many small SMTP sessions."""
    try:
        import uvloop
    except ImportError:
        return asyncio.new_event_loop()
    return uvloop.new_event_loop()


def _worker(loaded: Loaded, bound: list[tuple[Listener, socket.socket]]) -> None:
    """A worker: serve until SIGTERM, then stop accepting and leave."""
    loop = _new_loop()
    asyncio.set_event_loop(loop)
    stop = asyncio.Event()
    loop.add_signal_handler(signal.SIGTERM, stop.set)
    loop.add_signal_handler(signal.SIGINT, stop.set)

    async def run() -> None:
        servers = await serve(loaded, bound)
        await stop.wait()
        for server in servers:
            server.close()

    try:
        loop.run_until_complete(run())
    finally:
        loop.close()


class Master:
    """Forks and watches the workers."""

    def __init__(self, loaded: Loaded):
        self.loaded = loaded
        self.count = max(1, loaded.config.int("filterd_worker_processes"))
        self.workers: dict[int, tuple[str, float]] = {}
        self.stopping = False
        self.bound: list[tuple[Listener, socket.socket]] = []

    def run(self) -> int:
        if any(listener.mode == "relay" for listener in listeners(self.loaded.config)):
            Spool(self.loaded.config.get("queue_directory")).create().clean_temporary()
        self.bound = [(listener, listener.bind()) for listener in listeners(self.loaded.config)]
        maillog.info("master", "daemon started -- version %s, configuration %s", __version__, self.loaded.path)
        for listener, _ in self.bound:
            maillog.info("master", "listening on %s (%s)", listener.address, listener.mode)
        signal.signal(signal.SIGTERM, self._stop)
        signal.signal(signal.SIGINT, self._stop)
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
        maillog.info("master", "terminating on signal")
        return 0

    def _spawn(self, kind: str) -> None:
        pid = os.fork()
        if pid == 0:
            signal.signal(signal.SIGTERM, signal.SIG_DFL)
            signal.signal(signal.SIGINT, signal.SIG_DFL)
            code = 0
            try:
                self._child(kind)
            except BaseException:
                maillog.error(kind, "%s process failed", kind, exc_info=True)
                code = 1
            finally:
                sys.stdout.flush()
                sys.stderr.flush()
                os._exit(code)
        self.workers[pid] = (kind, time.monotonic())

    def _child(self, kind: str) -> None:
        if kind == "qmgr":
            from filterd.queue import setup

            for _, sock in self.bound:
                sock.close()
            loop = _new_loop()
            asyncio.set_event_loop(loop)
            setup.run(self.loaded, loop)
        else:
            _worker(self.loaded, self.bound)

    def _reap(self, pid: int, status: int) -> None:
        kind, started = self.workers.pop(pid, ("", 0.0))
        if not kind or self.stopping:
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
