"""The queue as the tools read it: the messages of some queue directories, and addresses as Postfix prints them."""

from __future__ import annotations

import os
import re
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Callable, Iterator

from filterd.queue.queuefile import CorruptQueueFile, QueueEnvelope, QueueFile, Recipient

SHOWQ_ORDER = ("maildrop", "active", "incoming", "deferred", "hold")
_QUEUE_ID = re.compile(r"[0-9A-Za-z]{1,64}")


@dataclass
class QueuedMessage:
    """One message found in a queue directory."""

    queue: str
    envelope: QueueEnvelope
    others: list[Recipient] = field(default_factory=list)
    """Addresses with a status that the file does not list (a REDIRECT's target: QueueFile.others)."""


def queue_id_ok(text: str) -> bool:
    """Postfix's mail_queue_id_ok(): letters and digits only, so an id never names a path."""
    return bool(_QUEUE_ID.fullmatch(text))


def asctime(when: float) -> str:
    """C's asctime() without the newline: `Thu Nov 26 11:30:58 2026`."""
    return time.asctime(time.localtime(int(when)))


def scan(directory: Path, queue: str, on_error: Callable[[str], None] = lambda text: None) -> Iterator[QueuedMessage]:
    """The readable queue files of one directory, oldest id first; files that vanish mid-scan are skipped."""
    try:
        names = sorted(os.listdir(directory))
    except FileNotFoundError:
        return
    for name in names:
        if not queue_id_ok(name):
            continue
        try:
            qf = QueueFile.read(str(directory / name))
            yield QueuedMessage(queue, qf.envelope, qf.others)
        except CorruptQueueFile as exc:
            if (directory / name).exists():
                on_error(f"{name}: unreadable queue file: {exc}")


def printable(text: str) -> str:
    """Postfix's printable(): control characters shown as '?'."""
    return "".join(c if c.isprintable() else "?" for c in text)


def shown_address(address: str) -> str:
    """An address as mailq prints it (queue files hold addresses quoted as on the wire); <> is MAILER-DAEMON."""
    return printable(address) if address else "MAILER-DAEMON"
