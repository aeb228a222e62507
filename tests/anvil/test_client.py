"""A worker's anvil client against the real anvil server, both in one event loop on a unix socket."""

from __future__ import annotations

import asyncio
import contextlib
import socket
from pathlib import Path

from filterd.anvil.client import AnvilClient
from filterd.anvil.protocol import Counts
from filterd.anvil.server import bind_anvil, serve_anvil
from filterd.anvil.table import AnvilTable

KEY = "smtp:192.0.2.1"


@contextlib.asynccontextmanager
async def anvil(path: Path, table: AnvilTable):
    stop = asyncio.Event()
    task = asyncio.create_task(serve_anvil(bind_anvil(str(path)), table, 600, stop))
    try:
        yield table
    finally:
        stop.set()
        await task


async def settle(client: AnvilClient) -> None:
    """Wait until anvil has answered every request sent, disconnects included."""
    while client.stream is not None and client.stream.waiting:
        await asyncio.sleep(0.001)


def test_two_workers_clients_add_up_and_a_disconnect_takes_one_away(tmp_path):
    async def run():
        async with anvil(tmp_path / "anvil", AnvilTable(60)) as table:
            one, two = AnvilClient(str(tmp_path / "anvil")), AnvilClient(str(tmp_path / "anvil"))
            assert await one.connect(KEY) == Counts(1, 1)
            assert await two.connect(KEY) == Counts(2, 2)
            one.disconnect(KEY)
            await settle(one)
            assert table.remotes[KEY].count == 1
            one.close()
            two.close()
    asyncio.run(run())


def test_requests_in_flight_together_are_answered_in_order(tmp_path):
    async def run():
        async with anvil(tmp_path / "anvil", AnvilTable(60)):
            client = AnvilClient(str(tmp_path / "anvil"))
            answers = await asyncio.gather(*(client.connect(KEY) for _ in range(20)))
            assert sorted(a.count for a in answers) == list(range(1, 21))
            assert client.stream is not None and len(client.stream.waiting) == 0
            client.close()
    asyncio.run(run())


def test_a_worker_that_goes_away_takes_its_counts_with_it(tmp_path):
    async def run():
        async with anvil(tmp_path / "anvil", AnvilTable(60)) as table:
            gone, staying = AnvilClient(str(tmp_path / "anvil")), AnvilClient(str(tmp_path / "anvil"))
            await gone.connect(KEY)
            await gone.connect(KEY)
            gone.close()
            while table.remotes[KEY].count:
                await asyncio.sleep(0.001)
            assert await staying.connect(KEY) == Counts(1, 3)
            staying.close()
    asyncio.run(run())


def test_a_connect_given_up_on_is_undone(tmp_path):
    async def run():
        async with anvil(tmp_path / "anvil", AnvilTable(60)) as table:
            client = AnvilClient(str(tmp_path / "anvil"))
            await client.connect(KEY)
            waiting = asyncio.create_task(client.connect(KEY))
            await asyncio.sleep(0)
            waiting.cancel()
            await asyncio.gather(waiting, return_exceptions=True)
            await settle(client)
            assert table.remotes[KEY].count == 1
            client.close()
    asyncio.run(run())


def test_without_anvil_a_session_goes_on_and_a_warning_says_why(tmp_path, filterd_log):
    async def run():
        client = AnvilClient(str(tmp_path / "nothing-here"))
        assert await client.connect(KEY) is None
        assert await client.connect(KEY) is None
        client.disconnect(KEY)
    asyncio.run(run())
    warnings = [r.getMessage() for r in filterd_log.records if "connect to" in r.getMessage()]
    assert warnings == [f"connect to {tmp_path / 'nothing-here'}: No such file or directory"]


def test_an_anvil_that_stops_answering_sanely_is_given_up_and_the_session_goes_on(tmp_path, filterd_log):
    async def run():
        path = tmp_path / "liar"
        server = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        server.bind(str(path))
        server.listen(1)
        server.setblocking(False)

        async def liar(reader, writer):
            writer.write(b"protocol=anvil\n\n")
            await reader.readuntil(b"\n\n")
            writer.write(b"nonsense\n\n")
            await writer.drain()
            await reader.read()
        listening = await asyncio.start_unix_server(liar, sock=server)
        client = AnvilClient(str(path))
        assert await client.connect(KEY) is None
        listening.close()
    asyncio.run(run())
    assert any("problem talking to server" in r.getMessage() for r in filterd_log.records)


def test_after_anvil_restarts_the_client_connects_to_the_new_one(tmp_path):
    async def run():
        path = tmp_path / "anvil"
        client = AnvilClient(str(path))
        async with anvil(path, AnvilTable(60)):
            assert await client.connect(KEY) == Counts(1, 1)
        while client.stream is not None and client.stream.open:
            await asyncio.sleep(0.001)
        async with anvil(path, AnvilTable(60)) as fresh:
            client.retry_at = 0.0
            assert await client.connect(KEY) == Counts(1, 1)
            assert fresh.remotes[KEY].count == 1
            client.close()
    asyncio.run(run())
