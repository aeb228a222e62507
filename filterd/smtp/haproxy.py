"""The haproxy PROXY handshake (version 1 text, version 2 binary) that a listener behind a load balancer reads
before its greeting (smtpd_upstream_proxy_protocol = haproxy): parsed as Postfix's haproxy_srvr.c parses what one
read brought, with its error words, the client and server endpoints taken from it. Sans-IO."""

from __future__ import annotations

import ipaddress
import struct
from dataclasses import dataclass

HEADER_MAX = 536
"""The most a handshake may take (HAPROXY_HEADER_MAX_LEN): Postfix peeks this much, then consumes the header."""
V2_SIGNATURE = b"\r\n\r\n\x00\r\nQUIT\n"
V2_HEADER = 16
_CONTROLS = {7: "\\a", 8: "\\b", 12: "\\f", 10: "\\n", 13: "\\r", 9: "\\t", 11: "\\v"}


class HandshakeError(ValueError):
    """The handshake is not one Postfix takes; the text is its reason (`haproxy read: REASON: HEADER`)."""


@dataclass(frozen=True)
class Handshake:
    """The handshake's length, and the endpoints it names (None for a v2 LOCAL: the connection's own)."""

    length: int
    client: tuple[str, int] | None = None
    server: tuple[str, int] | None = None


def parse(data: bytes, ipv4: bool = True, ipv6: bool = True) -> Handshake:
    """The handshake at the start of `data` (what one read brought); HandshakeError with Postfix's reason."""
    if data.startswith(b"PROXY "):
        return _version1(data, ipv4, ipv6)
    return _version2(data, ipv4, ipv6)


def _version1(data: bytes, ipv4: bool, ipv6: bool) -> Handshake:
    end = data.find(b"\n")
    if end < 0:
        raise HandshakeError("missing protocol header terminator")
    words = [w for w in data[:end].decode("latin-1").replace("\r", " ").split(" ") if w] + [None] * 6
    if words[0] != "PROXY":
        raise HandshakeError("bad or missing protocol header")
    family = {"TCP4": 4 if ipv4 else 0, "TCP6": 6 if ipv6 else 0}.get((words[1] or "").upper(), 0)
    if not family:
        raise HandshakeError("bad or missing protocol type")
    client = _address(words[2], family, ipv4)
    if client is None:
        raise HandshakeError("bad or missing client address")
    server = _address(words[3], family, ipv4)
    if server is None:
        raise HandshakeError("bad or missing server address")
    client_port, server_port = _port(words[4]), _port(words[5])
    if client_port is None:
        raise HandshakeError("bad or missing client port")
    if server_port is None:
        raise HandshakeError("bad or missing server port")
    return Handshake(end + 1, (client, client_port), (server, server_port))


def _address(text: str | None, family: int, ipv4: bool) -> str | None:
    """The address as Postfix prints it back (an IPv4-mapped IPv6 address as IPv4), or None when invalid."""
    if text is None or len(text) >= 46:
        return None
    try:
        if family == 4:
            octets = text.split(".")
            if len(octets) != 4 or not all(o.isdigit() and o.isascii() for o in octets):
                return None
            address = ipaddress.IPv4Address(".".join(str(int(o)) for o in octets))
            return None if octets[0].strip("0") == "" and str(address) != "0.0.0.0" else str(address)
        return _printed(ipaddress.IPv6Address(text), ipv4)
    except ValueError:
        return None


def _printed(address: ipaddress.IPv6Address, ipv4: bool) -> str:
    mapped = address.ipv4_mapped
    if mapped is None:
        return str(address)
    return str(mapped) if ipv4 else f"::ffff:{mapped}"


def _port(text: str | None) -> int | None:
    if text is None or not (text.isdigit() and text.isascii()) or len(text) > 5 or (text[0] == "0" and text != "0"):
        return None
    port = int(text)
    return port if port <= 65535 else None


def _version2(data: bytes, ipv4: bool, ipv6: bool) -> Handshake:
    if len(data) < V2_HEADER:
        raise HandshakeError("short protocol header")
    if data[:12] != V2_SIGNATURE:
        raise HandshakeError("unrecognized protocol header")
    version_command, family, length = struct.unpack("!BBH", data[12:16])
    if version_command & 0xF0 != 0x20:
        raise HandshakeError("unrecognized protocol version")
    if len(data) < V2_HEADER + length:
        raise HandshakeError("short version 2 protocol header")
    command, body = version_command & 0x0F, data[V2_HEADER:V2_HEADER + length]
    if command == 0x00:
        return Handshake(V2_HEADER + length)
    if command != 0x01:
        raise HandshakeError("bad command in proxy header")
    if family not in _V2_FAMILIES:
        raise HandshakeError("unsupported network protocol")
    version, size = _V2_FAMILIES[family]
    if not (ipv4 if version == 4 else ipv6):
        raise HandshakeError(f"Postfix IPv{version} support is disabled")
    if length < 2 * size + 4:
        raise HandshakeError("short address field")
    client, server = (_shown(ipaddress.ip_address(body[start:start + size]), ipv4) for start in (0, size))
    client_port, server_port = struct.unpack("!HH", body[2 * size:2 * size + 4])
    return Handshake(V2_HEADER + length, (client, client_port), (server, server_port))


_V2_FAMILIES = {0x11: (4, 4), 0x21: (6, 16)}
"""The v2 families Postfix takes, TCP over IPv4 and IPv6: the IP version and the size of an address."""


def _shown(address: ipaddress.IPv4Address | ipaddress.IPv6Address, ipv4: bool) -> str:
    return str(address) if address.version == 4 else _printed(address, ipv4)


def escaped(data: bytes) -> str:
    """The bytes as Postfix's escape() prints them in the warning: printable ASCII as is (a backslash doubled), C
    escapes for the usual controls, octal for the rest."""
    out = []
    for byte in data:
        if 32 <= byte < 127:
            out.append("\\\\" if byte == 92 else chr(byte))
        else:
            out.append(_CONTROLS.get(byte, f"\\{byte:03o}"))
    return "".join(out)
