"""kill -9 under load: every message that got 250 is delivered; duplicates are counted, never losses."""

from __future__ import annotations

import random
import re
import smtplib
import threading
import time

from tests.harness import free_port, wait_until
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
