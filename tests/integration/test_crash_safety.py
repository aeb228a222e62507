"""kill -9 under load: every message that got 250 is delivered; duplicates are counted, never losses."""

from __future__ import annotations

import contextlib
import os
import random
import re
import signal
import smtplib
import subprocess
import threading
import time

from tests.harness import free_port, process_tree, wait_until
from tests.integration.test_relay import FAST_QUEUE

MESSAGES = 2000
CLIENTS = 8
KILLS = 5


class Load:
    """Clients sending numbered messages; each remembers which ones got 250."""

    def __init__(self, port: int):
        self.port = port
        self.next = 0
        self.acked: set[str] = set()
        self.lock = threading.Lock()

    def take(self) -> str | None:
        with self.lock:
            if self.next >= MESSAGES:
                return None
            self.next += 1
            return f"<crash-{self.next}@test>"

    def client(self) -> None:
        message_id = self.take()
        while message_id is not None:
            try:
                with smtplib.SMTP("127.0.0.1", self.port, timeout=10) as smtp:
                    while message_id is not None:
                        smtp.sendmail("a@example.org", ["b@example.net"],
                                      f"Message-ID: {message_id}\r\nSubject: crash\r\n\r\nbody\r\n")
                        with self.lock:
                            self.acked.add(message_id)
                        message_id = self.take()
            except (OSError, smtplib.SMTPException):
                time.sleep(0.05)


def test_kill_9_loses_no_acknowledged_message(filterd_factory, smtp_sink):
    port = free_port()
    relay = filterd_factory({**FAST_QUEUE, "filterd_listeners": f"relay:127.0.0.1:{port}",
                             "relayhost": f"[127.0.0.1]:{smtp_sink.port}", "filterd_worker_processes": "2"},
                            port=port)
    load = Load(port)
    threads = [threading.Thread(target=load.client) for _ in range(CLIENTS)]
    for thread in threads:
        thread.start()
    rng = random.Random(4)
    for _ in range(KILLS):
        time.sleep(rng.uniform(0.3, 1.2))
        relay.kill()
        relay.start()
    for thread in threads:
        thread.join(120)
    assert len(load.acked) > MESSAGES // 2
    wait_until(lambda: _delivered(smtp_sink) >= load.acked, 60,
               f"{len(load.acked)} acknowledged messages at the sink")
    counts = _counts(smtp_sink)
    duplicates = sum(n - 1 for n in counts.values())
    print(f"acknowledged={len(load.acked)} delivered={len(counts)} duplicates={duplicates}")
    assert duplicates <= 50


def _counts(sink) -> dict[str, int]:
    counts: dict[str, int] = {}
    for raw in sink.messages():
        match = re.search(rb"Message-ID: (<crash-\d+@test>)", raw)
        if match:
            counts[match.group(1).decode()] = counts.get(match.group(1).decode(), 0) + 1
    return counts


def _delivered(sink) -> set[str]:
    return set(_counts(sink))


SOURCE_MESSAGES = 2000
SOURCE_SESSIONS = 8
DUPLICATES_PER_KILL = 5


def test_kill_9_of_the_queue_manager_duplicates_no_more_than_postfix(filterd_factory, postfix_factory,
                                                                      smtp_sink_factory):
    """smtp-source sends 2,000 messages while the delivering processes are killed five times, in filterd and in
    Postfix: none is lost. Postfix's count is the target (issue 19); filterd's qmgr reads the next hop's replies
    in one busy event loop, so it still delivers more twice (measured 11-15 to Postfix's 2-8): the bound below
    keeps that from growing while the target is not met."""
    port, filterd_sink = free_port(), smtp_sink_factory()
    relay = filterd_factory({**FAST_QUEUE, "filterd_listeners": f"relay:127.0.0.1:{port}",
                             "relayhost": f"[127.0.0.1]:{filterd_sink.port}"}, port=port)
    qmgr_pid = relay.directory / "queue" / "pid" / "qmgr.pid"
    filterd_duplicates = _source_under_kills(relay.port, filterd_sink, lambda: _filterd_qmgr(qmgr_pid))
    postfix_sink = smtp_sink_factory()
    postfix = postfix_factory.relay(postfix_sink.port, {"service_throttle_time": "1s"})
    postfix_duplicates = _source_under_kills(postfix.port, postfix_sink, lambda: _postfix_delivery(postfix.pid),
                                             lambda: postfix_flush(postfix))
    print(f"duplicates: filterd={filterd_duplicates} postfix={postfix_duplicates}")
    assert filterd_duplicates <= postfix_duplicates + DUPLICATES_PER_KILL * KILLS


def _source_under_kills(port: int, sink, delivery_pids, wake=lambda: None) -> int:
    """Run smtp-source; each time another sixth of the messages has reached the sink, kill -9 the delivering
    processes (so that every kill lands mid-delivery, however fast the relay); all arrive, duplicates counted."""
    started = time.monotonic()
    source = subprocess.Popen(["smtp-source", "-s", str(SOURCE_SESSIONS), "-m", str(SOURCE_MESSAGES),
                               "-f", "a@example.org", "-t", "b@example.net", f"127.0.0.1:{port}"],
                              stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    killed: set[int] = set()
    for kill in range(1, KILLS + 1):
        wait_until(lambda: set(delivery_pids()) - killed, 10, "the delivering processes to run again")
        wait_until(lambda: sink.counters()[2] >= kill * SOURCE_MESSAGES // (KILLS + 1), 30, "deliveries")
        for pid in delivery_pids():
            killed.add(pid)
            with contextlib.suppress(ProcessLookupError):
                os.kill(pid, signal.SIGKILL)
    assert source.wait(60) == 0, source.stderr.read()
    wake()
    wait_until(lambda: len(_by_queue_id(sink)) >= SOURCE_MESSAGES, 60, f"{SOURCE_MESSAGES} messages at the sink")
    counts = _by_queue_id(sink)
    assert len(counts) == SOURCE_MESSAGES
    print(f"port {port}: {SOURCE_MESSAGES} messages delivered in {time.monotonic() - started:.1f}s")
    return sum(n - 1 for n in counts.values())


def postfix_flush(postfix) -> None:
    """postqueue -f: Postfix's master starts a killed qmgr again only when something wakes it (new mail, a flush)."""
    subprocess.run(["postqueue", "-c", str(postfix.config_dir), "-f"], check=True, stdin=subprocess.DEVNULL)


def _filterd_qmgr(pid_file) -> list[int]:
    try:
        pid = int(pid_file.read_text())
        return [pid] if os.path.exists(f"/proc/{pid}") else []
    except (OSError, ValueError):
        return []


def _postfix_delivery(master: int) -> list[int]:
    """Postfix's qmgr and smtp processes (the queue manager and the delivery agents that cross recipients off)."""
    pids = []
    for pid in process_tree(master):
        with contextlib.suppress(OSError):
            if open(f"/proc/{pid}/cmdline", "rb").read().split(b"\0")[0] in (b"qmgr", b"smtp"):
                pids.append(pid)
    return pids if any(open(f"/proc/{p}/cmdline", "rb").read().startswith(b"qmgr") for p in pids) else []


def _by_queue_id(sink) -> dict[str, int]:
    """How often the sink got each message, known by the id in the Received: header the relay added."""
    counts: dict[str, int] = {}
    for path in sink.dump_dir.iterdir():
        try:
            raw = path.read_bytes()
        except FileNotFoundError:
            continue  # smtp-sink renames a dump file as it completes it
        match = re.search(rb"\((?:filterd|Postfix)\) with \w+ id (\w+)", raw)
        if match:
            counts[match.group(1).decode()] = counts.get(match.group(1).decode(), 0) + 1
    return counts
