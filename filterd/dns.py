"""DNS lookups for every part of filterd (delivery today; DNSBL, SPF, DKIM next), each answered as Postfix's
dns_lookup() answers it.

The nameservers are the system's, from /etc/resolv.conf, as Postfix's are, unless filterd_dns_servers names
others (`HOST`, `HOST:PORT`, `[IPV6]:PORT`): a resolver on a port other than 53, such as the tests' loopback server.
A lookup ends in one of Postfix's statuses: OK; NOTFOUND (NXDOMAIN, or the name has no record of the type);
NULLMX (a domain that accepts no mail, RFC 7505); RETRY (SERVFAIL, REFUSED, no answer within filterd_dns_timeout:
try again later); FAIL (a non-recoverable error). The reason is Postfix's text: `Host or domain name not found.
Name service error for name=example.com type=MX: Host not found, try again`.
"""

from __future__ import annotations

import ipaddress
from collections.abc import Iterable
from dataclasses import dataclass
from typing import TYPE_CHECKING

import dns.asyncresolver
import dns.exception
import dns.name
import dns.nameserver
import dns.rcode
import dns.rdatatype
import dns.resolver

from filterd.parameters.dns import parse_dns_server

if TYPE_CHECKING:
    from filterd.config import Config

OK, NOTFOUND, NULLMX, RETRY, FAIL = "ok", "notfound", "nullmx", "retry", "fail"
PRIORITY = (NOTFOUND, NULLMX, FAIL, RETRY, OK)
"""Postfix's order of the statuses (dns.h), lowest first: of several lookups for one name, the highest stands."""
H_ERRNO = {"nxdomain": "Host not found", "again": "Host not found, try again", "fail": "Non-recoverable error",
           "nodata": "Host found but no data record of requested type"}
"""dns_strerror(): the resolver's h_errno in words."""
NEXT_SERVER_RCODES = (dns.rcode.SERVFAIL, dns.rcode.NOTIMP, dns.rcode.REFUSED)
"""The rcodes after which the system resolver asks the next server, and after the last one says TRY_AGAIN."""
SYSTEM_DEFAULT_SERVER = "127.0.0.1"
"""The nameserver the C library uses when /etc/resolv.conf names none."""


@dataclass(frozen=True)
class Lookup:
    """One lookup's records (rdata objects) and, unless OK, Postfix's reason for having none."""

    name: str
    rdtype: str
    status: str
    records: tuple = ()
    reason: str = ""

    @classmethod
    def error(cls, name: str, rdtype: str, status: str, h_errno: str) -> Lookup:
        """A failed lookup with dns_query()'s reason."""
        return cls(name, rdtype, status, (), "Host or domain name not found. Name service error for "
                   f"name={name} type={rdtype}: {H_ERRNO[h_errno]}")


def _valid_domain(name: str) -> bool:
    """Whether dns_lookup() would ask about the name: a domain name, not an address nor an empty label."""
    try:
        ipaddress.ip_address(name)
        return False
    except ValueError:
        pass
    try:
        dns.name.from_text(name)
    except dns.exception.DNSException:
        return False
    return bool(name) and ".." not in name and not name.startswith(".")


def _no_nameservers(name: str, rdtype: str, exc: dns.resolver.NoNameservers) -> Lookup:
    """Every server failed: TRY_AGAIN, unless one answered with an rcode the C library takes as final."""
    for error in exc.kwargs.get("errors") or ():
        response = error[4] if len(error) > 4 else None
        if response is not None and response.rcode() not in NEXT_SERVER_RCODES:
            return Lookup.error(name, rdtype, FAIL, "fail")
    return Lookup.error(name, rdtype, RETRY, "again")


_SHARED: dict[tuple[tuple[tuple[str, int], ...], float], Resolver] = {}
"""The resolvers from_config made in this process, by their settings: a cache, not state the workers share."""


class Resolver:
    """An asynchronous stub resolver with a cache that honours TTLs: the one filterd's lookups go through."""

    def __init__(self, servers: Iterable[tuple[str, int]] = (), timeout: float = 10.0) -> None:
        servers = list(servers)
        try:
            self._resolver = dns.asyncresolver.Resolver(configure=not servers)
        except dns.resolver.NoResolverConfiguration:
            self._resolver = dns.asyncresolver.Resolver(configure=False)
            servers = [(SYSTEM_DEFAULT_SERVER, 53)]
        if servers:
            self._resolver.nameservers = [dns.nameserver.Do53Nameserver(host, port) for host, port in servers]
        self._resolver.lifetime = timeout
        self._resolver.cache = dns.resolver.Cache()

    @classmethod
    def from_config(cls, config: Config) -> Resolver:
        """The resolver main.cf sets: /etc/resolv.conf's nameservers, or filterd_dns_servers; filterd_dns_timeout.
        One per process for the same settings, so that delivery and every plugin share one cache."""
        servers = tuple(parse_dns_server(item) for item in config.list("filterd_dns_servers"))
        key = (servers, config.time("filterd_dns_timeout"))
        if key not in _SHARED:
            _SHARED[key] = cls(*key)
        return _SHARED[key]

    @property
    def nameservers(self) -> list[str]:
        """The servers asked, as HOST:PORT."""
        port, servers = self._resolver.port, self._resolver.nameservers
        return [f"{ns}:{port}" if isinstance(ns, str) else f"{ns.address}:{ns.port}" for ns in servers]

    async def lookup(self, name: str, rdtype: str) -> Lookup:
        """Records of one type for a name taken as absolute (no search list, as Postfix's MX and host lookups)."""
        if not _valid_domain(name):
            return Lookup(name, rdtype, NOTFOUND, (), f"Name service error for {name}: invalid host or domain name")
        try:
            answer = await self._resolver.resolve(dns.name.from_text(name), rdtype, search=False)
        except dns.resolver.NXDOMAIN:
            return Lookup.error(name, rdtype, NOTFOUND, "nxdomain")
        except dns.resolver.NoAnswer:
            return Lookup.error(name, rdtype, NOTFOUND, "nodata")
        except dns.resolver.NoNameservers as exc:
            return _no_nameservers(name, rdtype, exc)
        except dns.resolver.YXDOMAIN:
            return Lookup.error(name, rdtype, FAIL, "fail")
        except dns.exception.DNSException:
            return Lookup.error(name, rdtype, RETRY, "again")
        return self._found(name, rdtype, tuple(answer))

    @staticmethod
    def _found(name: str, rdtype: str, records: tuple) -> Lookup:
        if dns.rdatatype.from_text(rdtype) == dns.rdatatype.MX and any(r.exchange == dns.name.root for r in records):
            return Lookup(name, rdtype, NULLMX, (), f"Domain {name} does not accept mail (nullMX)")
        return Lookup(name, rdtype, OK, records)

    async def lookup_types(self, name: str, rdtypes: Iterable[str]) -> Lookup:
        """Records of several types (A and AAAA) for a name, as Postfix's dns_lookup_v(): the records of every
        type found; the status of the highest lookup in Postfix's order, its reason the last such lookup's."""
        lookups = [await self.lookup(name, rdtype) for rdtype in rdtypes]
        records = tuple(record for found in lookups for record in found.records)
        best = max(reversed(lookups), key=lambda found: PRIORITY.index(found.status))
        return Lookup(name, "/".join(rdtypes), best.status, records, "" if best.status == OK else best.reason)
