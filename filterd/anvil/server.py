"""The anvil process: serves the workers' connect and disconnect requests from one AnvilTable, logs the peaks
every anvil_status_update_time and when it stops, as Postfix's anvil(8) does."""

from __future__ import annotations

import asyncio
import itertools
import os
import signal
import socket
import time
from typing import Callable

from filterd import maillog
from filterd.anvil.protocol import PROTOCOL, ProtocolError, RecordReader, encode
from filterd.anvil.table import AnvilTable

SERVICE = "anvil"


def bind_anvil(path: str) -> socket.socket:
    """The listening socket at `path` (in a directory only filterd may enter); a stale one is replaced."""
    if os.path.exists(path):
        os.unlink(path)
    sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    try:
        sock.bind(path)
        sock.listen(128)
    except OSError:
        sock.close()
        raise
    sock.setblocking(False)
    return sock


class AnvilConnection(asyncio.Protocol):
    """One worker's connection: its requests answered in order; its counts dropped when it goes away."""

    def __init__(self, table: AnvilTable, local: int, connections: set[AnvilConnection]):
        self.table, self.local, self.connections = table, local, connections
        self.reader = RecordReader()
        self.transport: asyncio.Transport | None = None

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        self.transport = transport  # type: ignore[assignment]
        self.connections.add(self)
        self.transport.write(encode(PROTOCOL))

    def data_received(self, data: bytes) -> None:
        try:
            records = self.reader.feed(data)
        except ProtocolError as exc:
            maillog.warning(SERVICE, "%s: closing the connection", exc)
            self.transport.close()
            return
        now, replies = time.time(), []
        for record in records:
            reply, warning = self.table.request(self.local, record, now)
            if warning:
                maillog.warning(SERVICE, "%s", warning)
            replies.append(encode(reply))
        if replies:
            self.transport.write(b"".join(replies))

    def connection_lost(self, exc: Exception | None) -> None:
        self.connections.discard(self)
        self.table.drop_local(self.local, time.time())


async def serve_anvil(sock: socket.socket, table: AnvilTable, status_time: float, stop: asyncio.Event) -> None:
    """Serve until `stop` is set, expiring idle clients every time unit and logging the peaks."""
    loop = asyncio.get_running_loop()
    locals_, connections = itertools.count(1), set()
    server = await loop.create_unix_server(lambda: AnvilConnection(table, next(locals_), connections), sock=sock)
    tasks = [loop.create_task(_every(table.time_unit, lambda: table.expire(time.time()))),
             loop.create_task(_every(status_time, lambda: log_statistics(table)))]
    try:
        await stop.wait()
    finally:
        for task in tasks:
            task.cancel()
        server.close()
        for connection in list(connections):
            connection.transport.close()
        log_statistics(table)


async def _every(seconds: float, action) -> None:
    while True:
        await asyncio.sleep(max(1.0, seconds))
        action()


def log_statistics(table: AnvilTable) -> None:
    for line in table.statistics():
        maillog.info(SERVICE, "%s", line)


def run_anvil(sock: socket.socket, time_unit: float, status_time: float,
              new_loop: Callable[[], asyncio.AbstractEventLoop] = asyncio.new_event_loop) -> None:
    """The anvil process's life: serve until SIGTERM, on the event loop the workers use."""
    loop = new_loop()
    asyncio.set_event_loop(loop)
    stop = asyncio.Event()
    loop.add_signal_handler(signal.SIGTERM, stop.set)
    loop.add_signal_handler(signal.SIGINT, stop.set)
    try:
        loop.run_until_complete(serve_anvil(sock, AnvilTable(time_unit), status_time, stop))
    finally:
        loop.close()
