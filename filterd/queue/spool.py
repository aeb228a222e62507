"""The spool under queue_directory: Postfix's queues as directories, a message moved by atomic rename.

A new message is written under a temporary name in incoming, fsynced, renamed to its queue id and
the directory fsynced: only then may the client hear 250. A crash before the rename leaves a
temporary file that start-up removes (the client got no 250); after it, a complete message.

The queue manager's routine moves (incoming to active, active to deferred and back, the removal of a delivered
message) skip the directory fsync, as Postfix's qmgr only renames and unlinks: a system crash that loses one
leaves the file in its earlier queue, from which it is tried again (sooner, or once more: a duplicate, never a
lost message). Synced on the queue manager's event loop they were half its time under load.
"""

from __future__ import annotations

import math
import os
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Iterator

from filterd.queue import queuefile
from filterd.queue.queuefile import QueueEnvelope

QUEUES = ("maildrop", "incoming", "active", "deferred", "hold", "corrupt")
PID_DIRECTORY = "pid"
TEMPORARY_PREFIX = ".tmp."


class QueueFull(Exception):
    """The spool could not take the message (no space, I/O error): 452 4.3.1 to the client."""


def _fsync_dir(path: Path) -> None:
    fd = os.open(path, os.O_RDONLY | os.O_DIRECTORY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


@dataclass
class NewFile:
    """A queue file written under its temporary name and still open, not yet durable."""

    temporary: Path
    final: Path
    fd: int

    def discard(self) -> None:
        if self.fd >= 0:
            os.close(self.fd)
            self.fd = -1
        self.temporary.unlink(missing_ok=True)


class Spool:
    """One queue_directory."""

    def __init__(self, root: str | Path):
        self.root = Path(root)
        self._counts: dict[str, tuple[float, int]] = {}

    def count(self, queue: str, stale: float = 0.0) -> int:
        """The files in a queue (0 when it is missing); a count taken less than `stale` seconds ago stands: a
        directory scan costs as much as queueing a message."""
        now = time.monotonic()
        taken, counted = self._counts.get(queue, (-math.inf, 0))
        if now - taken >= stale:
            try:
                with os.scandir(self.root / queue) as entries:
                    counted = sum(1 for _ in entries)
            except FileNotFoundError:
                counted = 0
            self._counts[queue] = (now, counted)
        return counted

    def create(self) -> Spool:
        for name in (*QUEUES, PID_DIRECTORY):
            (self.root / name).mkdir(parents=True, exist_ok=True)
        return self

    def path(self, queue: str, queue_id: str) -> Path:
        return self.root / queue / queue_id

    def store(self, queue: str, envelope: QueueEnvelope, chunks: Iterator[bytes]) -> Path:
        """Write a new queue file durably (envelope.size must be the content's size); QueueFull on failure."""
        return self.commit(self.write_new(queue, envelope, chunks))

    def write_new(self, queue: str, envelope: QueueEnvelope, chunks: Iterator[bytes]) -> NewFile:
        """The first half of store: the file written under its temporary name, not yet durable (`commit` makes it
        so). Apart so that an event loop can write a small message itself and leave only the fsyncs to a thread:
        Python code in the thread would contend for the GIL with the loop."""
        final = self.path(queue, envelope.queue_id)
        new = NewFile(final.with_name(TEMPORARY_PREFIX + envelope.queue_id), final, -1)
        try:
            new.fd = os.open(new.temporary, os.O_WRONLY | os.O_CREAT | os.O_TRUNC | os.O_CLOEXEC, 0o666)
            with open(new.fd, "wb", closefd=False) as out:
                written = queuefile.write(out, envelope, chunks)
            if written != envelope.size:
                raise OSError(f"wrote {written} bytes of content, expected {envelope.size}")
        except OSError as exc:
            new.discard()
            raise QueueFull(str(exc)) from exc
        return new

    @staticmethod
    def commit(new: NewFile) -> Path:
        """The second half of store: fsync the file, rename it to its queue id and fsync the directory; only
        then may the client hear 250. QueueFull (the file removed) on failure."""
        try:
            os.fsync(new.fd)
            os.close(new.fd)
            new.fd = -1
            os.rename(new.temporary, new.final)
            _fsync_dir(new.final.parent)
        except OSError as exc:
            new.discard()
            raise QueueFull(str(exc)) from exc
        return new.final

    def move(self, queue_id: str, source: str, target: str, when: float | None = None, sync: bool = True) -> Path:
        """Atomic rename between queues; `when` sets the mtime (the deferred queue's next-attempt time). With
        sync=False the directory is not fsynced, as Postfix's qmgr renames (the module's docstring says why)."""
        old, new = self.path(source, queue_id), self.path(target, queue_id)
        os.rename(old, new)
        if when is not None:
            os.utime(new, (time.time(), when))
        if sync:
            _fsync_dir(new.parent)
        return new

    def copy_in(self, queue_id: str, source: str, target: str) -> Path:
        """Move a file someone else owns (root's or a user's submission in maildrop) as a copy of this process's
        own, written durably, and remove the original: Postfix's pickup writes a new queue file the same way."""
        old, new = self.path(source, queue_id), self.path(target, queue_id)
        tmp = new.with_name(TEMPORARY_PREFIX + queue_id)
        try:
            with open(old, "rb") as original, open(tmp, "wb") as out:
                while chunk := original.read(65536):
                    out.write(chunk)
                out.flush()
                os.fsync(out.fileno())
            os.rename(tmp, new)
        except OSError:
            tmp.unlink(missing_ok=True)
            raise
        _fsync_dir(new.parent)
        self.remove(source, queue_id)
        return new

    def ids(self, queue: str) -> list[str]:
        """Queue ids in a queue, oldest first (long queue ids sort by time)."""
        try:
            names = os.listdir(self.root / queue)
        except FileNotFoundError:
            return []
        return sorted(n for n in names if not n.startswith("."))

    def find(self, queue_id: str) -> str | None:
        """Which queue holds this id."""
        for queue in QUEUES:
            if self.path(queue, queue_id).exists():
                return queue
        return None

    def remove(self, queue: str, queue_id: str, sync: bool = True) -> None:
        """Unlink a queue file; sync=False leaves the directory unsynced, as Postfix's qmgr does after delivery."""
        self.path(queue, queue_id).unlink(missing_ok=True)
        if sync:
            _fsync_dir(self.root / queue)

    def write_pid(self, process: str) -> None:
        """$queue_directory/pid/NAME.pid, as Postfix's master.pid: how tools find a process to signal."""
        (self.root / PID_DIRECTORY / f"{process}.pid").write_text(f"{os.getpid():>10}\n")

    def read_pid(self, process: str) -> int | None:
        try:
            return int((self.root / PID_DIRECTORY / f"{process}.pid").read_text())
        except (OSError, ValueError):
            return None

    def clean_temporary(self) -> int:
        """Remove half-written files left by a crash (their clients never got 250)."""
        removed = 0
        for queue in QUEUES:
            for name in os.listdir(self.root / queue):
                if name.startswith(TEMPORARY_PREFIX):
                    (self.root / queue / name).unlink(missing_ok=True)
                    removed += 1
        return removed
