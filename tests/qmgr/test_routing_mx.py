"""MX resolution against a real (tiny, loopback) DNS server: preference order, fallback to the host.

IPv4 only (inet_protocols = ipv4, as the Postfix the tests run is configured): where /etc/hosts also maps
localhost to ::1, as Debian's does, IPv4 and IPv6 would otherwise put ::1 first.
"""

import asyncio
import socket
import threading

import dns.asyncresolver
import dns.message
import dns.rdatatype
import dns.rrset

from filterd.qmgr.routing import AddressFamilies, resolve

MX = {"example.test.": ["20 backup.invalid.", "10 localhost."]}
IPV4 = AddressFamilies.from_settings(["ipv4"])


def serve(sock: socket.socket) -> None:
    while True:
        try:
            data, peer = sock.recvfrom(4096)
        except OSError:
            return
        query = dns.message.from_wire(data)
        response = dns.message.make_response(query)
        question = query.question[0]
        if question.rdtype == dns.rdatatype.MX and str(question.name) in MX:
            response.answer.append(dns.rrset.from_text(question.name, 60, "IN", "MX", *MX[str(question.name)]))
        else:
            response.set_rcode(3)
        sock.sendto(response.to_wire(), peer)


def test_mx_hosts_are_tried_by_preference_and_unresolvable_ones_skipped():
    sock = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    sock.bind(("127.0.0.1", 0))
    threading.Thread(target=serve, args=(sock,), daemon=True).start()
    resolver = dns.asyncresolver.Resolver(configure=False)
    resolver.nameservers, resolver.port, resolver.lifetime = ["127.0.0.1"], sock.getsockname()[1], 5
    try:
        hosts = asyncio.run(resolve("example.test:2525", True, resolver, IPV4))
        assert hosts[0] == ("localhost", "127.0.0.1", 2525)
        assert all(name != "backup.invalid" for name, _, _ in hosts)
        assert asyncio.run(resolve("[localhost]:2525", True, resolver, IPV4)) == [("localhost", "127.0.0.1", 2525)]
        assert asyncio.run(resolve("localhost:2525", True, resolver, IPV4)) == [("localhost", "127.0.0.1", 2525)]
    finally:
        sock.close()
