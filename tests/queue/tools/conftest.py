"""A spool in tmp_path, a main.cf pointing at it, messages of chosen size and age, and the tools run in-process."""

from __future__ import annotations

import io
import sys
from dataclasses import dataclass
from pathlib import Path

import pytest

from filterd import cli
from filterd.queue.queuefile import QueueEnvelope, Recipient
from filterd.queue.spool import Spool

ARRIVAL = 1_795_692_658


def content_of_size(size: int, subject: str = "test") -> bytes:
    """A message of exactly `size` bytes: a Subject header and lines of x."""
    data = f"Subject: {subject}\r\n\r\n".encode()
    while len(data) + 72 <= size:
        data += b"x" * 70 + b"\r\n"
    rest = size - len(data)
    return data + (b"y" * (rest - 2) + b"\r\n" if rest >= 2 else b"z" * rest)


def queue_message(spool: Spool, queue: str, queue_id: str, sender: str, recipients: list[str | Recipient],
                  size: int = 300, arrival: float = ARRIVAL, **fields) -> QueueEnvelope:
    """Store one message in a queue, recipients given as addresses or Recipient objects."""
    rcpts = [r if isinstance(r, Recipient) else Recipient(r) for r in recipients]
    envelope = QueueEnvelope(queue_id, sender, rcpts, arrival, size, **fields)
    spool.store(queue, envelope, iter([content_of_size(size)]))
    return envelope


@dataclass
class Result:
    status: int
    out: str
    err: str


class Tools:
    """`filterd -c main.cf TOOL ...` run in this process, with standard input given as bytes."""

    def __init__(self, main_cf: Path, capsys, monkeypatch):
        self.main_cf, self.capsys, self.monkeypatch = main_cf, capsys, monkeypatch

    def __call__(self, *argv: str, stdin: bytes = b"") -> Result:
        self.capsys.readouterr()
        self.monkeypatch.setattr(sys, "stdin", io.TextIOWrapper(io.BytesIO(stdin)))
        status = cli.main(["-c", str(self.main_cf), *argv])
        captured = self.capsys.readouterr()
        return Result(status, captured.out, captured.err)


@pytest.fixture
def spool(tmp_path) -> Spool:
    return Spool(tmp_path / "queue").create()


@pytest.fixture
def main_cf(tmp_path, spool) -> Path:
    path = tmp_path / "main.cf"
    path.write_text(f"queue_directory = {spool.root}\nmaillog_file = {tmp_path / 'maillog'}\n"
                    "myhostname = filterd.test\n")
    return path


@pytest.fixture
def maillog(tmp_path):
    """The maillog's text so far."""
    return lambda: (tmp_path / "maillog").read_text() if (tmp_path / "maillog").exists() else ""


@pytest.fixture
def utc(local_zone):
    """Local time is UTC, so that arrival times print as in the expected listings."""
    local_zone("UTC")


@pytest.fixture
def tools(main_cf, capsys, monkeypatch, utc) -> Tools:
    return Tools(main_cf, capsys, monkeypatch)
