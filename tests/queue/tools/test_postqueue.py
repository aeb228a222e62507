"""postqueue -p (the mailq listing), -f and -i on a spool in tmp_path."""

from __future__ import annotations

import os
import subprocess
import sys
import time

import pytest

from filterd.queue.queuefile import Recipient
from filterd.queue.tools.postqueue import flush_site
from tests.queue.tools.conftest import ARRIVAL, queue_message

REFUSED = "connect to 127.0.0.1[127.0.0.1]:47211: Connection refused"

# Lines printed by Postfix 3.7's `postqueue -p` (enable_long_queue_ids = yes, TZ=UTC) for the same three messages.
POSTFIX_LISTING = """\
----Queue ID----- --Size-- ---Arrival Time---- --Sender/Recipient------
042B920C2DA            295 Thu Nov 26 11:30:58 alice@example.org
                   (connect to 127.0.0.1[127.0.0.1]:47211: Connection refused)
                                               bob@example.net
                                               carol@example.net
                                               dave@other.example.com

4jZvXJ2FkzzJ9DX        304 Thu Nov 26 11:32:00 MAILER-DAEMON
                   (connect to 127.0.0.1[127.0.0.1]:47211: Connection refused)
                                               bob@example.net

04A7920C064!          3312 Thu Nov 26 11:30:58 MAILER-DAEMON
                   (connect to 127.0.0.1[127.0.0.1]:47211: Connection refused)
                                               bob@example.net

-- 3 Kbytes in 3 Requests.
"""


def deferred(address: str, text: str = REFUSED) -> Recipient:
    return Recipient(address, status="deferred", dsn="4.4.1", text=text, relay="none")


def test_the_listing_is_postfixs(spool, tools):
    queue_message(spool, "deferred", "042B920C2DA", "alice@example.org",
                  [deferred("bob@example.net"), deferred("carol@example.net"), deferred("dave@other.example.com")],
                  size=295)
    queue_message(spool, "deferred", "4jZvXJ2FkzzJ9DX", "", [deferred("bob@example.net")], size=304,
                  arrival=ARRIVAL + 62)
    queue_message(spool, "hold", "04A7920C064", "", [deferred("bob@example.net")], size=3312)
    result = tools("postqueue", "-p")
    assert (result.status, result.out, result.err) == (0, POSTFIX_LISTING, "")


def test_an_empty_queue(tools):
    assert tools("postqueue", "-p").out == "Mail queue is empty\n"


def test_queues_in_showq_order_with_active_marked_and_finished_recipients_left_out(spool, tools):
    queue_message(spool, "hold", "A1", "h@example.org", ["x@example.net"])
    queue_message(spool, "deferred", "A2", "d@example.org", ["x@example.net"])
    queue_message(spool, "incoming", "A3", "i@example.org", ["x@example.net"])
    queue_message(spool, "active", "A4", "a@example.org", [Recipient("sent@example.net", status="sent"),
                                                            "x@example.net"])
    queue_message(spool, "maildrop", "A5", "m@example.org", ["x@example.net"])
    out = tools("postqueue", "-p").out
    firsts = [line.split()[0] for line in out.splitlines() if line[:1].isalnum()]
    assert firsts == ["A5", "A4*", "A3", "A2", "A1!"]
    assert "sent@example.net" not in out
    assert out.endswith("\n-- 1 Kbytes in 5 Requests.\n")


def test_each_reason_once_and_reason_unavailable_for_recipients_without_one(spool, tools):
    queue_message(spool, "deferred", "B1", "s@example.org",
                  ["plain@example.net", deferred("a@example.net"), deferred("b@example.net"),
                   deferred("c@example.net", "host said: 451 try later")], size=1024)
    lines = tools("postqueue", "-p").out.splitlines()
    assert lines[1:9] == [
        "B1                    1024 Thu Nov 26 11:30:58 s@example.org",
        f"{' ' * (76 - len(REFUSED))}({REFUSED})",
        " " * 47 + "a@example.net",
        " " * 47 + "b@example.net",
        f"{' ' * 52}(host said: 451 try later)",
        " " * 47 + "c@example.net",
        f"{' ' * 58}(reason unavailable)",
        " " * 47 + "plain@example.net",
    ]
    assert lines[-1] == "-- 1 Kbytes in 1 Request."


@pytest.mark.parametrize("zone, arrival, shown", [
    ("UTC", 1_796_277_605, "Thu Dec  3 06:00:05"),
    ("Asia/Kolkata", ARRIVAL, "Thu Nov 26 17:00:58"),
    ("America/New_York", 1_796_277_605, "Thu Dec  3 01:00:05"),
])
def test_arrival_times_are_local_as_asctime_prints_them(spool, tools, local_zone, zone, arrival, shown):
    queue_message(spool, "deferred", "G1", "s@example.org", ["r@example.net"], size=1024, arrival=arrival)
    local_zone(zone)
    assert tools("postqueue", "-p").out.splitlines()[1] == f"G1                    1024 {shown} s@example.org"


def test_a_long_reason_is_not_padded_and_odd_characters_are_shown_as_question_marks(spool, tools):
    reason = "host mx.example.net[192.0.2.1] said: 450 4.2.0 <x@example.net>: Recipient address rejected: Greylisted"
    queue_message(spool, "deferred", "C1", "we\x01ird@example.org", [deferred('"john doe"@example.net', reason)])
    lines = tools("postqueue", "-p").out.splitlines()
    assert lines[1].endswith(" we?ird@example.org")
    assert lines[2] == f"({reason})"
    assert lines[3] == " " * 47 + '"john doe"@example.net'


def test_an_unreadable_file_is_reported_and_the_rest_listed(spool, tools):
    queue_message(spool, "deferred", "D1", "s@example.org", ["r@example.net"])
    (spool.root / "deferred" / "D0").write_bytes(b"garbage")
    result = tools("postqueue", "-p")
    assert "D1 " in result.out and "-- 0 Kbytes in 1 Request." in result.out
    assert result.err.startswith("postqueue: warning: D0: unreadable queue file: ")


def test_flush_makes_every_deferred_message_due_and_leaves_hold_alone(spool, tools):
    later = time.time() + 3600
    for qid in ("E1", "E2", "E3"):
        queue_message(spool, "incoming", qid, "s@example.org", ["r@example.net"])
    spool.move("E1", "incoming", "deferred", when=later)
    spool.move("E2", "incoming", "deferred", when=later)
    spool.move("E3", "incoming", "hold", when=later)
    result = tools("postqueue", "-f")
    assert (result.status, result.out, result.err) == (0, "", "")
    assert all(os.stat(spool.path("deferred", q)).st_mtime <= time.time() for q in ("E1", "E2"))
    assert os.stat(spool.path("hold", "E3")).st_mtime == later


def test_flush_one_message_sends_it_back_to_incoming(spool, tools):
    later = time.time() + 3600
    for qid in ("F1", "F2"):
        queue_message(spool, "incoming", qid, "s@example.org", ["r@example.net"])
        spool.move(qid, "incoming", "deferred", when=later)
    assert tools("postqueue", "-i", "F2").status == 0
    assert spool.ids("deferred") == ["F1"] and spool.ids("incoming") == ["F2"]
    assert tools("postqueue", "-i", "NOSUCHID").status == 0


def test_flush_site_sends_back_the_deferred_messages_with_a_recipient_left_at_that_site(spool):
    later = time.time() + 3600
    messages = {"S1": ["a@Relay.Example"], "S2": ["b@other.example"], "S3": [Recipient("c@relay.example", status="sent"),
                                                                        "d@other.example"],
                "S4": ["e@sub.relay.example", "f@RELAY.example"]}
    for qid, recipients in messages.items():
        queue_message(spool, "incoming", qid, "s@example.org", recipients)
        spool.move(qid, "incoming", "deferred", when=later)
    (spool.root / "deferred" / "S0").write_bytes(b"garbage")
    assert flush_site(spool, "relay.example") == 2
    assert spool.ids("incoming") == ["S1", "S4"] and spool.ids("deferred") == ["S0", "S2", "S3"]
    assert flush_site(spool, "nowhere.example") == 0


@pytest.fixture
def fake_qmgr(spool, tmp_path):
    """A process named filterd whose pid is in pid/qmgr.pid; it writes a file when it gets SIGUSR1."""
    flag = tmp_path / "flushed"
    code = ("import pathlib, signal, sys, time\n"
            f"signal.signal(signal.SIGUSR1, lambda *_: pathlib.Path({str(flag)!r}).write_text('yes'))\n"
            "print('ready', flush=True)\ntime.sleep(30)\n")
    process = subprocess.Popen([sys.executable, "-c", code, "filterd-qmgr"], stdout=subprocess.PIPE)
    process.stdout.readline()
    (spool.root / "pid" / "qmgr.pid").write_text(f"{process.pid:>10}\n")
    yield flag
    process.kill()
    process.wait()


def test_flush_wakes_the_queue_manager(spool, tools, fake_qmgr):
    assert tools("postqueue", "-f").status == 0
    deadline = time.monotonic() + 5
    while not fake_qmgr.exists() and time.monotonic() < deadline:
        time.sleep(0.01)
    assert fake_qmgr.read_text() == "yes"


def test_a_stale_pid_file_is_not_signalled(spool, tools):
    sleeper = subprocess.Popen(["sleep", "30"])
    (spool.root / "pid" / "qmgr.pid").write_text(f"{sleeper.pid:>10}\n")
    assert tools("postqueue", "-f").status == 0
    time.sleep(0.1)
    assert sleeper.poll() is None
    sleeper.kill()
    sleeper.wait()


def test_flush_refuses_a_queue_id_that_is_a_path(tools):
    result = tools("postqueue", "-i", "../deferred/x")
    assert result.status == 69
    assert result.err == 'postqueue: fatal: Cannot flush queue ID - invalid name: "../deferred/x"\n'
