"""A small authoritative DNS server for tests and benchmarks: zone data and failures given by the caller, served on
127.0.0.1 over UDP and TCP on one port, from a thread of the calling process (or on its own: `python -m
tests.dns_server ZONE.json`).

    with DnsServer({"example.test": ["MX 10 mx.example.test.", "A 192.0.2.1"]}) as server:
        server.zone.fail("broken.test", "servfail")
        ... filterd_dns_servers = server.address ...

Records are "TYPE RDATA" or "TTL TYPE RDATA" in zone file syntax (names without a final dot are absolute too); the
TTL is 0 unless given, so a change to the zone is seen at once. A name with no records of the type asked gets an
empty answer (NODATA), a name not in the zone NXDOMAIN, both with an SOA of TTL and minimum 0 (RFC 2308). A
failure mode, for a name or for one type at a name, makes the server answer SERVFAIL, REFUSED, NXDOMAIN or
FORMERR, never answer ("timeout"), or answer over UDP with only the TC bit set ("truncate"), so that the client
asks again over TCP, where the answer is whole.
"""

from __future__ import annotations

import argparse
import json
import os
import selectors
import socket
import struct
import threading
from collections.abc import Iterable, Mapping
from typing import Self

import dns.flags
import dns.message
import dns.name
import dns.rcode
import dns.rdataclass
import dns.rdatatype
import dns.rrset

HOST = "127.0.0.1"
FAILURES = {"servfail": dns.rcode.SERVFAIL, "refused": dns.rcode.REFUSED, "nxdomain": dns.rcode.NXDOMAIN,
            "formerr": dns.rcode.FORMERR, "timeout": None, "truncate": None}
CNAME_LIMIT = 8
NEGATIVE_SOA = "ns.test. hostmaster.test. 1 0 0 0 0"
"""The SOA of every negative answer (NXDOMAIN, NODATA): its minimum of 0 makes resolvers cache no negative answer."""


def _name(text: str) -> dns.name.Name:
    return dns.name.from_text(text, origin=dns.name.root)


class Zone:
    """Records by name and type, and the failure modes by name (or by name and type)."""

    def __init__(self, records: Mapping[str, Iterable[str]] | None = None,
                 failures: Mapping[str, str] | None = None) -> None:
        self.rrsets: dict[tuple[dns.name.Name, int], dns.rrset.RRset] = {}
        self.failures: dict[tuple[dns.name.Name, int | None], str] = {}
        for name, lines in (records or {}).items():
            self.add(name, *lines)
        for key, mode in (failures or {}).items():
            name, _, rdtype = key.partition(" ")
            self.fail(name, mode, rdtype or None)

    def add(self, name: str, *records: str) -> None:
        """Add records to a name: "MX 10 mx.example.test.", "300 A 192.0.2.1", 'TXT "v=spf1 -all"'."""
        owner = _name(name)
        for record in records:
            ttl, rdtype, rdata = self._parse(record)
            rrset = dns.rrset.from_text_list(owner, ttl, "IN", rdtype, [rdata], origin=dns.name.root, relativize=False)
            key = (owner, rrset.rdtype)
            if key in self.rrsets:
                self.rrsets[key].union_update(rrset)
            else:
                self.rrsets[key] = rrset

    @staticmethod
    def _parse(record: str) -> tuple[int, str, str]:
        first, rest = record.split(None, 1)
        if first.isdigit():
            rdtype, rdata = rest.split(None, 1)
            return int(first), rdtype, rdata
        return 0, first, rest

    def remove(self, name: str) -> None:
        """Take a name out of the zone: its records and its failure modes."""
        owner = _name(name)
        self.rrsets = {key: value for key, value in self.rrsets.items() if key[0] != owner}
        self.failures = {key: value for key, value in self.failures.items() if key[0] != owner}

    def fail(self, name: str, mode: str, rdtype: str | None = None) -> None:
        """Make queries for a name (of one type, when given) fail: servfail, refused, nxdomain, formerr, timeout,
        truncate."""
        if mode not in FAILURES:
            raise ValueError(f"unknown failure mode {mode!r}: expected one of {', '.join(FAILURES)}")
        self.failures[(_name(name), dns.rdatatype.from_text(rdtype) if rdtype else None)] = mode

    def failure(self, name: dns.name.Name, rdtype: int) -> str:
        """The failure mode for a query, or ""."""
        return self.failures.get((name, rdtype)) or self.failures.get((name, None)) or ""

    def exists(self, name: dns.name.Name) -> bool:
        """Whether the name owns records or has names below it (an empty non-terminal)."""
        return any(owner == name or owner.is_subdomain(name) for owner, _ in self.rrsets)

    def response(self, wire: bytes, over_tcp: bool) -> bytes | None:
        """The answer to one query in wire format, or None when the server is to stay silent."""
        query = dns.message.from_wire(wire)
        response = dns.message.make_response(query)
        response.flags |= dns.flags.AA
        if not query.question:
            response.set_rcode(dns.rcode.FORMERR)
            return response.to_wire()
        question = query.question[0]
        mode = self.failure(question.name, question.rdtype)
        if mode == "timeout":
            return None
        if mode == "truncate" and not over_tcp:
            response.flags |= dns.flags.TC
        elif mode in FAILURES and FAILURES[mode] is not None:
            response.set_rcode(FAILURES[mode])
            if mode == "nxdomain":
                response.authority.append(dns.rrset.from_text(dns.name.root, 0, "IN", "SOA", NEGATIVE_SOA))
        else:
            self._answer(response, question.name, question.rdtype)
        return response.to_wire(max_size=65535)

    def _answer(self, response: dns.message.Message, name: dns.name.Name, rdtype: int) -> None:
        """Fill in the records asked for, following CNAMEs inside the zone; NXDOMAIN when the name is not there."""
        for _ in range(CNAME_LIMIT):
            found = self.rrsets.get((name, rdtype))
            if found is not None:
                response.answer.append(found)
                return
            alias = self.rrsets.get((name, dns.rdatatype.CNAME))
            if alias is None:
                break
            response.answer.append(alias)
            name = alias[0].target
        if not self.exists(name):
            response.set_rcode(dns.rcode.NXDOMAIN)
        response.authority.append(dns.rrset.from_text(dns.name.root, 0, "IN", "SOA", NEGATIVE_SOA))


class DnsServer:
    """The zone served on 127.0.0.1:port over UDP and TCP by one thread; `queries` lists (name, type, "udp"/"tcp")."""

    def __init__(self, records: Mapping[str, Iterable[str]] | None = None,
                 failures: Mapping[str, str] | None = None, port: int = 0, host: str = HOST) -> None:
        self.zone = Zone(records, failures)
        self.host, self.port = host, port
        self.queries: list[tuple[str, str, str]] = []
        self._selector = selectors.DefaultSelector()
        self._wakeup = socket.socketpair()
        self._thread: threading.Thread | None = None
        self._buffers: dict[socket.socket, bytes] = {}

    @property
    def address(self) -> str:
        """HOST:PORT, as filterd_dns_servers takes it."""
        return f"{self.host}:{self.port}"

    def start(self) -> Self:
        """Bind both sockets and serve in a daemon thread."""
        self._udp, self._tcp = self._bind()
        self.port = self._udp.getsockname()[1]
        self._selector.register(self._udp, selectors.EVENT_READ, self._read_udp)
        self._selector.register(self._tcp, selectors.EVENT_READ, self._accept)
        self._selector.register(self._wakeup[0], selectors.EVENT_READ, None)
        self._thread = threading.Thread(target=self._serve, name=f"dns-server-{self.port}", daemon=True)
        self._thread.start()
        return self

    def _bind(self) -> tuple[socket.socket, socket.socket]:
        """A UDP and a TCP socket on one port: the one asked for, else the first free for both."""
        for _ in range(100):
            udp = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
            udp.bind((self.host, self.port))
            tcp = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
            tcp.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
            try:
                tcp.bind((self.host, udp.getsockname()[1]))
            except OSError:
                udp.close()
                tcp.close()
                if self.port:
                    raise
                continue
            tcp.listen(16)
            return udp, tcp
        raise OSError("no port free for both UDP and TCP")

    def stop(self) -> None:
        """Stop serving and close every socket."""
        if self._thread is None:
            return
        self._wakeup[1].send(b"x")
        self._thread.join()
        self._thread = None
        for key in list(self._selector.get_map().values()):
            key.fileobj.close()
        self._selector.close()
        self._wakeup[1].close()

    def _serve(self) -> None:
        while True:
            for key, _ in self._selector.select():
                if key.data is None:
                    return
                key.data(key.fileobj)

    def _record(self, wire: bytes, transport: str) -> None:
        try:
            question = dns.message.from_wire(wire).question[0]
        except Exception:
            return
        name = question.name.to_text(omit_final_dot=True)
        self.queries.append((name, dns.rdatatype.to_text(question.rdtype), transport))

    def _reply(self, wire: bytes, over_tcp: bool) -> bytes | None:
        self._record(wire, "tcp" if over_tcp else "udp")
        try:
            return self.zone.response(wire, over_tcp)
        except Exception:
            return None

    def _read_udp(self, sock: socket.socket) -> None:
        wire, peer = sock.recvfrom(65535)
        reply = self._reply(wire, over_tcp=False)
        if reply is not None:
            sock.sendto(reply, peer)

    def _accept(self, sock: socket.socket) -> None:
        conn, _ = sock.accept()
        self._buffers[conn] = b""
        self._selector.register(conn, selectors.EVENT_READ, self._read_tcp)

    def _read_tcp(self, conn: socket.socket) -> None:
        try:
            data = conn.recv(65535)
        except OSError:
            data = b""
        if not data:
            self._selector.unregister(conn)
            del self._buffers[conn]
            conn.close()
            return
        buffer = self._buffers[conn] + data
        while len(buffer) >= 2 and len(buffer) >= 2 + struct.unpack("!H", buffer[:2])[0]:
            size = struct.unpack("!H", buffer[:2])[0]
            wire, buffer = buffer[2:2 + size], buffer[2 + size:]
            reply = self._reply(wire, over_tcp=True)
            if reply is not None:
                conn.sendall(struct.pack("!H", len(reply)) + reply)
        self._buffers[conn] = buffer

    def __enter__(self) -> Self:
        return self.start()

    def __exit__(self, *exc_info) -> None:
        self.stop()


def main(argv: list[str] | None = None) -> None:
    """Serve a zone from a JSON file {"records": {NAME: [RECORD, ...]}, "failures": {"NAME [TYPE]": MODE}}."""
    parser = argparse.ArgumentParser(prog="python -m tests.dns_server", description=main.__doc__)
    parser.add_argument("zone", help="the JSON file")
    parser.add_argument("--host", default=HOST)
    parser.add_argument("--port", type=int, default=0, help="default: a free port, printed on standard output")
    args = parser.parse_args(argv)
    with open(args.zone) as file:
        data = json.load(file)
    server = DnsServer(data.get("records"), data.get("failures"), args.port, args.host).start()
    print(server.address, flush=True)
    try:
        server._thread.join()
    except KeyboardInterrupt:
        server.stop()
    os._exit(0)


if __name__ == "__main__":
    main()
