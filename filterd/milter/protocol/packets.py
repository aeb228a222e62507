"""Packet payloads as typed fields: the one codec every milter command and response is built on.

A packet class is a frozen dataclass with a `code` and a `layout`, one field kind per dataclass field:
u32, u16, char, str (NUL-terminated), strs (every remaining string), pairs (remaining strings as
name/value pairs), raw (the remaining bytes), symlists (remaining stage/names lists). Trailing fields
with defaults may be absent from a payload; a field whose value is None is left out when encoding.
"""

from __future__ import annotations

import struct
from dataclasses import dataclass, field, fields, make_dataclass
from functools import cache, lru_cache
from typing import Any, Callable, ClassVar

from filterd.content import decode, encode
from filterd.milter.protocol.framing import ProtocolError, frame

_U32 = struct.Struct("!I")
_U16 = struct.Struct("!H")


def _cstring(text: str) -> bytes:
    return encode(text) + b"\0"


def _take_str(payload: bytes, pos: int) -> tuple[str, int]:
    end = payload.find(b"\0", pos)
    if end < 0:
        raise ProtocolError("string without NUL terminator")
    return decode(payload[pos:end]), end + 1


def _take_strs(payload: bytes, pos: int) -> tuple[tuple[str, ...], int]:
    if payload[-1:] != b"\0":
        raise ProtocolError("string without NUL terminator")
    return tuple(decode(item) for item in payload[pos:-1].split(b"\0")), len(payload)


def _take_pairs(payload: bytes, pos: int) -> tuple[tuple[tuple[str, str], ...], int]:
    items, end = _take_strs(payload, pos) if pos < len(payload) else ((), pos)
    if len(items) % 2:
        raise ProtocolError("macro name without value")
    return tuple(zip(items[::2], items[1::2])), end


def _take_symlists(payload: bytes, pos: int) -> tuple[dict[int, str], int]:
    lists = {}
    while pos < len(payload):
        stage, pos = _take_fixed(_U32, payload, pos)
        lists[stage], pos = _take_str(payload, pos)
    return lists, pos


def _take_fixed(fmt: struct.Struct, payload: bytes, pos: int) -> tuple[int, int]:
    if pos + fmt.size > len(payload):
        raise ProtocolError("payload too short")
    return fmt.unpack_from(payload, pos)[0], pos + fmt.size


def _take_char(payload: bytes, pos: int) -> tuple[str, int]:
    return chr(payload[pos]), pos + 1


_DECODE: dict[str, Callable[[bytes, int], tuple[Any, int]]] = {
    "u32": lambda payload, pos: _take_fixed(_U32, payload, pos),
    "u16": lambda payload, pos: _take_fixed(_U16, payload, pos),
    "char": _take_char,
    "str": _take_str,
    "strs": _take_strs,
    "pairs": _take_pairs,
    "raw": lambda payload, pos: (payload[pos:], len(payload)),
    "symlists": _take_symlists,
}

_ENCODE: dict[str, Callable[[Any], bytes]] = {
    "u32": _U32.pack,
    "u16": _U16.pack,
    "char": lambda value: value.encode("latin-1"),
    "str": _cstring,
    "strs": lambda values: b"".join(map(_cstring, values)),
    "pairs": lambda pairs: b"".join(_cstring(name) + _cstring(value) for name, value in pairs),
    "raw": bytes,
    "symlists": lambda lists: b"".join(_U32.pack(stage) + _cstring(names) for stage, names in lists.items()),
}


def _strings(count: int) -> Callable[[bytes], tuple[str, ...]]:
    """A fast decoder for payloads of up to `count` NUL-terminated strings (missing ones take defaults)."""
    def take(payload: bytes) -> tuple[str, ...]:
        parts = payload.split(b"\0")
        if not 2 <= len(parts) <= count + 1 or parts[-1]:
            raise ProtocolError(f"expected {count} NUL-terminated strings")
        return tuple(decode(part) for part in parts[:-1])
    return take


def _nothing(payload: bytes) -> tuple[()]:
    if payload:
        raise ProtocolError(f"{len(payload)} bytes of left-over data")
    return ()


@lru_cache(maxsize=1024)
def macro_fields(payload: bytes) -> tuple[str, tuple[tuple[str, str], ...]]:
    """Macro packets repeat (the same values before every header): decoded once."""
    if not payload:
        raise ProtocolError("macro packet without a command code")
    return _take_char(payload, 0)[0], _take_pairs(payload, 1)[0]


def _fields(layout: tuple[str, ...], payload: bytes) -> tuple[Any, ...]:
    """A payload's values, field by field; trailing optional fields may be absent."""
    values, pos = [], 0
    for kind in layout:
        if pos >= len(payload) and kind in ("str", "u16", "u32", "char", "symlists"):
            break
        value, pos = _DECODE[kind](payload, pos)
        values.append(value)
    if pos < len(payload):
        raise ProtocolError(f"{len(payload) - pos} bytes of left-over data")
    return tuple(values)


def _connect_fields(payload: bytes) -> tuple[Any, ...]:
    """SMFIC_CONNECT's layout (host, family, port, address), each after the host optional."""
    end = payload.find(b"\0")
    if end < 0:
        raise ProtocolError("string without NUL terminator")
    host, rest = decode(payload[:end]), payload[end + 1:]
    if not rest:
        return (host,)
    if len(rest) == 1:
        return host, chr(rest[0])
    if len(rest) < 3:
        raise ProtocolError("payload too short")
    address = rest[3:]
    if not address:
        return host, chr(rest[0]), _U16.unpack_from(rest, 1)[0]
    if address.find(b"\0") != len(address) - 1:
        raise ProtocolError("string without NUL terminator" if address[-1] else "left-over data after the address")
    return host, chr(rest[0]), _U16.unpack_from(rest, 1)[0], decode(address[:-1])


def _optneg_fields(payload: bytes) -> tuple[Any, ...]:
    """SMFIC_OPTNEG as an MTA sends it: three numbers (a filter's answer may add macro lists)."""
    if len(payload) == 12:
        return _THREE_U32.unpack(payload)
    return _fields(("u32", "u32", "u32", "symlists"), payload)


_THREE_U32 = struct.Struct("!III")

_FAST: dict[tuple[str, ...], Callable[[bytes], tuple[Any, ...]]] = {
    (): _nothing,
    ("raw",): lambda payload: (payload,),
    ("str",): _strings(1),
    ("str", "str"): _strings(2),
    ("strs",): lambda payload: (_take_strs(payload, 0)[0],),
    ("char", "pairs"): macro_fields,
    ("str", "char", "u16", "str"): _connect_fields,
    ("u32", "u32", "u32", "symlists"): _optneg_fields,
}
"""Decoders for the layouts of the most frequent packets (macros, headers, body, MAIL, RCPT)."""


@dataclass(frozen=True)
class Packet:
    """A milter packet with typed fields; subclasses set `code` and `layout`."""

    code: ClassVar[bytes] = b""
    layout: ClassVar[tuple[str, ...]] = ()

    def payload(self) -> bytes:
        values = (getattr(self, name) for name in _names(type(self)))
        return b"".join(_ENCODE[kind](value) for kind, value in zip(self.layout, values) if value is not None)

    def encode(self) -> bytes:
        """The whole packet, framed."""
        if not self.layout:
            return _framed(self.code)
        return frame(self.code, self.payload())

    @classmethod
    def decoder(cls) -> Callable[[bytes], Packet]:
        """A function from payload to packet: the fast one for frequent layouts, else `decode`."""
        fast = _FAST.get(cls.layout)
        if fast is None:
            return cls.decode
        if not cls.layout:
            only = cls()

            def constant(payload: bytes) -> Packet:
                if payload:
                    raise ProtocolError(f"{len(payload)} bytes of left-over data")
                return only
            return constant

        def decode(payload: bytes) -> Packet:
            try:
                return cls(*fast(payload))
            except TypeError:
                raise ProtocolError(f"{cls.__name__}: payload too short or too long") from None
        return decode

    @classmethod
    def decode(cls, payload: bytes) -> Packet:
        """The packet from its payload; ProtocolError when malformed."""
        if cls.layout in _FAST:
            return cls.decoder()(payload)
        try:
            return cls(*_fields(cls.layout, payload))
        except TypeError:
            raise ProtocolError(f"{cls.__name__}: payload too short") from None


class Framed:
    """A packet encoded once and sent many times (the same OPTNEG answer on every connection)."""

    def __init__(self, packet: Packet):
        self.packet, self.code, self._bytes = packet, packet.code, packet.encode()

    def encode(self) -> bytes:
        return self._bytes


_TYPES = {"u32": int, "u16": int, "char": str, "str": str, "strs": tuple, "pairs": tuple, "raw": bytes,
          "symlists": dict}


def packet_kind(name: str, code: bytes, doc: str, *spec: tuple, module: str = __name__) -> type[Packet]:
    """A packet kind from its fields, each (name, field kind) or (name, field kind, default)."""
    columns = [(item[0], _TYPES[item[1]], _default(item[2])) if len(item) > 2 else (item[0], _TYPES[item[1]])
               for item in spec]
    namespace = {"code": code, "layout": tuple(item[1] for item in spec), "__doc__": doc, "__module__": module}
    return make_dataclass(name, columns, bases=(Packet,), namespace=namespace, frozen=True)


def _default(value: Any) -> Any:
    return field(default_factory=value) if value in (dict, tuple) else field(default=value)


@cache
def _names(kind: type[Packet]) -> tuple[str, ...]:
    return tuple(field.name for field in fields(kind))


@cache
def _framed(code: bytes) -> bytes:
    return frame(code)


Decoders = dict[bytes, Callable[[bytes], Packet]]


def decoders(kinds: tuple[type[Packet], ...]) -> Decoders:
    """Each packet kind's decoder, by code."""
    return {kind.code: kind.decoder() for kind in kinds}


def decode_packet(table: Decoders, code: bytes, payload: bytes) -> Packet:
    """Decode a payload with the decoder `table` has for `code`."""
    decode = table.get(code)
    if decode is None:
        raise ProtocolError(f"unknown packet code {code!r}")
    return decode(payload)
