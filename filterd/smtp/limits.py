"""How many sessions a worker takes, and how many connections one client may hold or open, answered and logged
in Postfix's words.

The client limits are smtpd's smtpd_client_connection_count_limit and smtpd_client_connection_rate_limit, with
counts that anvil keeps across every worker (filterd.anvil); the session cap is filterd_sessions_per_worker, the
analogue of a master.cf process limit. Postfix queues connections beyond its process limit in the kernel;
filterd answers them as postscreen does when no smtpd process is free.
"""

from __future__ import annotations

import asyncio
import ipaddress
import time
from dataclasses import dataclass
from typing import Callable

from filterd import maillog
from filterd.anvil.client import AnvilClient
from filterd.anvil.protocol import Counts, ident
from filterd.network import in_networks, networks

TOO_MANY_CONNECTIONS = "421 4.7.0 {host} Error: too many connections from {address}"
PORTS_BUSY = "421 4.3.2 All server ports are busy"
EVENT_LIMITS = {
    "auth": ("AUTH command rate", "450 4.7.1 Error: too many AUTH commands from {address}"),
    "message": ("Message delivery request rate", "450 4.7.1 Error: too much mail from {address}"),
    "recipient": ("Recipient address rate", "450 4.7.1 Error: too many recipients from {address}"),
}
"""anvil's per-client events: smtpd's words for one over its limit, and its reply."""
RECYCLE_PEAK = 100
"""A worker that has held this many sessions at once asks to be replaced when its last one ends: Python keeps the
memory of a burst (its allocator frees an arena only when every object in it is gone), so the way to hand it back
is Postfix's, a fresh process (smtpd exits after max_use clients or max_idle seconds)."""
BUSY_WARNING_INTERVAL = 1000.0
"""Seconds between two warnings that a worker is full, as Postfix's master warns of a process limit."""


@dataclass(frozen=True)
class ConnectionLimits:
    """The limits in force; 0 turns a limit off."""

    count_limit: int = 50
    rate_limit: int = 0
    time_unit: float = 60.0
    exceptions: tuple[ipaddress.IPv4Network | ipaddress.IPv6Network, ...] = ()
    sessions_per_worker: int = 1000
    auth_rate_limit: int = 0
    message_rate_limit: int = 0
    recipient_rate_limit: int = 0

    @classmethod
    def from_config(cls, config) -> ConnectionLimits:
        return cls(config.int("smtpd_client_connection_count_limit"),
                   config.int("smtpd_client_connection_rate_limit"), config.time("anvil_rate_time_unit"),
                   networks(config.list("smtpd_client_event_limit_exceptions")),
                   config.int("filterd_sessions_per_worker"), config.int("smtpd_client_auth_rate_limit"),
                   config.int("smtpd_client_message_rate_limit"), config.int("smtpd_client_recipient_rate_limit"))

    @property
    def per_client(self) -> bool:
        """Whether anvil is needed at all."""
        return any(limit > 0 for limit in (self.count_limit, self.rate_limit, *self.event_limits.values()))

    @property
    def event_limits(self) -> dict[str, int]:
        return {"auth": self.auth_rate_limit, "message": self.message_rate_limit,
                "recipient": self.recipient_rate_limit}


class ConnectionGate:
    """One per worker: the sessions it holds, and anvil's verdict on each new client; `on_burst_over` is called
    when the last session of a burst (RECYCLE_PEAK sessions at once) has ended."""

    def __init__(self, limits: ConnectionLimits, anvil: AnvilClient | None, myhostname: str,
                 on_burst_over: Callable[[], None] | None = None):
        self.limits, self.anvil, self.myhostname = limits, anvil, myhostname
        self.on_burst_over = on_burst_over
        self.sessions = self.peak = 0
        self.idle = asyncio.Event()
        self.idle.set()
        self.warned_at = -BUSY_WARNING_INTERVAL

    def enter(self, service: str, log_service: str) -> bool:
        """A connection to `service` arrived; False when the worker is full (the caller answers PORTS_BUSY and
        closes). Warnings are logged as `log_service` (smtpd, sink)."""
        if self.limits.sessions_per_worker <= 0 or self.sessions < self.limits.sessions_per_worker:
            self.sessions += 1
            self.peak = max(self.peak, self.sessions)
            self.idle.clear()
            return True
        now = time.monotonic()
        if now - self.warned_at >= BUSY_WARNING_INTERVAL:
            self.warned_at = now
            maillog.warning(log_service, 'service "%s" has reached its session limit "%d": new clients are '
                            "told all server ports are busy; to avoid this, increase filterd_sessions_per_worker "
                            "or filterd_worker_processes", service, self.limits.sessions_per_worker)
        return False

    def leave(self) -> None:
        self.sessions -= 1
        if self.sessions == 0:
            self.idle.set()
            if self.peak >= RECYCLE_PEAK and self.on_burst_over is not None:
                self.on_burst_over()

    def limited(self, address: str) -> bool:
        """Whether anvil counts this client: limits in force, anvil running, the client not an exception."""
        return self.anvil is not None and self.limits.per_client and not in_networks(address,
                                                                                     self.limits.exceptions)

    def ask(self, service: str, address: str) -> asyncio.Future[Counts | None] | None:
        """Count a new connection with anvil, when this client is counted; the answer is taken later (`refusal`),
        so that anvil's round trip overlaps the client's name lookup."""
        if not self.limited(address):
            return None
        assert self.anvil is not None
        return asyncio.ensure_future(self.anvil.connect(ident(service, address)))

    def refusal(self, counts: Counts, service: str, address: str, client: str, log_service: str) -> str | None:
        """The 421 for a client over a limit, with smtpd's warning; None when within the limits."""
        limits, what, value = self.limits, "", 0
        if limits.count_limit > 0 and counts.count > limits.count_limit:
            what, value = "Connection concurrency", counts.count
        elif limits.rate_limit > 0 and counts.rate > limits.rate_limit:
            what, value = "Connection rate", counts.rate
        if not what:
            return None
        maillog.warning(log_service, "%s limit exceeded: %d from %s for service %s", what, value, client, service)
        return TOO_MANY_CONNECTIONS.format(host=self.myhostname, address=address)

    async def event_refusal(self, event: str, service: str, address: str, client: str) -> tuple[str, str] | None:
        """smtpd_client_auth_rate_limit, _message_rate_limit, _recipient_rate_limit: for a client over the limit on
        AUTH, MAIL or RCPT (`event`), smtpd's 450 and its warning (the caller logs it where smtpd does); None
        within it, or when anvil does not answer."""
        limit = self.limits.event_limits[event]
        if limit <= 0 or not self.limited(address):
            return None
        assert self.anvil is not None
        rate = await self.anvil.event(event, ident(service, address))
        if rate is None or rate <= limit:
            return None
        what, reply = EVENT_LIMITS[event]
        return reply.format(address=address), f"{what} limit exceeded: {rate} from {client} for service {service}"

    def forget(self, asking: asyncio.Future[Counts | None], service: str, address: str) -> None:
        """The session ended before it took anvil's answer: the count is undone, whether anvil answered or not."""
        if asking.done() and not asking.cancelled() and asking.result() is not None:
            self.release(service, address)
        else:
            asking.cancel()

    def release(self, service: str, address: str) -> None:
        """A connection that anvil counted has ended."""
        if self.anvil is not None:
            self.anvil.disconnect(ident(service, address))
