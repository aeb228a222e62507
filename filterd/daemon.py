"""The daemon's process plumbing: master.pid, locked while the master runs (how `filterd status` and Postfix's
`master -t` tell whether it runs), and detaching into the background with word back to `filterd start`."""

from __future__ import annotations

import fcntl
import os
from pathlib import Path

from filterd.fatal import FatalError

PID_FILE = "pid/master.pid"
READY = b"ready\n"


def pid_path(queue_directory: str) -> Path:
    """$queue_directory/pid/master.pid, as Postfix's."""
    return Path(queue_directory) / PID_FILE


class PidFile:
    """master.pid, written and locked by the master for its lifetime; its children close their copy."""

    def __init__(self, path: Path):
        self.path = path
        self.fd: int | None = None

    def acquire(self) -> None:
        """Lock and write the pid file; FatalError when another master holds it."""
        self.path.parent.mkdir(parents=True, exist_ok=True)
        fd = os.open(self.path, os.O_RDWR | os.O_CREAT, 0o644)
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            os.close(fd)
            raise FatalError("the filterd mail system is already running") from None
        os.ftruncate(fd, 0)
        os.write(fd, f"{os.getpid():>10}\n".encode())
        self.fd = fd

    def close(self) -> None:
        """Let go of this process's copy (a child's, or the master's at exit)."""
        if self.fd is not None:
            os.close(self.fd)
            self.fd = None


def running_pid(path: Path) -> int | None:
    """The master's pid when one holds the lock on its pid file, else None (a stale file says nothing)."""
    try:
        fd = os.open(path, os.O_RDONLY)
    except OSError:
        return None
    try:
        fcntl.flock(fd, fcntl.LOCK_SH | fcntl.LOCK_NB)
    except BlockingIOError:
        return _pid_in(path)
    else:
        return None
    finally:
        os.close(fd)


def _pid_in(path: Path) -> int | None:
    try:
        return int(path.read_text().split()[0])
    except (OSError, ValueError, IndexError):
        return None


class Readiness:
    """The pipe on which the detached master tells `filterd start` that it serves, or why it could not."""

    def __init__(self, fd: int):
        self.fd = fd

    def ready(self) -> None:
        self._say(READY)

    def failed(self, reason: str) -> None:
        self._say(reason.encode(errors="replace") + b"\n")

    def _say(self, text: bytes) -> None:
        if self.fd is not None:
            os.write(self.fd, text)
            os.close(self.fd)
            self.fd = None


def detach() -> Readiness | None:
    """Fork the daemon: a new session, a process group of its own (`filterd stop` may kill it whole), / as working
    directory, standard streams on /dev/null. The daemon gets its
    Readiness; the caller gets None once the daemon is ready, or FatalError with the daemon's reason."""
    reader, writer = os.pipe()
    first = os.fork()
    if first:
        os.close(writer)
        os.waitpid(first, 0)
        _wait_ready(reader)
        return None
    os.close(reader)
    os.setsid()
    if os.fork():
        os._exit(0)
    os.setpgid(0, 0)
    _standard_streams_to_null()
    os.chdir("/")
    return Readiness(writer)


def _wait_ready(reader: int) -> None:
    with os.fdopen(reader, "rb") as pipe:
        answer = pipe.read()
    if answer != READY:
        reason = answer.decode(errors="replace").strip() or "the master exited before it was ready: see the log"
        raise FatalError(reason)


def _standard_streams_to_null() -> None:
    null = os.open(os.devnull, os.O_RDWR)
    for fd in (0, 1, 2):
        os.dup2(null, fd)
    if null > 2:
        os.close(null)
