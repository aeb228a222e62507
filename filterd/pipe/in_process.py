"""`filterd pipe` without a pipe service: this process loads the plugins and filters the message itself."""

from __future__ import annotations

import asyncio
import sys
from typing import IO

from filterd.chain import Chain
from filterd.config import Config
from filterd.pipe.filtering import Reinjection, filter_message


def run(chain: Chain, config: Config, sender: str, recipients: list[str], stdin: IO[bytes] | None = None,
        stdout: IO[str] | None = None) -> int:
    """Judge the message on stdin and reinject it; the exit status for pipe(8), its reason on stdout."""
    stdin, stdout = stdin or sys.stdin.buffer, stdout or sys.stdout
    status, text = asyncio.run(filter_message(chain, Reinjection.from_config(config), sender, recipients, stdin,
                                              config.size("filterd_spool_memory_limit")))
    if text:
        stdout.write(f"{text}\n")
    return status
