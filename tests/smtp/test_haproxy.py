"""The haproxy handshake parsed from bytes alone, with Postfix's (haproxy_srvr.c) results and error words."""

from __future__ import annotations

import socket
import struct

import pytest

from filterd.smtp.haproxy import V2_SIGNATURE, Handshake, HandshakeError, escaped, parse


def v2(command: int, family: int, body: bytes) -> bytes:
    return V2_SIGNATURE + struct.pack("!BBH", 0x20 | command, family, len(body)) + body


def ipv4_body(client: str, server: str, ports: tuple[int, int]) -> bytes:
    return socket.inet_aton(client) + socket.inet_aton(server) + struct.pack("!HH", *ports)


def ipv6_body(client: str, server: str, ports: tuple[int, int]) -> bytes:
    return (socket.inet_pton(socket.AF_INET6, client) + socket.inet_pton(socket.AF_INET6, server)
            + struct.pack("!HH", *ports))


@pytest.mark.parametrize(("header", "client", "server"), [
    (b"PROXY TCP4 192.0.2.1 198.51.100.2 56324 25\r\n", ("192.0.2.1", 56324), ("198.51.100.2", 25)),
    (b"PROXY tcp6 2001:DB8::1 2001:db8:0:0::2 1 65535\n", ("2001:db8::1", 1), ("2001:db8::2", 65535)),
    (b"PROXY TCP6 ::ffff:192.0.2.1 ::FFFF:192.0.2.2 1000 25\r\n", ("192.0.2.1", 1000), ("192.0.2.2", 25)),
    (b"PROXY  TCP4\r192.0.2.1 192.0.2.2 0 25 extra words\r\n", ("192.0.2.1", 0), ("192.0.2.2", 25)),
    (b"PROXY TCP4 010.0.0.1 0.0.0.0 7 25\r\n", ("10.0.0.1", 7), ("0.0.0.0", 25)),
], ids=["tcp4", "tcp6", "ipv4-mapped", "extra-blanks", "leading-zeros"])
def test_version_1_gives_the_endpoints_and_the_header_length(header, client, server):
    assert parse(header + b"EHLO x\r\n") == Handshake(len(header), client, server)


@pytest.mark.parametrize(("data", "reason"), [
    (b"PROXY TCP4 192.0.2.1 192.0.2.2 1 25", "missing protocol header terminator"),
    (b"PROXY UNKNOWN\r\n", "bad or missing protocol type"),
    (b"PROXY TCP4 2001:db8::1 192.0.2.2 1 25\r\n", "bad or missing client address"),
    (b"PROXY TCP4 0.1.2.3 192.0.2.2 1 25\r\n", "bad or missing client address"),
    (b"PROXY TCP4 192.0.2.1 192.0.2.256 1 25\r\n", "bad or missing server address"),
    (b"PROXY TCP4 192.0.2.1 192.0.2.2 01 25\r\n", "bad or missing client port"),
    (b"PROXY TCP4 192.0.2.1 192.0.2.2 1 65536\r\n", "bad or missing server port"),
    (b"PROXY TCP4 192.0.2.1 192.0.2.2 1\r\n", "bad or missing server port"),
    (b"EHLO client.example\r\n", "unrecognized protocol header"),
    (b"\r\n\r\n", "short protocol header"),
], ids=["no-newline", "unknown", "v6-in-tcp4", "zero-first-octet", "bad-octet", "leading-zero-port", "port-range",
        "no-server-port", "smtp", "short"])
def test_a_bad_header_gets_postfix_s_reason(data, reason):
    with pytest.raises(HandshakeError, match=f"^{reason}$"):
        parse(data)


def test_tcp6_is_refused_where_ipv6_is_off():
    with pytest.raises(HandshakeError, match="^bad or missing protocol type$"):
        parse(b"PROXY TCP6 2001:db8::1 2001:db8::2 1 25\r\n", ipv6=False)


def test_version_2_gives_the_endpoints_and_skips_tlvs():
    data = v2(1, 0x11, ipv4_body("192.0.2.1", "198.51.100.2", (56324, 25)) + b"\x04\x00\x01x") + b"EHLO x\r\n"
    assert parse(data) == Handshake(16 + 16, ("192.0.2.1", 56324), ("198.51.100.2", 25))
    data = v2(1, 0x21, ipv6_body("2001:db8::1", "::ffff:192.0.2.2", (1, 25)))
    assert parse(data) == Handshake(16 + 36, ("2001:db8::1", 1), ("192.0.2.2", 25))


def test_version_2_local_keeps_the_connection_s_endpoints():
    assert parse(v2(0, 0, b"")) == Handshake(16)


@pytest.mark.parametrize(("data", "reason"), [
    (V2_SIGNATURE[:10], "short protocol header"),
    (V2_SIGNATURE + b"\x11\x11\x00\x0c" + bytes(12), "unrecognized protocol version"),
    (v2(1, 0x11, bytes(12))[:20], "short version 2 protocol header"),
    (v2(1, 0x11, bytes(8)), "short address field"),
    (v2(1, 0x21, bytes(12)), "short address field"),
    (v2(1, 0x12, bytes(12)), "unsupported network protocol"),
    (v2(1, 0x31, bytes(216)), "unsupported network protocol"),
    (v2(2, 0x11, bytes(12)), "bad command in proxy header"),
], ids=["short", "version", "short-v2", "short-ipv4", "short-ipv6", "udp", "unix", "command"])
def test_a_bad_version_2_header_gets_postfix_s_reason(data, reason):
    with pytest.raises(HandshakeError, match=f"^{reason}$"):
        parse(data)


def test_the_warning_shows_the_bytes_as_postfix_s_escape_does():
    assert escaped(b"PROXY \\x\r\n\x00\x1b\xe9") == "PROXY \\\\x\\r\\n\\000\\033\\351"
