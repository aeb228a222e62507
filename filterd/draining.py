"""The connections a worker process is serving, so that a stop or reload closes the listeners and lets every
session finish (up to filterd_shutdown_timeout) instead of cutting it."""

from __future__ import annotations

import asyncio
import time
import weakref
from typing import Callable, TypeVar

Protocol = TypeVar("Protocol", bound=asyncio.BaseProtocol)
POLL = 0.05


class OpenConnections:
    """Every protocol a tracked factory made; one is open while its transport is neither gone nor closing."""

    def __init__(self) -> None:
        self.protocols: weakref.WeakSet[asyncio.BaseProtocol] = weakref.WeakSet()

    def track(self, factory: Callable[[], Protocol]) -> Callable[[], Protocol]:
        """The same factory, remembering what it makes."""

        def tracked() -> Protocol:
            protocol = factory()
            self.protocols.add(protocol)
            return protocol

        return tracked

    def count(self) -> int:
        return sum(1 for protocol in list(self.protocols) if _is_open(protocol))

    async def drained(self, timeout: float) -> bool:
        """Wait until no connection is open, at most `timeout` seconds; whether they all ended."""
        deadline = time.monotonic() + timeout
        while self.count():
            if time.monotonic() >= deadline:
                return False
            await asyncio.sleep(POLL)
        return True


def _is_open(protocol: asyncio.BaseProtocol) -> bool:
    transport = getattr(protocol, "transport", None)
    return transport is not None and not transport.is_closing()
