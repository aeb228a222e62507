"""clamd's INSTREAM protocol without I/O: the bytes to send for a message, and the reply read from bytes.

The request is `zINSTREAM\\0`, then the data in frames (a 4-byte big-endian length, then that many bytes), then a
zero-length frame. clamd answers one NUL-terminated line: `stream: OK`, `stream: NAME FOUND`, or `... ERROR`.
"""

from __future__ import annotations

import struct
from dataclasses import dataclass
from typing import Iterable, Iterator

REQUEST = b"zINSTREAM\0"
END = struct.pack("!L", 0)
FRAME_SIZE = 65536
"""At most this many bytes per frame, well below clamd's StreamMaxLength."""
REPLY_LIMIT = 4096


class ProtocolError(ValueError):
    """clamd's answer is not one the protocol allows."""


@dataclass(frozen=True)
class Reply:
    """What clamd found: `status` OK, FOUND or ERROR; `signature` for FOUND, else the text of an ERROR."""

    status: str
    signature: str = ""

    @property
    def infected(self) -> bool:
        return self.status == "FOUND"


def frames(chunks: Iterable[bytes], size: int = FRAME_SIZE) -> Iterator[bytes]:
    """The request, each chunk in frames of at most `size` bytes, and the end frame."""
    yield REQUEST
    for chunk in chunks:
        for start in range(0, len(chunk), size):
            piece = chunk[start:start + size]
            yield struct.pack("!L", len(piece)) + piece
    yield END


class ReplyReader:
    """Collects clamd's answer from the bytes as they come; `feed` returns the Reply once its NUL is in."""

    def __init__(self) -> None:
        self._buffer = b""

    def feed(self, data: bytes) -> Reply | None:
        self._buffer += data
        line, nul, _ = self._buffer.partition(b"\0")
        if not nul:
            if len(self._buffer) > REPLY_LIMIT:
                raise ProtocolError(f"reply longer than {REPLY_LIMIT} bytes without its end")
            return None
        return parse(line)

    def close(self) -> Reply:
        """The Reply when clamd closed the connection: a last line without its NUL is taken as it is."""
        if not self._buffer:
            raise ProtocolError("connection closed without a reply")
        return parse(self._buffer.partition(b"\0")[0])


def parse(line: bytes) -> Reply:
    """`stream: OK`, `stream: Eicar-Signature FOUND`, `INSTREAM size limit exceeded. ERROR`."""
    text = line.decode("utf-8", "replace").strip()
    if text.endswith(" ERROR"):
        return Reply("ERROR", text[:-len(" ERROR")])
    _, colon, result = text.partition(": ")
    if colon and result == "OK":
        return Reply("OK")
    if colon and result.endswith(" FOUND") and len(result) > len(" FOUND"):
        return Reply("FOUND", result[:-len(" FOUND")])
    raise ProtocolError(f"unexpected reply {text[:200]!r}")
