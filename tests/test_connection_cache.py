"""The connection cache's rules: what may be reused, what is kept, what is taken back (no server needed: the
connections are never opened)."""

from __future__ import annotations

import asyncio
import time

import aiosmtplib

from filterd.connection_cache import CacheLimits, Connection, ConnectionCache


def connection(age: float = 0.0, uses: int = 0) -> Connection:
    return Connection(aiosmtplib.SMTP(), time.monotonic() - age, uses)


def test_a_connection_is_reused_within_smtp_connection_reuse_time_limit():
    limits = CacheLimits(reuse_time_limit=300)
    assert limits.reusable(connection(age=10))
    assert not limits.reusable(connection(age=301))


def test_smtp_connection_reuse_count_limit_zero_means_no_limit():
    assert CacheLimits(reuse_count_limit=0).reusable(connection(uses=1000))
    assert CacheLimits(reuse_count_limit=3).reusable(connection(uses=2))
    assert not CacheLimits(reuse_count_limit=3).reusable(connection(uses=3))


def test_a_kept_connection_is_taken_once_by_its_own_key():
    async def scenario():
        cache = ConnectionCache(CacheLimits(time_limit=300))
        kept = connection()
        assert cache.store(("[mx]:25", "192.0.2.1", 25), kept)
        assert cache.take(("[other]:25", "192.0.2.1", 25)) is None
        assert cache.take(("[mx]:25", "192.0.2.1", 25)) is kept
        assert cache.take(("[mx]:25", "192.0.2.1", 25)) is None
    asyncio.run(scenario())


def test_a_connection_past_its_limits_is_not_kept():
    async def scenario():
        cache = ConnectionCache(CacheLimits(reuse_count_limit=1))
        assert not cache.store("key", connection(uses=1))
        assert cache.take("key") is None
        await cache.quit_all()
    asyncio.run(scenario())
