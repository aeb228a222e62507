"""A next hop that writes each message to a file in a directory, for the bundled default set-up and tests."""

from __future__ import annotations

import os
from pathlib import Path

from filterd.handoff import CutShort, Reply, Routing
from filterd.model import Envelope, Message, Session


class SinkNextHop:
    """Writes `QUEUEID` files (fsynced, renamed into place) holding Return-Path, Delivered-To and the message."""

    logs_delivery = True

    def __init__(self, directory: str):
        self.directory = Path(directory)
        self.relay = "sink"
        self._envelope: Envelope | None = None
        self._extra: list[str] = []

    async def begin(self, session: Session, envelope: Envelope) -> Reply:
        self._envelope = envelope
        self._extra = []
        return Reply(250, "2.1.0 Ok")

    async def recipient(self, address: str, options: list[str]) -> Reply:
        return Reply(250, "2.1.5 Ok")

    async def restart(self, sender: str, recipients: tuple[str, ...]) -> Reply:
        return Reply(250, "2.1.5 Ok")

    async def deliver(self, message: Message, routing: Routing | None = None) -> Reply:
        envelope = self._envelope
        assert envelope is not None
        self.directory.mkdir(parents=True, exist_ok=True)
        name = envelope.queue_id or str(os.getpid())
        tmp = self.directory / f".{name}.tmp"
        with open(tmp, "wb") as out:
            out.write(f"Return-Path: <{envelope.sender}>\r\n".encode())
            for rcpt in envelope.recipients:
                out.write(f"X-Original-To: {rcpt}\r\n".encode("utf-8", "surrogateescape"))
            for chunk in message.chunks():
                out.write(chunk)
            out.flush()
            os.fsync(out.fileno())
        os.rename(tmp, self.directory / name)
        return Reply(250, f"2.0.0 Ok: queued as {name}")

    async def abort(self, cut: CutShort | None = None) -> None:
        self._envelope = None
