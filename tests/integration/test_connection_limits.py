"""Postfix's client connection limits and a worker's session cap on a real filterd with its anvil process:
answered and logged as Postfix's smtpd does, and for one case side by side with Postfix itself.

To make connections land on a chosen worker, the other is stopped (SIGSTOP) while they connect: the kernel hands
each connection to whichever worker accepts, and a stopped one cannot.
"""

from __future__ import annotations

import os
import signal
import socket
from contextlib import ExitStack, contextmanager

from tests.harness import CLIENT, HOST, free_port, smtpd_listener, wait_until

NO_EXCEPTIONS = {"smtpd_client_event_limit_exceptions": ""}


def greet(port: int, opened: list[socket.socket]) -> str:
    """Connect, keep the connection open in `opened`, return the server's first line."""
    sock = socket.create_connection((HOST, port), timeout=30)
    opened.append(sock)
    return sock.makefile("rb").readline().decode().rstrip()


def children(filterd, comm: str | None = None) -> list[int]:
    """The master's children: the workers, or with `comm` the one so named (filterd-anvil)."""
    found = []
    for pid in filterd.pids():
        if pid == filterd.pid:
            continue
        name = _comm(pid)
        if (name == comm) if comm else name != "filterd-anvil":
            found.append(pid)
    return found


def _comm(pid: int) -> str:
    try:
        with open(f"/proc/{pid}/comm") as f:
            return f.read().strip()
    except OSError:
        return ""


@contextmanager
def stopped(*pids: int):
    """The processes stopped for the block (SIGSTOP), then let go again."""
    with ExitStack() as stack:
        for pid in pids:
            os.kill(pid, signal.SIGSTOP)
            stack.callback(os.kill, pid, signal.SIGCONT)
        yield


def test_the_count_limit_holds_when_connections_land_on_different_workers(filterd_factory):
    filterd = filterd_factory({"filterd_worker_processes": "2", "smtpd_client_connection_count_limit": "2",
                               **NO_EXCEPTIONS})
    wait_until(lambda: len(children(filterd)) == 2, 10, "two workers")
    first, second = children(filterd)
    opened: list[socket.socket] = []
    try:
        with stopped(second):
            assert greet(filterd.port, opened).startswith("220 ")
            assert greet(filterd.port, opened).startswith("220 ")
        with stopped(first):
            assert greet(filterd.port, opened) == "421 4.7.0 filterd.test Error: too many connections from 127.0.0.1"
        log = filterd.log()
        assert (f"filterd/smtpd[{second}]: warning: Connection concurrency limit exceeded: 3 from {CLIENT} "
                f"for service {HOST}:{filterd.port}") in log
        wait_until(lambda: f"filterd/smtpd[{second}]: disconnect from {CLIENT} commands=0/0" in filterd.log(), 10,
                   "the refused session's disconnect line")
        opened.pop(0).close()
        wait_until(lambda: greet(filterd.port, opened).startswith("220 "), 10, "room for one more connection")
    finally:
        for sock in opened:
            sock.close()


def test_the_rate_limit_counts_connections_per_time_unit(filterd_factory):
    filterd = filterd_factory({"smtpd_client_connection_count_limit": "0", "smtpd_client_connection_rate_limit": "2",
                               **NO_EXCEPTIONS})
    replies = []
    for _ in range(3):
        opened: list[socket.socket] = []
        replies.append(greet(filterd.port, opened))
        opened[0].close()
    assert [reply[:3] for reply in replies] == ["220", "220", "421"]
    assert replies[2] == "421 4.7.0 filterd.test Error: too many connections from 127.0.0.1"
    assert (f"warning: Connection rate limit exceeded: 3 from {CLIENT} for service {HOST}:{filterd.port}"
            in filterd.log())


def test_clients_in_the_exceptions_are_not_limited_and_mynetworks_is_the_default(filterd_factory):
    filterd = filterd_factory({"smtpd_client_connection_count_limit": "1"})
    opened: list[socket.socket] = []
    try:
        assert [greet(filterd.port, opened)[:3] for _ in range(3)] == ["220", "220", "220"]
    finally:
        for sock in opened:
            sock.close()
    assert "limit exceeded" not in filterd.log()


def test_clients_outside_the_exceptions_are_limited(filterd_factory):
    filterd = filterd_factory({"smtpd_client_connection_count_limit": "1",
                               "smtpd_client_event_limit_exceptions": "192.0.2.0/24, [2001:db8::]/32"})
    opened: list[socket.socket] = []
    try:
        assert [greet(filterd.port, opened)[:3] for _ in range(2)] == ["220", "421"]
    finally:
        for sock in opened:
            sock.close()


def test_with_anvil_down_sessions_go_on_with_a_warning(filterd_factory):
    filterd = filterd_factory({"smtpd_client_connection_count_limit": "1", **NO_EXCEPTIONS})
    wait_until(lambda: children(filterd, "filterd-anvil"), 10, "the anvil process")
    anvil = children(filterd, "filterd-anvil")[0]
    opened: list[socket.socket] = []
    try:
        with stopped(filterd.pid):
            os.kill(anvil, signal.SIGKILL)
            assert [greet(filterd.port, opened)[:3] for _ in range(2)] == ["220", "220"]
        wait_until(lambda: "warning: connect to /" in filterd.log() and "/anvil: Connection refused" in filterd.log(),
                   10, "the worker's warning")
        wait_until(lambda: f"process anvil pid {anvil} killed by signal 9" in filterd.log(), 10,
                   "the master to notice")
    finally:
        for sock in opened:
            sock.close()


def test_a_full_worker_answers_as_postscreen_does_when_every_smtpd_is_busy(filterd_factory):
    filterd = filterd_factory({"filterd_sessions_per_worker": "1"})
    opened: list[socket.socket] = []
    try:
        assert greet(filterd.port, opened).startswith("220 ")
        assert greet(filterd.port, opened) == "421 4.3.2 All server ports are busy"
        port = opened[1].getsockname()[1]
    finally:
        for sock in opened:
            sock.close()
    log = filterd.log()
    assert f"filterd/smtpd[" in log and f"NOQUEUE: reject: CONNECT from [{HOST}]:{port}: all server ports busy" in log
    assert f'warning: service "{HOST}:{filterd.port}" has reached its session limit "1"' in log


def test_a_worker_hands_back_a_burst_s_memory_by_leaving_for_a_fresh_one(filterd_factory):
    filterd = filterd_factory()
    wait_until(lambda: len(children(filterd)) == 1, 10, "the worker")
    worker = children(filterd)[0]
    opened: list[socket.socket] = []
    try:
        for _ in range(100):
            assert greet(filterd.port, opened).startswith("220 ")
    finally:
        for sock in opened:
            sock.close()
    wait_until(lambda: children(filterd) and worker not in children(filterd), 30, "a fresh worker")
    assert greet(filterd.port, opened).startswith("220 ")
    opened[-1].close()
    log = filterd.log()
    assert log.count(f"filterd/smtpd[{worker}]: disconnect from {CLIENT}") == 100
    assert "warning: process smtpd" not in log


def refused_twice(port: int) -> list[str]:
    """Two connections held open, then a third: the replies."""
    opened: list[socket.socket] = []
    try:
        return [greet(port, opened) for _ in range(3)]
    finally:
        for sock in opened:
            sock.close()


def test_the_same_main_cf_gets_the_same_replies_and_warning_from_postfix_and_filterd(postfix_factory,
                                                                                      filterd_factory):
    limits = {"smtpd_client_connection_count_limit": "2", **NO_EXCEPTIONS}
    port = free_port()
    postfix = postfix_factory([smtpd_listener(port)], limits)
    filterd = filterd_factory(limits)
    theirs, ours = refused_twice(port), refused_twice(filterd.port)
    assert [r.replace("postfix.test", "HOST") for r in theirs[2:]] == [r.replace("filterd.test", "HOST") for r in ours[2:]]
    warning = "warning: Connection concurrency limit exceeded: 3 from {client} for service {host}:{port}"
    wait_until(lambda: warning.format(client=CLIENT, host=HOST, port=port) in postfix.maillog(), 10,
               "Postfix's warning")
    assert warning.format(client=CLIENT, host=HOST, port=filterd.port) in filterd.log()
