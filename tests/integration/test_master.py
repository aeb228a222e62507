"""The master process: worker processes share the listener, and a dead worker is replaced."""

from __future__ import annotations

import os
import signal
import smtplib

from tests.harness import wait_until


def send(port: int) -> None:
    with smtplib.SMTP("127.0.0.1", port, timeout=30) as client:
        client.sendmail("a@example.org", ["b@example.net"], "Subject: w\r\n\r\nx\r\n")


def workers(proxy) -> list[int]:
    """The worker processes: the master's children but anvil, which names itself filterd-anvil."""
    return [pid for pid in proxy.pids() if pid != proxy.pid and _is_filterd(pid) and _comm(pid) != "filterd-anvil"]


def _comm(pid: int) -> str:
    try:
        with open(f"/proc/{pid}/comm") as f:
            return f.read().strip()
    except OSError:
        return ""


def _is_filterd(pid: int) -> bool:
    try:
        with open(f"/proc/{pid}/cmdline", "rb") as f:
            return b"filterd" in f.read()
    except OSError:
        return False


def test_workers_share_the_port_and_a_killed_worker_is_replaced(smtp_sink, filterd_factory):
    proxy = filterd_factory({"filterd_worker_processes": "2"}, nexthop_port=smtp_sink.port)
    wait_until(lambda: len(workers(proxy)) == 2, 10, "two workers")
    victim = workers(proxy)[0]
    os.kill(victim, signal.SIGKILL)
    wait_until(lambda: f"pid {victim} killed by signal 9" in proxy.log(), 10, "the master to notice")
    wait_until(lambda: len(workers(proxy)) == 2 and victim not in workers(proxy), 10, "a new worker")
    for _ in range(4):
        send(proxy.port)
    smtp_sink.wait_for(4)
    assert "warning: process smtpd pid" in proxy.log()
