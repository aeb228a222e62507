"""This machine's own addresses as Postfix finds them (inet_addr_local, own_inet_addr_list): getifaddrs(3) for
inet_interfaces = all, and the networks mynetworks_style makes of them when mynetworks is not set (mynetworks.c)."""

from __future__ import annotations

import ctypes
import ipaddress
import socket
from typing import Iterable

Address = ipaddress.IPv4Address | ipaddress.IPv6Address
Interface = tuple[Address, int]
"""An interface address and its prefix length."""

IFF_UP = 0x1
STYLES = ("host", "subnet", "class")


class _Ifaddrs(ctypes.Structure):
    pass


_Ifaddrs._fields_ = [("next", ctypes.POINTER(_Ifaddrs)), ("name", ctypes.c_char_p), ("flags", ctypes.c_uint),
                     ("addr", ctypes.c_void_p), ("netmask", ctypes.c_void_p), ("ifu", ctypes.c_void_p),
                     ("data", ctypes.c_void_p)]


def _sockaddr(pointer: int | None) -> tuple[int, bytes] | None:
    """(family, address bytes) of a struct sockaddr_in or sockaddr_in6; None for another family."""
    if not pointer:
        return None
    family = ctypes.c_ushort.from_address(pointer).value
    if family == socket.AF_INET:
        return family, ctypes.string_at(pointer + 4, 4)
    if family == socket.AF_INET6:
        return family, ctypes.string_at(pointer + 8, 16)
    return None


def local_interfaces(families: Iterable[int] = (socket.AF_INET, socket.AF_INET6)) -> list[Interface]:
    """Every address of an interface that is up, family by family in getifaddrs' order (ial_getifaddrs)."""
    libc = ctypes.CDLL(None, use_errno=True)  # the C library Python runs on, without find_library's ldconfig
    head = ctypes.POINTER(_Ifaddrs)()
    if libc.getifaddrs(ctypes.byref(head)) != 0:
        raise OSError(ctypes.get_errno(), "getifaddrs failed")
    entries = []
    try:
        node = head
        while node:
            entry = node.contents
            address, mask = _sockaddr(entry.addr), _sockaddr(entry.netmask)
            if entry.flags & IFF_UP and address is not None and mask is not None:
                entries.append((address[0], ipaddress.ip_address(address[1]),
                                bin(int.from_bytes(mask[1], "big")).count("1")))
            node = entry.next
    finally:
        libc.freeifaddrs(head)
    return [(address, prefix) for family in families for found, address, prefix in entries
            if found == family and not address.is_unspecified]


def protocol_families(inet_protocols: Iterable[str]) -> list[int]:
    """The address families inet_protocols names, IPv4 first as Postfix lists them."""
    names = {name.lower() for name in inet_protocols}
    return [family for family, name in ((socket.AF_INET, "ipv4"), (socket.AF_INET6, "ipv6"))
            if "all" in names or name in names]


def own_interfaces(inet_interfaces: Iterable[str], inet_protocols: Iterable[str]) -> list[Interface]:
    """The addresses filterd receives mail on with their interfaces' prefix lengths: all of the machine's for `all`,
    its loopback ones for `loopback-only`, else those listed (names resolved), sorted and unique as
    inet_addr_list_uniq leaves them; ValueError for one that is not the machine's, as Postfix's `parameter
    inet_interfaces: no local interface found for ADDRESS`."""
    families = protocol_families(inet_protocols)
    items = [item for item in inet_interfaces if item]
    local = local_interfaces(families)
    lowered = [item.lower() for item in items]
    if lowered == ["all"]:
        return local
    if lowered == ["loopback-only"]:
        return [(address, prefix) for address, prefix in local if address.is_loopback]
    prefixes = dict(local)
    own: list[Interface] = []
    for address in sorted(set(_listed(items, families)), key=lambda a: (a.version, a.packed)):
        if address not in prefixes:
            raise ValueError(f"no local interface found for {address}")
        own.append((address, prefixes[address]))
    return own


def own_addresses(inet_interfaces: Iterable[str], proxy_interfaces: Iterable[str] = ()) -> frozenset[Address]:
    """The addresses mail for this mail system arrives at (own_inet_addr_list and proxy_inet_addr_list): the
    machine's own for `all`, its loopback ones for `loopback-only`, and those listed, as given (a name that does
    not resolve left out: filterd's listeners bind their own addresses)."""
    wanted = {item.lower() for item in inet_interfaces}
    found: set[Address] = set()
    if {"all", "loopback-only"} & wanted:
        found = {address for address, _ in local_interfaces() if "all" in wanted or address.is_loopback}
    families = [socket.AF_INET, socket.AF_INET6]
    for item in [*inet_interfaces, *proxy_interfaces]:
        if item and item.lower() not in ("all", "loopback-only"):
            try:
                found.update(_listed([item], families))
            except ValueError:
                continue
    return frozenset(found)


def _listed(items: list[str], families: list[int]) -> list[Address]:
    found: list[Address] = []
    for item in items:
        try:
            found.append(ipaddress.ip_address(item.strip("[]")))
            continue
        except ValueError:
            pass
        try:
            answers = socket.getaddrinfo(item, None, type=socket.SOCK_STREAM)
        except OSError:
            raise ValueError(f"host not found: {item}") from None
        found += [ipaddress.ip_address(answer[4][0]) for answer in answers if answer[0] in families]
    return [address for address in found if (socket.AF_INET if address.version == 4 else socket.AF_INET6) in families]


def mynetworks(style: str, interfaces: Iterable[Interface]) -> str:
    """mynetworks as Postfix computes it from mynetworks_style: each own address alone (host), its interface's
    network (subnet) or its class A/B/C/D network (class; IPv6 has no classes: its subnet), duplicates dropped."""
    style = style.strip().lower()
    if style not in STYLES:
        raise ValueError(f'unknown mynetworks mask style value "{style}"')
    networks: list[str] = []
    for address, prefix in interfaces:
        if style == "host":
            prefix = address.max_prefixlen
        elif style == "class" and address.version == 4:
            prefix = _class_prefix(address)
        network = ipaddress.ip_network(f"{address}/{prefix}", strict=False)
        base = network.network_address
        shown = f"{base}/{prefix}" if address.version == 4 else f"[{base}]/{prefix}"
        if shown not in networks:
            networks.append(shown)
    return " ".join(networks)


def _class_prefix(address: ipaddress.IPv4Address) -> int:
    first = int(address) >> 24
    for limit, prefix in ((128, 8), (192, 16), (224, 24), (240, 4)):
        if first < limit:
            return prefix
    raise ValueError(f"unknown address class: {address}")
