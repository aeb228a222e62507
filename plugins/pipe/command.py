"""Running the command: the message streamed to its stdin (LF line ends, as pipe(8) writes them), its stdout
into a file, its stderr kept up to a limit; killed at the time limit or when the chain gives up on it."""

from __future__ import annotations

import asyncio
import contextlib
import os
import signal
from collections.abc import Iterable
from dataclasses import dataclass
from typing import IO

from .spawn import Child, spawn

STDERR_LIMIT = 2048


@dataclass
class Finished:
    returncode: int | None
    stderr: str
    timed_out: bool = False


def lf_lines(chunks: Iterable[bytes]) -> Iterable[bytes]:
    """CRLF made LF, across chunk boundaries."""
    held = b""
    for chunk in chunks:
        chunk = held + chunk
        held = b"\r" if chunk.endswith(b"\r") else b""
        yield chunk[:len(chunk) - len(held)].replace(b"\r\n", b"\n")
    if held:
        yield held


async def run(argv: list[str], chunks: Iterable[bytes], time_limit: float, stdout: IO[bytes] | None) -> Finished:
    """Run argv (no shell) on the message; `stdout` None discards what it writes (a checker)."""
    child = await spawn(argv, stdout)
    returncode = None
    try:
        _, stderr, returncode = await asyncio.wait_for(
            asyncio.gather(_feed(child, chunks), _read_limited(child), child.wait()), time_limit)
    except asyncio.TimeoutError:
        return Finished(None, "", timed_out=True)
    finally:
        if returncode is None:
            with contextlib.suppress(ProcessLookupError):
                os.killpg(child.popen.pid, signal.SIGKILL)
            await child.wait()
        child.close()
    return Finished(returncode, stderr)


async def _feed(child: Child, chunks: Iterable[bytes]) -> None:
    """The message into the command; a command that stops reading early is its own business, as in pipe(8)."""
    try:
        for chunk in lf_lines(chunks):
            await child.write(chunk)
        child.close_stdin()
    except (BrokenPipeError, ConnectionResetError):
        pass


async def _read_limited(child: Child) -> str:
    """The first STDERR_LIMIT bytes of stderr on one line, the rest read and dropped so that the command never
    blocks on a full pipe."""
    kept = b""
    while chunk := await child.read_stderr():
        kept += chunk[:max(0, STDERR_LIMIT - len(kept))]
    return " ".join(kept.decode("utf-8", "replace").split())
