"""The queue file: envelope, routing decisions and content in one file, recipient status appended.

Layout (all that is needed to deliver, bounce or list a message):

    FQ1 <envelope length>\\n
    <envelope: one JSON object>\\n
    <content: the message as it will leave, CRLF line ends>
    <status records: one JSON object per line, appended as recipients are done or deferred>

The envelope and content are written once (under a temporary name, fsynced, renamed); only
status records are appended afterwards, and a half-written last record is ignored when the file
is read. A status record is written at once but not fsynced, as Postfix's deliver_completed()
only flushes its 'D' record: a killed process loses nothing it wrote, and a record that a system
crash loses makes the recipient pending again, a duplicate delivery and never a lost one.
"""

from __future__ import annotations

import json
import math
import os
from dataclasses import asdict, dataclass, field, fields
from typing import IO, Iterator

MAGIC = b"FQ1 "
_CHUNK = 65536


class CorruptQueueFile(Exception):
    """A queue file that cannot be read: it goes to the corrupt queue."""


@dataclass
class Recipient:
    """One envelope recipient and what became of it."""

    address: str
    orcpt: str = ""
    notify: str = ""
    status: str = ""
    dsn: str = ""
    text: str = ""
    relay: str = ""
    orig: str = ""
    """The recipient as the client gave it, when the queue manager sends to another (REDIRECT, the canonical
    form): Postfix's orig_rcpt, logged as orig_to= and named in a bounce's "expanded from"."""

    @property
    def done(self) -> bool:
        return self.status in ("sent", "bounced", "expired")


@dataclass
class QueueEnvelope:
    """Everything about a queued message except its content."""

    queue_id: str
    sender: str
    recipients: list[Recipient]
    arrival: float
    size: int = 0
    body_type: str = ""
    smtputf8: bool = False
    ret: str = ""
    envid: str = ""
    client: str = ""
    helo: str = ""
    protocol: str = ""
    redirect: str = ""
    bcc: list[str] = field(default_factory=list)
    filter: str = ""
    hold_reason: str = ""
    is_bounce: bool = False
    message_id: str = ""
    record: bool = False
    """sendmail -v: the sender gets a report of every recipient's delivery (Postfix's "record delivery")."""
    filtered: bool = False
    """The after-queue stage is done (or the message came back from a filter): it never runs on it again."""
    warned: bool = False
    """The sender has had the delay notice (delay_warning_time): it is sent once."""

    def to_json(self) -> bytes:
        return json.dumps(asdict(self), separators=(",", ":"), ensure_ascii=False).encode("utf-8", "surrogateescape")

    @classmethod
    def from_json(cls, data: bytes) -> QueueEnvelope:
        """The envelope from its record; ValueError when a field is missing, unknown or of another type."""
        values = _typed(cls, json.loads(data.decode("utf-8", "surrogateescape")))
        values["recipients"] = [Recipient(**_typed(Recipient, r)) for r in values["recipients"]]
        if not all(type(address) is str for address in values.get("bcc", ())):
            raise ValueError("bcc: not a list of addresses")
        return cls(**values)

    def pending(self) -> list[Recipient]:
        return [r for r in self.recipients if not r.done]


def write(out: IO[bytes], envelope: QueueEnvelope, chunks: Iterator[bytes]) -> int:
    """Write a whole queue file to `out` (not yet fsynced); returns the content size."""
    header = envelope.to_json()
    out.write(MAGIC + str(len(header)).encode() + b"\n" + header + b"\n")
    size = 0
    for chunk in chunks:
        out.write(chunk)
        size += len(chunk)
    return size


@dataclass
class QueueFile:
    """A queue file opened for reading: its envelope (statuses folded in) and where the content lies."""

    path: str
    envelope: QueueEnvelope
    content_offset: int
    content_length: int
    others: list[Recipient] = field(default_factory=list)
    """The last status of each address the file records but does not list: a REDIRECT's target (the queue manager
    redirects the file as read), as Postfix's defer log names it beside the queue file's recipients."""

    @classmethod
    def read(cls, path: str) -> QueueFile:
        try:
            with open(path, "rb") as f:
                return cls._parse(path, f)
        except (OSError, ValueError, KeyError, TypeError, OverflowError, RecursionError) as exc:
            raise CorruptQueueFile(f"{path}: {exc}") from exc

    @classmethod
    def _parse(cls, path: str, f: IO[bytes]) -> QueueFile:
        first = f.readline()
        if not first.startswith(MAGIC):
            raise ValueError("not a filterd queue file")
        length = int(first[len(MAGIC):])
        if not 0 <= length <= os.fstat(f.fileno()).st_size:
            raise ValueError(f"envelope length {length} beyond the file")
        envelope = QueueEnvelope.from_json(f.read(length))
        if f.read(1) != b"\n":
            raise ValueError("envelope not terminated")
        offset = f.tell()
        if envelope.size < 0:
            raise ValueError(f"content size {envelope.size}")
        f.seek(offset + envelope.size)
        if f.tell() != offset + envelope.size or os.fstat(f.fileno()).st_size < offset + envelope.size:
            raise ValueError("content truncated")
        others = _fold_statuses(envelope, f)
        return cls(path, envelope, offset, envelope.size, list(others.values()))

    def content(self) -> Iterator[bytes]:
        """The message content, streamed."""
        with open(self.path, "rb") as f:
            f.seek(self.content_offset)
            left = self.content_length
            while left > 0:
                chunk = f.read(min(_CHUNK, left))
                if not chunk:
                    raise CorruptQueueFile(f"{self.path}: content truncated")
                left -= len(chunk)
                yield chunk

    def record(self, recipient: Recipient) -> None:
        """Append one recipient's new status."""
        self.record_all([recipient])

    def mark_filtered(self) -> None:
        """Append that the after-queue stage is done, so that a later attempt does not filter the message again."""
        self._append(b'{"f":"yes"}\n')
        self.envelope.filtered = True

    def mark_warned(self) -> None:
        """Append that the sender has had the delay notice, so that a later attempt does not send it again."""
        self._append(b'{"w":"yes"}\n')
        self.envelope.warned = True

    def _append(self, records: bytes) -> None:
        """One write at the end of the file (O_APPEND), as the records' readers expect it."""
        fd = os.open(self.path, os.O_WRONLY | os.O_APPEND)
        try:
            os.write(fd, records)
        finally:
            os.close(fd)

    def record_all(self, recipients: list[Recipient]) -> None:
        """Append several recipients' new statuses in one write (not fsynced: see the module's docstring);
        FileNotFoundError if the file was moved away."""
        if not recipients:
            return
        self._append(b"".join(json.dumps(status_record(r), ensure_ascii=False).encode("utf-8", "surrogateescape")
                              + b"\n" for r in recipients))


_JSON_TYPES = {"str": (str,), "int": (int,), "float": (int, float), "bool": (bool,), "list[str]": (list,),
               "list[Recipient]": (list,)}


def _typed(kind: type, values: object) -> dict:
    """A record's values, checked against the dataclass's field types (JSON gives bool for int too: refused)."""
    if type(values) is not dict:
        raise ValueError(f"{kind.__name__}: not a JSON object")
    for declared in fields(kind):
        value = values.get(declared.name, "")
        if declared.name in values and (type(value) not in _JSON_TYPES[declared.type]
                                        or type(value) is float and not math.isfinite(value)):
            raise ValueError(f"{declared.name}: {type(value).__name__} where {declared.type} belongs")
    return values


def _fold_statuses(envelope: QueueEnvelope, f: IO[bytes]) -> dict[str, Recipient]:
    """The status records folded into the envelope's recipients; those of other addresses, by address."""
    by_address = {r.address: r for r in envelope.recipients}
    others: dict[str, Recipient] = {}
    for line in f:
        try:
            record = json.loads(line.decode("utf-8", "surrogateescape"))
        except ValueError:
            break
        if type(record) is not dict or not all(type(value) is str for value in record.values()):
            raise ValueError(f"status record is not one of strings: {line[:80]!r}")
        if record.get("f") == "yes":
            envelope.filtered = True
        elif record.get("w") == "yes":
            envelope.warned = True
        elif "r" in record and record["r"] not in by_address:
            others.setdefault(record["r"], Recipient(record["r"]))
            take_status(others, record)
        take_status(by_address, record)
    return others


def status_record(rcpt: Recipient) -> dict[str, str]:
    """A recipient's status record: what the queue file appends, and what the delivery agent tells its manager."""
    return {"r": rcpt.address, "s": rcpt.status, "d": rcpt.dsn, "t": rcpt.text, "h": rcpt.relay}


def take_status(by_address: dict[str, Recipient], record: dict) -> None:
    """A status record folded into its recipient (found by address; none: ignored)."""
    recipient = by_address.get(record.get("r"))
    if recipient is not None:
        recipient.status, recipient.dsn = record.get("s", ""), record.get("d", "")
        recipient.text, recipient.relay = record.get("t", ""), record.get("h", "")
