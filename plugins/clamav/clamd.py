"""The INSTREAM exchange with clamd over a TCP or unix socket: instream.py's bytes carried by asyncio."""

from __future__ import annotations

import asyncio
from typing import Iterable

from filterd import Endpoint
from .instream import Reply, ReplyReader, frames


async def scan(clamd: Endpoint, chunks: Iterable[bytes], timeout: float) -> Reply:
    """clamd's verdict on the data; raises OSError, ProtocolError or TimeoutError."""
    async with asyncio.timeout(timeout):
        if clamd.port == 0:
            reader, writer = await asyncio.open_unix_connection(clamd.host)
        else:
            reader, writer = await asyncio.open_connection(clamd.host, clamd.port)
        try:
            await _send(writer, chunks)
            return await _receive(reader)
        finally:
            writer.close()


async def _send(writer: asyncio.StreamWriter, chunks: Iterable[bytes]) -> None:
    """The request and the data; clamd may stop reading and answer early (size limit): that answer counts."""
    try:
        for frame in frames(chunks):
            writer.write(frame)
            await writer.drain()
    except (BrokenPipeError, ConnectionResetError):
        pass


async def _receive(reader: asyncio.StreamReader) -> Reply:
    replies = ReplyReader()
    while data := await reader.read(4096):
        reply = replies.feed(data)
        if reply is not None:
            return reply
    return replies.close()
