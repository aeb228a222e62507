"""Postfix's destination concurrency scheduler (qmgr_queue.c): each destination starts at
initial_destination_concurrency parallel deliveries, a delivery that went through opens one more (positive feedback,
up to default_destination_concurrency_limit), one that could not reach the site closes one (negative feedback); after
failed_cohort_limit pseudo-cohorts of failures the destination is dead, and until minimal_backoff_time has passed
its deliveries are deferred without a try ("delivery temporarily suspended: REASON")."""

from __future__ import annotations

import asyncio
import time
from collections import deque
from dataclasses import dataclass, field

SUSPENDED = "delivery temporarily suspended: "


@dataclass(frozen=True)
class Feedback:
    """The scheduler's settings (Postfix's defaults)."""

    initial: int = 5
    limit: int = 20
    positive: tuple[float, bool] = (1.0, False)
    negative: tuple[float, bool] = (1.0, False)
    """A feedback as its parameter gives it: `1` (1.0, False) or `1/concurrency` (1.0, True, divided by the
    window)."""
    failed_cohort_limit: int = 1
    dead_for: float = 300.0
    """minimal_backoff_time: how long a dead destination stays so."""

    @classmethod
    def from_config(cls, config) -> Feedback:
        return cls(config.int("initial_destination_concurrency"), config.int("default_destination_concurrency_limit"),
                   feedback(config, "default_destination_concurrency_positive_feedback"),
                   feedback(config, "default_destination_concurrency_negative_feedback"),
                   config.int("default_destination_concurrency_failed_cohort_limit"),
                   config.time("minimal_backoff_time"))

    @staticmethod
    def value(feedback: tuple[float, bool], window: int) -> float:
        amount, per_window = feedback
        return amount / window if per_window else amount


def feedback(config, name: str) -> tuple[float, bool]:
    """`N` or `N/concurrency`, as Postfix's qmgr_feedback_init reads it; anything else stops start-up."""
    text = config.get(name).replace(" ", "")
    number, _, per = text.partition("/")
    try:
        amount = float(number)
    except ValueError:
        amount = -1.0
    if amount <= 0 or per not in ("", "concurrency"):
        raise config.error(name, f'bad value "{config.get(name)}": expected a number or number/concurrency')
    return amount, per == "concurrency"


@dataclass
class Destination:
    """One destination's window (0: dead), feedback accumulators, deliveries in progress and why it died."""

    window: int
    success: float = 0.0
    failure: float = 0.0
    fail_cohorts: float = 0.0
    busy: int = 0
    dead_until: float = 0.0
    status: str = ""
    reason: str = ""
    waiting: deque[asyncio.Future] = field(default_factory=deque)
    """Deliveries waiting for a slot, first come first served (each woken alone, as a semaphore would)."""

    @property
    def dead(self) -> bool:
        return self.window == 0


class Scheduler:
    """The destinations of one delivery agent process."""

    def __init__(self, feedback: Feedback = Feedback()):
        self.feedback = feedback
        self.destinations: dict[str, Destination] = {}

    def _get(self, key: str) -> Destination:
        found = self.destinations.get(key)
        if found is None:
            found = self.destinations[key] = Destination(min(self.feedback.initial, self.feedback.limit) or 1)
        if found.dead and time.monotonic() >= found.dead_until:
            self._unthrottle(found)
        return found

    async def acquire(self, key: str) -> Destination | None:
        """A slot for a delivery to `key`, waited for while the window is full; None while the destination is dead:
        the delivery is deferred with its reason (`suspended`)."""
        dest = self._get(key)
        self._wake(dest)
        if not dest.dead and (dest.busy >= dest.window or dest.waiting):
            slot = asyncio.get_running_loop().create_future()
            dest.waiting.append(slot)
            try:
                await slot
            except asyncio.CancelledError:
                if slot.done() and not slot.cancelled():
                    dest.busy -= 1
                    self._wake(dest)
                raise
            return None if dest.dead else dest
        if dest.dead:
            return None
        dest.busy += 1
        return dest

    def _wake(self, dest: Destination) -> None:
        """Hand freed slots to the deliveries waiting, in order; when the destination is dead, let them all go
        (each is then deferred untried)."""
        while dest.waiting and (dest.dead or dest.busy < dest.window):
            slot = dest.waiting.popleft()
            if slot.done():
                continue
            if not dest.dead:
                dest.busy += 1
            slot.set_result(None)

    def enable_all(self) -> None:
        """Revive every dead destination (postqueue -f, as qmgr's QMGR_REQ_FLUSH_DEAD): its next delivery is
        tried."""
        for dest in self.destinations.values():
            if dest.dead:
                self._unthrottle(dest)
                self._wake(dest)

    def suspended(self, key: str) -> tuple[str, str]:
        """The (status, reason) of a dead destination's deferrals."""
        dest = self._get(key)
        return dest.status, SUSPENDED + dest.reason

    def release(self, dest: Destination, site_failure: tuple[str, str] | None = None) -> None:
        """A delivery done: `site_failure` the (status, reason) when the site could not be reached at all."""
        if site_failure is None:
            self._unthrottle(dest)
        elif not dest.dead:
            self._throttle(dest, *site_failure)
        dest.busy -= 1
        self._wake(dest)

    def _unthrottle(self, dest: Destination) -> None:
        fb = self.feedback
        dest.fail_cohorts = 0.0
        if dest.dead:
            dest.window, dest.success, dest.failure = dest.busy or fb.initial, 0.0, 0.0
            dest.status = dest.reason = ""
            return
        if fb.limit and dest.window >= fb.limit or dest.window >= dest.busy + fb.initial:
            return
        value = fb.value(fb.positive, dest.window)
        dest.success += value
        while dest.success + value / 2 >= 1:
            dest.window += 1
            dest.success -= 1
            dest.failure = 0.0
        if fb.limit and dest.window > fb.limit:
            dest.window = fb.limit

    def _throttle(self, dest: Destination, status: str, reason: str) -> None:
        fb = self.feedback
        dest.fail_cohorts += 1.0 / dest.window
        if fb.failed_cohort_limit > 0 and dest.fail_cohorts >= fb.failed_cohort_limit:
            dest.window = 0
            dest.dead_until = time.monotonic() + fb.dead_for
            dest.status, dest.reason = status, reason
            return
        value = fb.value(fb.negative, dest.window)
        dest.failure -= value
        while dest.failure - value / 2 < 0:
            dest.window -= 1
            dest.success = 0.0
            dest.failure += 1
        dest.window = max(dest.window, 1)
