"""The pipe service's protocol, sans-IO: how `filterd pipe` hands one message to a resident filterd and hears
its exit status, as spamc hands one to spamd.

The client sends the envelope as attribute lines, an empty line, then the message in chunks, each its length in
decimal on a line of its own and that many bytes, and a chunk of length 0 at the end (so a message cut short is
never mistaken for a whole one):

    sender=alice@example.org            (empty: the null sender)
    recipient=bob@example.net           (one line each, at least one)

    5
    hello
    0

The service answers one line, `STATUS TEXT`: the exit status for pipe(8) (0, 69 or 75) and the text to print,
and closes the connection. Anything else is a ProtocolError.
"""

from __future__ import annotations

LINE_LIMIT = 4096
CHUNK_LIMIT = 1 << 20
RECIPIENT_LIMIT = 1000
"""As Postfix's smtpd_recipient_limit: the recipients one message may have."""
STATUSES = (0, 69, 75)
END = b"0\n"


class ProtocolError(Exception):
    """Bytes that the other side would never send: the connection is closed."""


class _Event:
    """An event of the request: compared and shown by its fields (no dataclasses: the client imports this)."""

    __slots__ = ()

    def __eq__(self, other: object) -> bool:
        return type(other) is type(self) and self._fields() == other._fields()

    def __repr__(self) -> str:
        return f"{type(self).__name__}{self._fields()!r}"

    def _fields(self) -> tuple:
        return tuple(getattr(self, name) for name in self.__slots__)


class Request(_Event):
    """The envelope: sender ('' for the null sender) and recipients."""

    __slots__ = ("sender", "recipients")

    def __init__(self, sender: str, recipients: tuple[str, ...]):
        self.sender, self.recipients = sender, recipients


class Content(_Event):
    """A piece of the message, in order."""

    __slots__ = ("data",)

    def __init__(self, data: bytes):
        self.data = data


class EndOfMessage(_Event):
    """The whole message has come."""

    __slots__ = ()


def _attribute(name: str, value: str) -> bytes:
    encoded = value.encode("utf-8", "surrogateescape")
    if any(c in encoded for c in b"\r\n\0") or len(encoded) + len(name) + 2 > LINE_LIMIT:
        # shown as bytes, which C's filterd-pipe words alike (a str's repr depends on Unicode's tables)
        raise ValueError(f"bad {name} address: {repr(encoded)[1:]}")
    return name.encode() + b"=" + encoded + b"\n"


def encode_request(sender: str, recipients: list[str]) -> bytes:
    """The envelope's lines; ValueError for an address that cannot be sent (a newline, NUL, too long)."""
    if not recipients or len(recipients) > RECIPIENT_LIMIT:
        raise ValueError(f"expected 1 to {RECIPIENT_LIMIT} recipients, got {len(recipients)}")
    return b"".join([_attribute("sender", sender), *(_attribute("recipient", r) for r in recipients), b"\n"])


def encode_chunk(data: bytes) -> bytes:
    """One piece of the message (never empty: the empty chunk is END)."""
    return b"%d\n%s" % (len(data), data)


def encode_reply(status: int, text: str) -> bytes:
    """The answer: the exit status and one line of text."""
    text = " ".join(text.split())
    return f"{status} {text}\n".encode("utf-8", "surrogateescape") if text else f"{status}\n".encode()


def parse_reply(data: bytes) -> tuple[int, str]:
    """(status, text) from everything the service sent; ProtocolError unless it is exactly one reply line."""
    if not data:
        raise ProtocolError("no reply")
    line, newline, rest = data.partition(b"\n")
    status, _, text = line.partition(b" ")
    if not newline or rest or len(line) > LINE_LIMIT or not status.isdigit() or int(status) not in STATUSES:
        raise ProtocolError(f"malformed reply {data[:80]!r}")
    return int(status), text.decode("utf-8", "replace")


class RequestReader:
    """Bytes in, Request / Content / EndOfMessage events out; a ProtocolError at the first malformed byte."""

    def __init__(self) -> None:
        self._buffer = bytearray()
        self._state = "sender"
        self._sender = ""
        self._recipients: list[str] = []
        self._left = 0

    @property
    def done(self) -> bool:
        return self._state == "done"

    def feed(self, data: bytes) -> list[Request | Content | EndOfMessage]:
        """The events that data completes, in order."""
        self._buffer += data
        events: list = []
        while self._buffer and self._state != "done":
            event = self._STEPS[self._state](self)
            if event is None:
                break
            events.append(event)
        if self._state == "done" and self._buffer:
            raise ProtocolError("data after the end of the message")
        return [event for event in events if event is not _NOTHING]

    def _line(self) -> str | None:
        end = self._buffer.find(b"\n", 0, LINE_LIMIT + 1)
        if end < 0:
            if len(self._buffer) > LINE_LIMIT:
                raise ProtocolError(f"line longer than {LINE_LIMIT} bytes")
            return None
        line = bytes(self._buffer[:end])
        del self._buffer[:end + 1]
        return line.decode("utf-8", "surrogateescape")

    def _read_sender(self):
        if (line := self._line()) is None:
            return None
        self._sender = self._value(line, "sender")
        self._state = "recipients"
        return _NOTHING

    def _read_recipient(self):
        if (line := self._line()) is None:
            return None
        if line:
            if len(self._recipients) >= RECIPIENT_LIMIT:
                raise ProtocolError(f"more than {RECIPIENT_LIMIT} recipients")
            self._recipients.append(self._value(line, "recipient"))
            return _NOTHING
        if not self._recipients:
            raise ProtocolError("no recipient")
        self._state = "size"
        return Request(self._sender, tuple(self._recipients))

    @staticmethod
    def _value(line: str, name: str) -> str:
        found, equals, value = line.partition("=")
        if found != name or not equals or "\r" in value or "\0" in value:
            raise ProtocolError(f"expected {name}=ADDRESS, got {line[:80]!r}")
        return value

    def _read_size(self):
        if (line := self._line()) is None:
            if len(self._buffer) > 8:
                raise ProtocolError("chunk size too long")
            return None
        if not line.isdigit() or not line.isascii() or len(line) > 8 or int(line) > CHUNK_LIMIT:
            raise ProtocolError(f"bad chunk size {line[:20]!r}")
        self._left = int(line)
        self._state = "data" if self._left else "done"
        return _NOTHING if self._left else EndOfMessage()

    def _read_data(self):
        data = bytes(self._buffer[:self._left])
        del self._buffer[:len(data)]
        self._left -= len(data)
        if not self._left:
            self._state = "size"
        return Content(data)

    _STEPS = {"sender": _read_sender, "recipients": _read_recipient, "size": _read_size, "data": _read_data}


_NOTHING = object()
