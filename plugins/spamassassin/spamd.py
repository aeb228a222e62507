"""Asking spamd about one message through aiospamc (SYMBOLS, or REPORT for the report), and its answer."""

from __future__ import annotations

import asyncio
import re
from dataclasses import dataclass
from pathlib import Path

import aiospamc

from .settings import Settings

_REPORT_RULE = re.compile(rb"^\s*-?\d+(?:\.\d+)?\s+([A-Z0-9_]+)\s", re.M)


@dataclass(frozen=True)
class Result:
    """spamd's judgement: spam or not, the score, the required score, the rules that hit, the report."""

    spam: bool
    score: float
    required: float
    tests: tuple[str, ...]
    report: str = ""

    def status(self) -> str:
        """X-Spam-Status as spamd's own headers write it."""
        return (f"{'Yes' if self.spam else 'No'}, score={self.score:.1f} required={self.required:.1f} "
                f"tests={','.join(self.tests) or 'none'}")


async def ask(settings: Settings, data: bytes, user: str | None) -> Result:
    """spamd's judgement on `data`; raises on a connection failure, an error answer or a timeout."""
    spamd = settings.spamd
    where = {"socket_path": Path(spamd.host)} if spamd.port == 0 else {"host": spamd.host, "port": spamd.port}
    call = aiospamc.report if settings.report else aiospamc.symbols
    timeout = aiospamc.Timeout(total=settings.timeout, connection=settings.timeout)
    async with asyncio.timeout(settings.timeout):
        response = await call(data, timeout=timeout, user=user, **where)
    spam = response.headers.spam
    body = bytes(response.body)
    if settings.report:
        return Result(spam.value, spam.score, spam.threshold, tuple(r.decode() for r in _REPORT_RULE.findall(body)),
                      body.decode("utf-8", "replace").strip())
    tests = tuple(t for t in body.decode("ascii", "replace").strip().split(",") if t)
    return Result(spam.value, spam.score, spam.threshold, tests)
