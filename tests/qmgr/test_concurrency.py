"""Postfix's destination concurrency scheduler with numbers alone: slow start from initial_destination_concurrency,
positive and negative feedback, a dead destination after a failed pseudo-cohort, revived after minimal_backoff_time."""

from __future__ import annotations

import asyncio

from filterd.qmgr.concurrency import SUSPENDED, Feedback, Scheduler

FAILED = ("4.4.1", "connect to mx[192.0.2.1]:25: Connection refused")


def take(scheduler: Scheduler, key: str = "smtp:mx") -> object:
    return asyncio.run(scheduler.acquire(key))


def test_a_destination_starts_at_the_initial_concurrency_and_grows_with_each_success():
    scheduler = Scheduler(Feedback(initial=2, limit=4))
    first, second = take(scheduler), take(scheduler)
    assert scheduler.destinations["smtp:mx"].window == 2
    scheduler.release(first)
    assert scheduler.destinations["smtp:mx"].window == 3
    scheduler.release(second)
    for _ in range(5):
        scheduler.release(take(scheduler))
    assert scheduler.destinations["smtp:mx"].window == 3  # no further than busy + initial
    held = [take(scheduler) for _ in range(3)]
    for slot in held:
        scheduler.release(slot)
    assert scheduler.destinations["smtp:mx"].window == 4  # the limit


def test_three_site_failures_at_five_kill_a_destination_as_in_postfix():
    """fail_cohorts += 1/window each time, the window shrinking (5 -> 3 -> 2): the third makes one cohort."""
    scheduler = Scheduler(Feedback())
    slots = [take(scheduler) for _ in range(5)]
    scheduler.release(slots[0], FAILED)
    scheduler.release(slots[1], FAILED)
    assert scheduler.destinations["smtp:mx"].window == 2
    scheduler.release(slots[2], FAILED)
    assert scheduler.destinations["smtp:mx"].dead
    assert take(scheduler) is None
    assert scheduler.suspended("smtp:mx") == ("4.4.1", SUSPENDED + FAILED[1])
    scheduler.release(slots[3])
    assert scheduler.destinations["smtp:mx"].window == 2  # revived at the deliveries still in progress


def test_a_dead_destination_comes_back_after_the_backoff_time():
    scheduler = Scheduler(Feedback(dead_for=0.0, failed_cohort_limit=1))
    for _ in range(3):
        scheduler.release(take(scheduler), FAILED)
    assert take(scheduler) is not None
    assert scheduler.destinations["smtp:mx"].window == 5


def test_waiting_deliveries_get_freed_slots_in_order_and_all_go_when_the_destination_dies():
    async def scenario() -> list:
        scheduler = Scheduler(Feedback(initial=1, limit=1))
        first = await scheduler.acquire("smtp:mx")
        waiters = [asyncio.ensure_future(scheduler.acquire("smtp:mx")) for _ in range(3)]
        await asyncio.sleep(0)
        assert not any(w.done() for w in waiters)
        scheduler.release(first)
        await asyncio.sleep(0)
        assert [w.done() for w in waiters] == [True, False, False]
        scheduler.release(waiters[0].result(), FAILED)
        await asyncio.sleep(0)
        return [w.result() for w in waiters[1:]]

    assert asyncio.run(scenario()) == [None, None]


def test_a_flush_revives_every_dead_destination_at_once():
    """postqueue -f (qmgr's QMGR_REQ_FLUSH_DEAD): a dead destination is tried again before minimal_backoff_time."""
    scheduler = Scheduler(Feedback(initial=1, dead_for=3600.0))
    scheduler.release(take(scheduler), FAILED)
    scheduler.release(take(scheduler, "smtp:other"))
    assert scheduler.destinations["smtp:mx"].dead and take(scheduler) is None
    scheduler.enable_all()
    assert not scheduler.destinations["smtp:mx"].dead and scheduler.suspended("smtp:mx")[0] == ""
    assert take(scheduler) is not None
    assert scheduler.destinations["smtp:other"].window == 2
