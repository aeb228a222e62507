"""A plugin that fails: raises on CRASHME in the Subject, stalls on SLOWME (for plugin_timeout)."""

import asyncio

from filterd import hookimpl


@hookimpl
async def header(header):
    if header.name.lower() == "subject" and "CRASHME" in header.value:
        raise RuntimeError("plugin bug")
    if header.name.lower() == "subject" and "SLOWME" in header.value:
        await asyncio.sleep(60)
    return None
