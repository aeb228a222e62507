"""Adds X-Filterd-Tag at the end of the message stage, asynchronously, and counts body lines."""

import asyncio

from filterd import Verdict, hookimpl


@hookimpl
async def end_of_message(message):
    await asyncio.sleep(0)
    lines = sum(1 for _ in message.body_lines())
    return Verdict.add_header("X-Filterd-Tag", f"tagged; lines={lines}")
