"""A worker's open connections, counted so that a stop lets them finish."""

from __future__ import annotations

import asyncio

from filterd.draining import OpenConnections


class Session(asyncio.Protocol):
    """Keeps its transport, as the SMTP and milter servers' protocols do."""

    transport: asyncio.BaseTransport | None = None

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        self.transport = transport


async def until(condition) -> None:
    while not condition():
        await asyncio.sleep(0.01)


def test_connections_are_open_until_the_client_leaves():
    async def scenario() -> list[object]:
        connections = OpenConnections()
        server = await asyncio.get_running_loop().create_server(connections.track(Session), "127.0.0.1", 0)
        port = server.sockets[0].getsockname()[1]
        _, writer = await asyncio.open_connection("127.0.0.1", port)
        await asyncio.wait_for(until(lambda: connections.count() == 1), 5)
        server.close()
        seen = [await connections.drained(0.1)]
        writer.close()
        seen += [await connections.drained(5), connections.count()]
        return seen

    assert asyncio.run(scenario()) == [False, True, 0]
