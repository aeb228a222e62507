"""pyspf's DNS lookups answered by filterd's resolver: pyspf runs in a thread (its lookups are synchronous) and each
lookup is handed to the event loop, so the loop never blocks and the lookups use filterd_dns_servers."""

from __future__ import annotations

import asyncio
import threading
from typing import Any, Callable

import spf

from filterd import Resolver

_fed = threading.local()
_library_lookup = spf.DNSLookup


def _lookup(name: str, qtype: str, strict: bool = True, timeout: float | None = None) -> list:
    """pyspf's DNSLookup: the thread's feed if it has one, the library's own lookup otherwise."""
    feed: Callable[[str, str], list] | None = getattr(_fed, "feed", None)
    if feed is None:
        return _library_lookup(name, qtype, strict, timeout)
    return feed(name, qtype)


spf.DNSLookup = _lookup


def _records(name: str, qtype: str, found: Any) -> list:
    """A lookup as pyspf's DNSLookup_dnspython gives it: ((name, type), value) pairs; a failure as TempError."""
    if found.status in ("retry", "fail"):
        raise spf.TempError(f"DNS {found.reason}")
    values = []
    for rdata in found.records:
        if qtype in ("A", "AAAA"):
            values.append(rdata.address)
        elif qtype == "MX":
            values.append((rdata.preference, rdata.exchange))
        elif qtype == "PTR":
            values.append(rdata.target.to_text(True))
        elif qtype in ("TXT", "SPF"):
            values.append(rdata.strings)
    return [((name, qtype), value) for value in values]


def _check_fed(resolver: Resolver, loop: asyncio.AbstractEventLoop, ip: str, sender: str,
               helo: str) -> tuple[str, str]:
    """One SPF check, in a worker thread, its lookups run on the loop."""
    def feed(name: str, qtype: str) -> list:
        return _records(name, qtype, asyncio.run_coroutine_threadsafe(resolver.lookup(name, qtype), loop).result())

    _fed.feed = feed
    try:
        result, _, explanation = spf.query(i=ip, s=sender, h=helo).check()
    finally:
        _fed.feed = None
    return result, explanation


async def check(resolver: Resolver, ip: str, sender: str, helo: str) -> tuple[str, str]:
    """RFC 7208's check_host() for the client `ip`, the `sender` (empty: postmaster@`helo`): (result, explanation)."""
    return await asyncio.to_thread(_check_fed, resolver, asyncio.get_running_loop(), ip, sender, helo)
