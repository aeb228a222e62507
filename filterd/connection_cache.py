"""Postfix's SMTP connection cache as its smtp(8) client uses it: idle connections kept per next hop for the
next delivery there, closed with QUIT after smtp_connection_cache_time_limit, and reused only within
smtp_connection_reuse_time_limit and smtp_connection_reuse_count_limit of the connection's life."""

from __future__ import annotations

import asyncio
import contextlib
import time
from collections.abc import Hashable
from dataclasses import dataclass, field

import aiosmtplib

QUIT_ERRORS = (OSError, aiosmtplib.SMTPException, asyncio.TimeoutError)


@dataclass
class Connection:
    """One SMTP session to a server: when it was opened and how many deliveries it has carried."""

    smtp: aiosmtplib.SMTP
    opened: float = field(default_factory=time.monotonic)
    uses: int = 0


@dataclass(frozen=True)
class CacheLimits:
    """Postfix's smtp_connection_cache_time_limit, smtp_connection_reuse_time_limit and _count_limit (0: none)."""

    time_limit: float = 2.0
    reuse_time_limit: float = 300.0
    reuse_count_limit: int = 0
    quit_timeout: float = 300.0

    def reusable(self, connection: Connection) -> bool:
        """Young enough and used few enough times to carry one more delivery."""
        young = time.monotonic() - connection.opened < self.reuse_time_limit
        return young and not (self.reuse_count_limit and connection.uses >= self.reuse_count_limit)


async def quit_politely(smtp: aiosmtplib.SMTP, timeout: float) -> None:
    """QUIT, then close whatever the server answered (or did not)."""
    with contextlib.suppress(*QUIT_ERRORS):
        if smtp.is_connected:
            await asyncio.wait_for(smtp.quit(), timeout)
    smtp.close()


class ConnectionCache:
    """Idle connections by key (the next hop and the server's address), each QUIT when its idle time is up."""

    def __init__(self, limits: CacheLimits):
        self.limits = limits
        self._idle: dict[Hashable, list[tuple[Connection, asyncio.TimerHandle]]] = {}
        self._quitting: set[asyncio.Task] = set()

    def store(self, key: Hashable, connection: Connection) -> bool:
        """Keep the connection for the next delivery to key; False when it may not be reused (nothing kept)."""
        if not self.limits.reusable(connection):
            return False
        timer = asyncio.get_running_loop().call_later(self.limits.time_limit, self._expire, key, connection)
        self._idle.setdefault(key, []).append((connection, timer))
        return True

    def take(self, key: Hashable) -> Connection | None:
        """The newest idle connection to key that may still be reused; those that may not are QUIT."""
        entries = self._idle.get(key, [])
        while entries:
            connection, timer = entries.pop()
            timer.cancel()
            if self.limits.reusable(connection):
                return connection
            self.quit(connection)
        return None

    def quit(self, connection: Connection) -> None:
        """QUIT in the background: the caller need not wait for the server's goodbye."""
        task = asyncio.get_running_loop().create_task(quit_politely(connection.smtp, self.limits.quit_timeout))
        self._quitting.add(task)
        task.add_done_callback(self._quitting.discard)

    async def quit_all(self) -> None:
        """QUIT every idle connection and wait for every QUIT under way (the queue manager is stopping)."""
        for entries in self._idle.values():
            for connection, timer in entries:
                timer.cancel()
                self.quit(connection)
        self._idle.clear()
        if self._quitting:
            await asyncio.wait(list(self._quitting), timeout=self.limits.quit_timeout)

    def close(self) -> None:
        """Drop every connection without a word (no event loop to QUIT with)."""
        for entries in self._idle.values():
            for connection, timer in entries:
                timer.cancel()
                connection.smtp.close()
        self._idle.clear()

    def _expire(self, key: Hashable, connection: Connection) -> None:
        entries = self._idle.get(key, [])
        for index, (kept, _timer) in enumerate(entries):
            if kept is connection:
                del entries[index]
                self.quit(connection)
                return
