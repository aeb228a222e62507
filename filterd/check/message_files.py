"""The messages `filterd check` reads: a message file, an mbox, a Maildir or MH directory, standard input.

Each is read as it is needed, one message in memory at a time, so that an mbox of any size streams.
"""

from __future__ import annotations

import os
import re
import sys
from dataclasses import dataclass
from typing import BinaryIO, Iterable, Iterator

from filterd.fatal import FatalError

STDIN = "-"
BLANK_LINES = (b"\n", b"\r\n")


@dataclass
class Item:
    """One message and where it came from."""

    label: str
    """The file's name, or for an mbox its name, the message's number (from 1) and its From_ line's sender."""
    data: bytes
    sender: str | None = None
    """The sender of the mbox From_ line ("" for MAILER-DAEMON); None for a message file."""
    in_mbox: bool = False


def read_items(paths: list[str]) -> Iterator[Item]:
    """The messages of each path in turn: `-` is standard input, a directory is its files in name order, a file
    that begins with a From_ line is an mbox, any other file is one message."""
    for path in paths:
        if path == STDIN:
            yield from stream_items(sys.stdin.buffer, "(standard input)")
        elif os.path.isdir(path):
            for name in directory_files(path):
                yield from _file_items(name)
        else:
            yield from _file_items(path)


def several(paths: list[str]) -> bool:
    """Do the paths name more than one message file (an mbox aside, which says so by its Item.in_mbox)?"""
    return len(paths) > 1 or any(path != STDIN and os.path.isdir(path) for path in paths)


def _file_items(path: str) -> Iterator[Item]:
    try:
        stream = open(path, "rb")
    except OSError as exc:
        raise FatalError(f"open {path}: {exc.strerror or exc}") from exc
    with stream:
        yield from stream_items(stream, path)


def stream_items(stream: BinaryIO, label: str) -> Iterator[Item]:
    """The one message of a stream, or each message of an mbox (a stream whose first line is a From_ line)."""
    first = stream.readline()
    if not first.startswith(b"From "):
        yield Item(label, first + stream.read())
        return
    for number, (from_line, data) in enumerate(mbox_messages(_chained(first, stream)), 1):
        yield Item(_mbox_label(label, number, from_line), data, from_sender(from_line), in_mbox=True)


def _mbox_label(label: str, number: int, from_line: bytes) -> str:
    """`INBOX #3 (From alice@example.org)`: the mbox, the message's number from 1, the From_ line's sender."""
    words = from_line.split()
    return f"{label} #{number} (From {words[1].decode('utf-8', 'replace')})" if len(words) > 1 else f"{label} #{number}"


def _chained(first: bytes, rest: Iterable[bytes]) -> Iterator[bytes]:
    yield first
    yield from rest


def mbox_messages(lines: Iterable[bytes]) -> Iterator[tuple[bytes, bytes]]:
    """(From_ line, message) for each message of an mbox, split as Python's mailbox.mbox splits it: a message
    begins at each line that starts with "From ", and the blank line before the next one is not part of it
    (a CRLF blank line no more than an LF one). Lines before the first From_ line belong to no message. Lines
    quoted as ">From " (mboxo, as Postfix's local(8) and Python write them) lose the ">"."""
    from_line: bytes | None = None
    kept: list[bytes] = []
    for line in lines:
        if line.startswith(b"From "):
            if from_line is not None:
                yield from_line, _joined(kept)
            from_line, kept = line, []
        elif from_line is not None:
            kept.append(line[1:] if line.startswith(b">From ") else line)
    if from_line is not None:
        yield from_line, _joined(kept)


def _joined(lines: list[bytes]) -> bytes:
    """The message's lines without the blank line that separates it from the next."""
    if lines and lines[-1] in BLANK_LINES:
        lines = lines[:-1]
    return b"".join(lines)


def from_sender(from_line: bytes) -> str | None:
    """The envelope sender a From_ line names: "" for MAILER-DAEMON (how local(8) writes the null sender), None
    when the line names none."""
    words = from_line.split()
    if len(words) < 2:
        return None
    sender = words[1].decode("utf-8", "surrogateescape")
    return "" if sender in ("MAILER-DAEMON", "<>") else sender


def directory_files(path: str) -> list[str]:
    """The message files of a directory in name order, numbers by value (MH's 1, 2, 10): a Maildir's new/ and
    cur/ together, else the directory's own files; names that begin with a dot are left out (.mh_sequences)."""
    parts = [os.path.join(path, sub) for sub in ("new", "cur") if os.path.isdir(os.path.join(path, sub))]
    found = []
    for directory in parts or [path]:
        try:
            names = os.listdir(directory)
        except OSError as exc:
            raise FatalError(f"open {directory}: {exc.strerror or exc}") from exc
        found += [(name, os.path.join(directory, name)) for name in names if not name.startswith(".")]
    found.sort(key=lambda pair: (name_order(pair[0]), pair[1]))
    return [full for _, full in found if os.path.isfile(full)]


def name_order(name: str) -> list[str | int]:
    """A sort key that compares the runs of digits in a name by value (they alternate with the other runs)."""
    return [int(part) if index % 2 else part for index, part in enumerate(re.split(r"(\d+)", name))]
