"""Nothing smuggled at a read boundary: a bare CR that is the last byte of an overlong line's piece, with
".\\r\\n" in the next read, reaches the next hop as CRLF, through the proxy and through the queue."""

from __future__ import annotations

import re
import socket
from collections.abc import Iterator
from pathlib import Path

import pytest

from filterd.queue.queuefile import QueueFile
from tests.fixtures.recording_server import RecordingServer
from tests.harness import HOST, free_port, wait_until

LIMIT = 2048
"""filterd's line_length_limit, the limit of its StreamReader."""
HEAD = b"From: alice@example.org\r\nSubject: boundary\r\n\r\n"
OVERLONG = b"A" * LIMIT + b"\r"
"""An overlong piece whose last byte is a bare CR: the reader hands it over before the next read."""
SMUGGLED = b".\r\nMAIL FROM:<evil@example.org>\r\nRCPT TO:<victim@example.net>\r\nDATA\r\nsmuggled\r\n"
BARE = re.compile(rb"\r(?!\n)|(?<!\r)\n")
FAST_QUEUE = {"queue_run_delay": "1s", "minimal_backoff_time": "1s", "maximal_backoff_time": "1s",
              "smtp_dns_support_level": "disabled", "smtpd_error_sleep_time": "0"}


@pytest.fixture
def recorder_factory() -> Iterator:
    started: list[RecordingServer] = []

    def start(*replies: bytes) -> RecordingServer:
        started.append(RecordingServer(list(replies)).start())
        return started[-1]

    yield start
    for server in started:
        server.stop()


def queues(port: int, peer: int) -> tuple[int, int]:
    """(tx_queue, rx_queue) of the TCP socket from local `port` to `peer`, as /proc/net/tcp shows it."""
    for line in Path("/proc/net/tcp").read_text().splitlines()[1:]:
        fields = line.split()
        if int(fields[1].rsplit(":", 1)[1], 16) == port and int(fields[2].rsplit(":", 1)[1], 16) == peer:
            tx, rx = fields[4].split(":")
            return int(tx, 16), int(rx, 16)
    return -1, -1


def send_across_a_read_boundary(port: int) -> bytes:
    """One message whose overlong piece ends in a bare CR; ".\\r\\n" is sent only once filterd has read
    the piece (its socket's receive queue is empty). Returns the reply to the end of data."""
    with socket.create_connection((HOST, port), timeout=30) as client:
        client.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        replies = client.makefile("rb")
        replies.readline()
        client.sendall(b"EHLO client.test\r\n")
        while replies.readline()[3:4] == b"-":
            pass
        for command in (b"MAIL FROM:<alice@example.org>\r\n", b"RCPT TO:<bob@example.net>\r\n", b"DATA\r\n"):
            client.sendall(command)
            replies.readline()
        client.sendall(HEAD + OVERLONG)
        mine = client.getsockname()[1]
        wait_until(lambda: queues(mine, port)[0] == 0 and queues(port, mine)[1] == 0, 10,
                   "filterd to read the overlong piece")
        client.sendall(SMUGGLED + b".\r\n")
        reply = replies.readline()
        client.sendall(b"QUIT\r\n")
        return reply


def assert_nothing_smuggled(wire: bytes) -> None:
    assert BARE.search(wire) is None
    assert wire.endswith(b"A\r\n..\r\nMAIL FROM:<evil@example.org>\r\nRCPT TO:<victim@example.net>\r\n"
                         b"DATA\r\nsmuggled\r\n.\r\n")


def test_the_proxy_sends_a_bare_cr_at_a_read_boundary_as_crlf(filterd_factory, recorder_factory):
    recorder = recorder_factory()
    proxy = filterd_factory(nexthop_port=recorder.port)
    assert send_across_a_read_boundary(proxy.port).startswith(b"250 ")
    [recorded] = recorder.recorded
    assert_nothing_smuggled(recorded.data)
    assert [c for c in recorder.commands if c.startswith(b"MAIL")] == [b"MAIL FROM:<alice@example.org>\r\n"]


def test_the_queue_file_and_the_delivery_hold_no_bare_cr(filterd_factory, recorder_factory):
    recorder = recorder_factory(b"451 4.3.0 not now\r\n")
    port = free_port()
    relay = filterd_factory({**FAST_QUEUE, "filterd_listeners": f"relay:{HOST}:{port}",
                             "relayhost": f"[{HOST}]:{recorder.port}"}, port=port)
    assert send_across_a_read_boundary(port).startswith(b"250 ")
    deferred = wait_until(lambda: [p for p in (relay.directory / "queue" / "deferred").rglob("*") if p.is_file()],
                          30, "the message deferred")
    content = b"".join(QueueFile.read(str(deferred[0])).content())
    assert BARE.search(content) is None
    assert content.endswith(b"A\r\n.\r\nMAIL FROM:<evil@example.org>\r\nRCPT TO:<victim@example.net>\r\n"
                            b"DATA\r\nsmuggled\r\n")
    wait_until(lambda: len(recorder.recorded) == 2, 30, "the second delivery attempt")
    first, second = recorder.recorded
    assert first.data == second.data
    assert_nothing_smuggled(second.data)
