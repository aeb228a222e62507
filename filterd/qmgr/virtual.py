"""The virtual transport, as Postfix's virtual(8) delivers: virtual_mailbox_maps gives each recipient a path under
virtual_mailbox_base, a Maildir when it ends in `/`, else an mbox file (locked, `From ` line, `>From` quoted). The
files belong to filterd's mail_owner: virtual_uid_maps and virtual_gid_maps are not read."""

from __future__ import annotations

import fcntl
import os
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from filterd.address_keys import Delimiters, find_address
from filterd.qmgr.maildir import write_maildir
from filterd.queue.queuefile import QueueFile, Recipient
from filterd.tables import open_tables


@dataclass(frozen=True)
class VirtualMailboxes:
    tables: tuple[Any, ...] = ()
    base: str = ""
    delimiters: Delimiters = Delimiters()

    @classmethod
    def from_config(cls, config: Any) -> VirtualMailboxes:
        specs = config.get("virtual_mailbox_maps").strip()
        return cls(tuple(open_tables(specs)) if specs else (), config.get("virtual_mailbox_base"),
                   Delimiters.from_config(config))

    def deliver(self, qf: QueueFile, recipient: Recipient) -> None:
        """One recipient's copy into its mailbox; its status set as virtual(8) logs it."""
        recipient.relay = "virtual"
        address = recipient.address.lower()
        found = find_address(self.tables, address, False, self.delimiters) if self.tables else None
        if not self.base.startswith("/"):
            recipient.status, recipient.dsn = "deferred", "4.3.0"
            recipient.text = "mail transport unavailable"
            return
        if found is None:
            recipient.status, recipient.dsn, recipient.text = "bounced", "5.1.1", f'unknown user: "{address}"'
            return
        path = Path(self.base) / found[0].strip().lstrip("/")
        if ".." in Path(found[0].strip()).parts:
            recipient.status, recipient.dsn, recipient.text = "deferred", "4.3.0", f"bad mailbox path: {found[0]}"
            return
        maildir = found[0].strip().endswith("/")
        try:
            write_maildir(qf, recipient, path) if maildir else append_mbox(qf, recipient, path)
        except OSError as exc:
            recipient.status, recipient.dsn = "deferred", "4.2.0"
            recipient.text = f"cannot update mailbox {path}: {exc.strerror or exc}"
            return
        recipient.status, recipient.dsn = "sent", "2.0.0"
        recipient.text = "delivered to maildir" if maildir else "delivered to mailbox"


def append_mbox(qf: QueueFile, recipient: Recipient, path: Path) -> None:
    """The message at the end of an mbox file, under an exclusive lock: a `From ` line, Return-Path: and
    Delivered-To:, `From ` at a line's start quoted as `>From `, a blank line after; fsynced."""
    path.parent.mkdir(parents=True, exist_ok=True)
    sender = qf.envelope.sender or "MAILER-DAEMON"
    head = (f"From {sender}  {time.asctime(time.gmtime())}\nReturn-Path: <{qf.envelope.sender}>\n"
            f"Delivered-To: {recipient.address}\n").encode("utf-8", "surrogateescape")
    fd = os.open(path, os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o600)
    try:
        fcntl.flock(fd, fcntl.LOCK_EX)
        end = os.lseek(fd, 0, os.SEEK_END)
        try:
            os.write(fd, head)
            for piece in _quoted(qf):
                os.write(fd, piece)
            os.write(fd, b"\n")
            os.fsync(fd)
        except OSError:
            os.ftruncate(fd, end)
            raise
    finally:
        os.close(fd)


def _quoted(qf: QueueFile):
    """The message a piece at a time, with LF line ends and `From ` lines quoted, ending in a line end."""
    pending = b""
    for chunk in qf.content():
        lines = (pending + chunk).split(b"\n")
        pending = lines.pop()
        yield b"".join(_mbox_line(line) + b"\n" for line in lines)
    if pending:
        yield _mbox_line(pending) + b"\n"


def _mbox_line(line: bytes) -> bytes:
    line = line[:-1] if line.endswith(b"\r") else line
    return b">" + line if line.startswith(b"From ") else line
