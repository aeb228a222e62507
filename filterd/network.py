"""Shared network helpers: the socket options that filterd's listeners and clients set the same way, and Postfix's
network lists (mynetworks and the like)."""

from __future__ import annotations

import asyncio
import functools
import ipaddress
import socket
from dataclasses import dataclass
from typing import Any


def no_delay(transport: asyncio.BaseTransport) -> socket.socket | None:
    """Send each write at once, never held back for a delayed ACK (Nagle); the socket if it is TCP."""
    sock = transport.get_extra_info("socket")
    if sock is not None and sock.family in (socket.AF_INET, socket.AF_INET6):
        sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        return sock
    return None


def quick_ack(sock: socket.socket) -> None:
    """Acknowledge what arrives next at once (TCP_QUICKACK, which Linux clears again by itself): a peer whose
    Nagle holds its next write until this one is acknowledged does not wait for our delayed ACK (40 ms)."""
    sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_QUICKACK, 1)


def in_networks(address: str, nets: tuple[ipaddress.IPv4Network | ipaddress.IPv6Network, ...]) -> bool:
    """Whether an address (a string) is in one of the networks that `networks` made; False when not an address."""
    ip = _address(address)
    return ip is not None and any(ip in net for net in nets)


@functools.lru_cache(maxsize=1024)
def _address(text: str) -> ipaddress.IPv4Address | ipaddress.IPv6Address | None:
    """The address a client's string names (parsed once: every command of a session asks again), None if none."""
    try:
        return ipaddress.ip_address(text)
    except ValueError:
        return None


def networks(items: list[str]) -> tuple[ipaddress.IPv4Network | ipaddress.IPv6Network, ...]:
    """Postfix network lists: a.b.c.d/len, [ipv6]/len, bare addresses; anything else is skipped."""
    result = []
    for item in items:
        item = item.replace("[", "").replace("]", "")
        try:
            result.append(ipaddress.ip_network(item, strict=False))
        except ValueError:
            continue
    return tuple(result)


@dataclass(frozen=True)
class ClientList:
    """A Postfix host name or network address list (namadr_list: smtpd_sasl_exceptions_networks): networks and
    addresses, and names that match exactly, or with a leading dot the domains under them; `!` excludes."""

    items: tuple[tuple[bool, Any], ...] = ()

    @classmethod
    def parse(cls, items: list[str]) -> ClientList:
        parsed = []
        for item in items:
            negated, text = item.startswith("!"), item.lstrip("!")
            found = networks([text])
            parsed.append((negated, found[0] if found else text.lower()))
        return cls(tuple(parsed))

    def matches(self, name: str, address: str) -> bool:
        """The first item the client matches decides (a `!` one: not listed)."""
        ip, name = _address(address), name.lower()
        for negated, item in self.items:
            if isinstance(item, str):
                hit = name == item or (item.startswith(".") and name.endswith(item))
            else:
                hit = ip is not None and ip in item
            if hit:
                return not negated
        return False
