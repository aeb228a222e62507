"""Starting the command off the event loop. Fork and exec block until the child has exec'd, which on a loaded host
was most of the queue manager's time (py-spy): the spawn runs in a thread, the pipes are read and written as the
loop says they are ready, and a pidfd tells when the command has exited, so that no thread waits for it."""

from __future__ import annotations

import asyncio
import os
import subprocess
from dataclasses import dataclass
from typing import IO


async def _ready(fd: int, writing: bool = False) -> None:
    """Until the loop says fd is readable (or writable)."""
    loop = asyncio.get_running_loop()
    add, remove = (loop.add_writer, loop.remove_writer) if writing else (loop.add_reader, loop.remove_reader)
    ready = loop.create_future()
    add(fd, lambda: ready.done() or ready.set_result(None))
    try:
        await ready
    finally:
        remove(fd)


@dataclass
class Child:
    """A running command, its stdin and stderr non-blocking pipes owned by the Popen."""

    popen: subprocess.Popen

    async def write(self, data: bytes) -> None:
        """All of data into stdin; BrokenPipeError when the command has stopped reading."""
        view, fd = memoryview(data), self.popen.stdin.fileno()
        while view:
            try:
                view = view[os.write(fd, view):]
            except BlockingIOError:
                await _ready(fd, writing=True)

    async def read_stderr(self) -> bytes:
        """The next bytes of stderr, b"" at its end."""
        fd = self.popen.stderr.fileno()
        while True:
            try:
                return os.read(fd, 65536)
            except BlockingIOError:
                await _ready(fd)

    async def wait(self) -> int:
        """The exit status, once the pidfd says the command has ended."""
        fd = os.pidfd_open(self.popen.pid)
        try:
            await _ready(fd)
        finally:
            os.close(fd)
        return self.popen.wait()

    def close_stdin(self) -> None:
        self.popen.stdin.close()

    def close(self) -> None:
        """Close both pipes (once done, or after a kill)."""
        self.popen.stdin.close()
        self.popen.stderr.close()


async def spawn(argv: list[str], stdout: IO[bytes] | None) -> Child:
    """Start argv (no shell) in a session of its own, stdout into the file (None: discarded)."""
    popen = await asyncio.to_thread(
        subprocess.Popen, argv, stdin=subprocess.PIPE, stderr=subprocess.PIPE, start_new_session=True,
        stdout=stdout if stdout is not None else subprocess.DEVNULL)
    os.set_blocking(popen.stdin.fileno(), False)
    os.set_blocking(popen.stderr.fileno(), False)
    return Child(popen)
