"""Local delivery into Maildirs for $mydestination: BASE/LOCALPART/Maildir/new, written via tmp/ and fsynced."""

from __future__ import annotations

import itertools
import os
import re
import socket
import time
from pathlib import Path

from filterd.queue.queuefile import QueueFile, Recipient

_SAFE_LOCALPART = re.compile(r"^[A-Za-z0-9!#$%&'*+=?^_`{|}~-][A-Za-z0-9.!#$%&'*+=?^_`{|}~-]*$")
_counter = itertools.count()


def mailbox_name(address: str) -> str | None:
    """The directory name for a local recipient, or None when it would be unsafe as a path."""
    localpart = address.rpartition("@")[0] or address
    localpart = localpart.lower()
    return localpart if _SAFE_LOCALPART.match(localpart) and ".." not in localpart else None


def deliver(qf: QueueFile, recipient: Recipient, base: str, resolved: str = "") -> None:
    """Deliver one recipient's copy to the mailbox of its resolved address (user%host@here is user@host's, not
    a mailbox of its own); sets the recipient's status as Postfix's local(8) would log it."""
    name = mailbox_name(resolved or recipient.address)
    recipient.relay = "local"
    if name is None:
        recipient.status, recipient.dsn, recipient.text = "bounced", "5.1.1", "unknown user: \"%s\"" % recipient.address
        return
    try:
        write_maildir(qf, recipient, Path(base) / name / "Maildir")
    except OSError as exc:
        recipient.status, recipient.dsn = "deferred", "4.2.0"
        recipient.text = f"cannot update mailbox {base}/{name}/Maildir: {exc.strerror or exc}"
        return
    recipient.status, recipient.dsn, recipient.text = "sent", "2.0.0", "delivered to maildir"


def write_maildir(qf: QueueFile, recipient: Recipient, maildir: Path) -> None:
    """The message into maildir/new through maildir/tmp, fsynced, with Return-Path: and Delivered-To: first."""
    for sub in ("tmp", "new", "cur"):
        (maildir / sub).mkdir(parents=True, exist_ok=True)
    unique = f"{time.time():.6f}.P{os.getpid()}Q{next(_counter)}.{socket.gethostname()}"
    tmp, new = maildir / "tmp" / unique, maildir / "new" / unique
    with open(tmp, "wb") as out:
        out.write(f"Return-Path: <{qf.envelope.sender}>\nDelivered-To: {recipient.address}\n"
                  .encode("utf-8", "surrogateescape"))
        pending_cr = False
        for chunk in qf.content():
            if pending_cr:
                chunk = b"\r" + chunk
            pending_cr = chunk.endswith(b"\r")
            out.write((chunk[:-1] if pending_cr else chunk).replace(b"\r\n", b"\n"))
        out.flush()
        os.fsync(out.fileno())
    os.rename(tmp, new)
