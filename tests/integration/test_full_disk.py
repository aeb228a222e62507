"""A full spool: clients get 452 4.3.1, and every message that got 250 is still there."""

from __future__ import annotations

import smtplib
import subprocess

import pytest

from filterd.queue.queuefile import QueueFile
from tests.harness import free_port, make_workdir
from tests.integration.test_relay import FAST_QUEUE


@pytest.fixture
def small_disk():
    path = make_workdir("filterd-tmpfs-")
    subprocess.run(["mount", "-t", "tmpfs", "-o", "size=1m", "tmpfs", str(path)], check=True)
    yield path
    subprocess.run(["umount", "-l", str(path)], check=True)


def test_full_disk_gives_452_and_keeps_what_was_accepted(small_disk, filterd_factory):
    port = free_port()
    relay = filterd_factory({**FAST_QUEUE, "filterd_listeners": f"relay:127.0.0.1:{port}", "queue_directory": str(small_disk),
                     "relayhost": f"[127.0.0.1]:{free_port()}"}, port=port)
    body = "x" * 998 + "\r\n"
    accepted, refused = [], []
    with smtplib.SMTP("127.0.0.1", port, timeout=30) as client:
        for n in range(20):
            try:
                client.sendmail("a@example.org", ["b@example.net"], f"Message-ID: <full-{n}@t>\r\n\r\n" + body * 100)
                accepted.append(f"<full-{n}@t>")
            except smtplib.SMTPDataError as exc:
                refused.append((exc.smtp_code, exc.smtp_error))
    assert accepted and refused
    assert set(refused) == {(452, b"4.3.1 Insufficient system storage")}
    relay.stop()
    queued = [QueueFile.read(str(p)).envelope.message_id
              for queue in ("incoming", "active", "deferred") for p in (small_disk / queue).iterdir()]
    assert sorted(queued) == sorted(accepted)
