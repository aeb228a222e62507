"""Postfix's plain attribute protocol, as anvil(8) speaks it: a record is `name=value` lines and an empty line.

`RecordReader` is fed whatever the socket gave and hands back whole records; `encode` builds one. The requests
and replies of anvil are records: `request=connect`, `ident=SERVICE:ADDRESS` answered by `status=0`, `count=N`,
`rate=N`. No I/O here.
"""

from __future__ import annotations

from dataclasses import dataclass

MAX_RECORD = 4096
"""The largest record accepted: an ident is a service name and an address."""

PROTOCOL = {"protocol": "anvil"}
"""The server's announcement when a client connects (Postfix's post_accept)."""

STATUS_OK = "0"
STATUS_FAIL = "-1"

Record = dict[str, str]


class ProtocolError(Exception):
    """The peer broke the protocol: a record too long, or a line that is not name=value."""


def encode(record: Record) -> bytes:
    """One record on the wire."""
    return "".join(f"{name}={value}\n" for name, value in record.items()).encode() + b"\n"


def ident(service: str, address: str) -> str:
    """Postfix's ANVIL_IDENT: the (service, client) pair one count and rate belong to, made printable."""
    return "".join(c if c.isprintable() and c not in "\n=" else "?" for c in f"{service}:{address}")


def connect_request(key: str) -> bytes:
    return encode({"request": "connect", "ident": key})


def event_request(event: str, key: str) -> bytes:
    """An AUTH ("auth"), MAIL ("message") or RCPT ("recipient") of the (service, client) pair `key`."""
    return encode({"request": event, "ident": key})


def event_rate(record: Record, event: str = "auth") -> int:
    """anvil's answer to an event request: the client's events of that kind this time unit."""
    if record.get("status") != STATUS_OK or not record.get("rate", "").isdigit():
        raise ProtocolError(f"bad {event} reply {record!r}")
    return int(record["rate"])


def disconnect_request(key: str) -> bytes:
    return encode({"request": "disconnect", "ident": key})


@dataclass(frozen=True)
class Counts:
    """anvil's answer to a connect: the client's simultaneous connections and its connections this time unit."""

    count: int
    rate: int

    @classmethod
    def from_reply(cls, record: Record) -> Counts:
        if record.get("status") != STATUS_OK:
            raise ProtocolError(f"request failed: status={record.get('status')}")
        try:
            return cls(int(record["count"]), int(record["rate"]))
        except (KeyError, ValueError):
            raise ProtocolError(f"bad connect reply {record!r}") from None


class RecordReader:
    """Sans-IO record framing with partial reads: feed bytes, get every record now complete, in order."""

    def __init__(self, max_record: int = MAX_RECORD):
        self.max_record = max_record
        self._pending = b""

    def feed(self, data: bytes) -> list[Record]:
        buffer = self._pending + data if self._pending else data
        records, start = [], 0
        while (end := buffer.find(b"\n\n", start)) >= 0:
            records.append(_record(buffer[start:end]))
            start = end + 2
        self._pending = buffer[start:]
        if len(self._pending) > self.max_record:
            raise ProtocolError(f"record longer than {self.max_record} bytes")
        return records


def _record(text: bytes) -> Record:
    if not text:
        raise ProtocolError("empty record")
    record = {}
    for line in text.decode("utf-8", "replace").split("\n"):
        name, sep, value = line.partition("=")
        if not sep or not name:
            raise ProtocolError(f"bad attribute line {line!r}")
        record[name] = value
    return record
