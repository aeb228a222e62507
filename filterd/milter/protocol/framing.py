"""Milter packets on a byte stream: a 4-byte big-endian length, a command byte, the payload.

`PacketReader` is fed whatever the socket gave (a packet split anywhere, or many packets at once) and hands
back whole packets; `frame` builds one packet. No I/O here.
"""

from __future__ import annotations

import struct

_LENGTH = struct.Struct("!I")
_CODES = [bytes((value,)) for value in range(256)]

MAX_PACKET = 1024 * 1024 + 1024
"""The largest packet accepted: a 1 MB body chunk (SMFIP_MDS_1M) and its command byte, with room to spare."""


class ProtocolError(Exception):
    """The peer broke the milter protocol: a bad length, an unknown code or a malformed payload."""


def frame(code: bytes, payload: bytes = b"") -> bytes:
    """One packet: length (command byte + payload), command byte, payload."""
    return _LENGTH.pack(len(payload) + 1) + code + payload


class PacketReader:
    """Sans-IO packet framing with partial reads: feed bytes, get (code, payload) pairs. A packet that
    comes in many reads is gathered in pieces and joined once, when it is whole."""

    def __init__(self, max_packet: int = MAX_PACKET):
        self.max_packet = max_packet
        self._pieces: list[bytes] = []
        self._size = 0
        self._needed = 0

    @property
    def pending(self) -> int:
        """Bytes received that do not yet make a whole packet."""
        return self._size

    def feed(self, data: bytes) -> list[tuple[bytes, bytes]]:
        """Add bytes from the stream; return every packet now complete, in order."""
        if self._pieces:
            self._pieces.append(data)
            self._size += len(data)
            if self._size < self._needed:
                return []
            data = b"".join(self._pieces)
            self._pieces, self._size = [], 0
        packets, unpack, limit = [], _LENGTH.unpack_from, self.max_packet
        start, size = 0, len(data)
        while size - start >= 4:
            (length,) = unpack(data, start)
            if not 1 <= length <= limit:
                raise ProtocolError(f"bad packet length {length}")
            end = start + 4 + length
            if end > size:
                break
            packets.append((_CODES[data[start + 4]], data[start + 5:end]))
            start = end
        if start < size:
            rest = data[start:]
            self._pieces, self._size = [rest], len(rest)
            self._needed = 4 + unpack(rest)[0] if len(rest) >= 4 else 4
        return packets
