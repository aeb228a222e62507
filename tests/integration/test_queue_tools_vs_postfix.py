"""filterd's queue tools against Postfix's own, on a Postfix queue and a filterd spool holding the same messages.

Postfix relays to a closed port, so every message defers. Postfix is then stopped (its tools read the queue
directly), arrival times are moved back in its queue files (the T record, same number of digits) and some
messages are put on hold with Postfix's postsuper. `postqueue -j` describes every message, and a filterd
spool is built from that description with the same queue ids, queues, senders, recipients, sizes, arrival
times and deferral reasons. The outputs must then be equal byte for byte, with two normalisations: showq
lists one queue in directory order and filterd in queue-id order, so the blocks of one queue are compared
sorted; Perl's qshape prints rows with equal totals and equal name lengths in hash order, so such rows are
compared sorted. For sendmail, dates in Postfix's form (which the placeholder's pattern pins) and queue ids
are replaced by placeholders, as the two submissions differ in both.
"""

from __future__ import annotations

import itertools
import json
import re
import smtplib
import subprocess
import sys
from pathlib import Path

import pytest

from filterd.queue.queuefile import QueueEnvelope, Recipient
from filterd.queue.spool import Spool
from tests.harness import free_port, wait_until
from tests.integration.test_relay import relay_factory, send  # noqa: F401  (a fixture)
from tests.queue.tools.conftest import content_of_size

HOUR, DAY = 3600, 86400
# sender, recipients, body bytes, age: ages fill qshape's buckets, clear of their edges.
MESSAGES = [
    ("alice@example.org", [f"u{n}@{sub}.example.net" for n, sub in enumerate("abcde")], 300, 0),
    ("", ["bob@example.net"], 1500, 7 * 60),
    ("Carol@Example.ORG", ["x@example.net", "y@example.net", "z@mail.example.com"], 5000, 25 * 60),
    ("a-very-long-sender-address-for-testing@some.long.domain.example.org", ["r@other.example.com"], 800, 3 * HOUR),
    ("dave@example.com", ['"john doe"@example.net', "w@mail.example.com"], 200, 2 * DAY),
    ("erin@sub.example.com", ["v@example.net"], 20000, 12 * DAY),
]
HELD = ("", "dave@example.com")
SLOW_QUEUE = {"queue_run_delay": "3600s", "minimal_backoff_time": "3600s", "maximal_backoff_time": "7200s",
              "enable_long_queue_ids": "yes"}


def run(*argv: str, stdin: bytes | None = None) -> subprocess.CompletedProcess[str]:
    result = subprocess.run(argv, input=stdin, capture_output=True, timeout=60)
    return subprocess.CompletedProcess(argv, result.returncode, result.stdout.decode(), result.stderr.decode())


def filterd(main_cf: Path, *argv: str, stdin: bytes | None = None) -> subprocess.CompletedProcess[str]:
    return run(sys.executable, "-m", "filterd", "-c", str(main_cf), *argv, stdin=stdin)


def records(data: bytes):
    """(type, data offset, length) of each record of a Postfix queue file."""
    offset = 0
    while offset < len(data):
        kind, offset, length, shift = data[offset], offset + 1, 0, 0
        while True:
            byte, offset = data[offset], offset + 1
            length, shift = length | (byte & 0x7F) << shift, shift + 7
            if not byte & 0x80:
                break
        yield chr(kind), offset, length
        offset += length


def backdate(path: Path, seconds: int) -> None:
    """Move a Postfix queue file's arrival time back, keeping the T record's length."""
    data = bytearray(path.read_bytes())
    _, offset, _ = next(r for r in records(bytes(data)) if r[0] == "T")
    old = bytes(data[offset:offset + 10])
    new = str(int(old) - seconds).encode()
    assert len(new) == len(old)
    data[offset:offset + 10] = new
    path.write_bytes(bytes(data))


def postqueue_json(postfix) -> list[dict]:
    out = run("postqueue", "-c", str(postfix.config_dir), "-j").stdout
    return [json.loads(line) for line in out.splitlines()]


def send_all(port: int) -> None:
    with smtplib.SMTP("127.0.0.1", port, timeout=30) as client:
        for number, (sender, recipients, size, _) in enumerate(MESSAGES):
            body = content_of_size(size, f"message {number}").decode()
            client.sendmail(sender, recipients, body)


def build_postfix_queue(postfix) -> None:
    """Every message deferred, Postfix stopped, arrival times moved back, some messages on hold.

    With Postfix stopped its commands write the maillog themselves, as the postfix user: they get a
    log file in the postfix-owned data directory.
    """
    send_all(postfix.port)
    postfix.wait_log("status=deferred", sum(len(m[1]) for m in MESSAGES), timeout=30)
    postfix.stop()
    postfix.postconf("-e", f"maillog_file = {postfix.directory / 'data' / 'tools.log'}")
    ids = {("" if m["sender"] == "MAILER-DAEMON" else m["sender"]): m["queue_id"] for m in postqueue_json(postfix)}
    for sender, _, _, age in MESSAGES:
        [path] = (postfix.directory / "queue" / "deferred").rglob(ids[sender])
        backdate(path, age)
    for sender in HELD:
        run("postsuper", "-c", str(postfix.config_dir), "-h", ids[sender])


def build_filterd_spool(postfix, root: Path) -> Path:
    """A filterd spool and main.cf holding what `postqueue -j` says the Postfix queue holds."""
    spool = Spool(root / "queue").create()
    for message in postqueue_json(postfix):
        recipients = [Recipient(r["address"], status="deferred", dsn="4.4.1", text=r["delay_reason"], relay="none")
                      for r in message["recipients"]]
        sender = "" if message["sender"] == "MAILER-DAEMON" else message["sender"]
        envelope = QueueEnvelope(message["queue_id"], sender, recipients, message["arrival_time"],
                                 message["message_size"])
        spool.store(message["queue_name"], envelope, iter([content_of_size(message["message_size"])]))
    main_cf = root / "main.cf"
    main_cf.write_text(f"queue_directory = {spool.root}\nmaillog_file = {root / 'maillog'}\n"
                       "myhostname = postfix.test\nmail_name = Postfix\n")
    return main_cf


@pytest.fixture
def twins(postfix_factory, mta_dir):
    """(Postfix, filterd's main.cf): a stopped Postfix queue and a filterd spool with the same messages."""
    postfix = postfix_factory.relay(free_port(), SLOW_QUEUE)
    build_postfix_queue(postfix)
    return postfix, build_filterd_spool(postfix, mta_dir / "filterd")


def mark(block: str) -> str:
    return block.split()[0][-1] if block.split()[0][-1] in "*!" else " "


def sorted_within_queues(listing: str) -> list[str]:
    """The listing's blocks, sorted within each run of one queue's mark, the runs kept in order."""
    head, _, rest = listing.partition("\n")
    blocks = rest.split("\n\n")
    runs = itertools.groupby(blocks[:-1], key=mark)
    return [head] + [b for _, run_ in runs for b in sorted(run_)] + blocks[-1:]


def sorted_ties(table: str) -> list[str]:
    """qshape's rows, those with equal totals and name lengths sorted among themselves."""
    head, *rows = table.splitlines()
    runs = itertools.groupby(rows, key=lambda row: (row.split()[1], len(row.split()[0])))
    return [head] + [row for _, run_ in runs for row in sorted(run_)]


def postfix_mailq(postfix) -> str:
    return run("postqueue", "-c", str(postfix.config_dir), "-p").stdout


QSHAPE_OPTIONS = [[], ["-s"], ["-p", "-m", "2"], ["-p", "-m", "3"], ["-b", "4", "-t", "10"],
                  ["-l", "-b", "6", "-t", "60"], ["-w", "100", "-s", "-p", "-m", "1"]]


def test_mailq_and_qshape_print_what_postfixs_print(twins):
    postfix, main_cf = twins
    theirs, ours = postfix_mailq(postfix), filterd(main_cf, "postqueue", "-p")
    assert (ours.returncode, ours.stderr) == (0, "")
    assert theirs.count("!") == 2 and "Kbytes in 6 Requests." in theirs
    assert sorted_within_queues(ours.stdout) == sorted_within_queues(theirs)
    for options in QSHAPE_OPTIONS:
        theirs = run("qshape", "-c", str(postfix.config_dir), *options, "deferred", "hold").stdout
        ours = filterd(main_cf, "qshape", *options, "deferred", "hold").stdout
        assert len(theirs.splitlines()) > 5
        assert sorted_ties(ours) == sorted_ties(theirs), options
    theirs = run("qshape", "-c", str(postfix.config_dir)).stdout
    assert theirs.splitlines()[1].split()[:2] == ["TOTAL", "0"]
    assert filterd(main_cf, "qshape").stdout == theirs


def test_postsuper_says_and_does_the_same(twins):
    postfix, main_cf = twins
    ids = {m["sender"]: m["queue_id"] for m in postqueue_json(postfix)}
    steps = [["-h", ids["alice@example.org"]], ["-H", ids["MAILER-DAEMON"]], ["-d", ids["erin@sub.example.com"]],
             ["-r", ids["Carol@Example.ORG"], "-d", "NOSUCHID", "-h", "bad/id"], ["-d", "ALL", "hold"]]
    for step in steps:
        theirs = run("postsuper", "-c", str(postfix.config_dir), *step)
        ours = filterd(main_cf, "postsuper", *step)
        assert (ours.returncode, ours.stderr) == (theirs.returncode, theirs.stderr), step
        assert sorted_within_queues(filterd(main_cf, "postqueue", "-p").stdout) == \
            sorted_within_queues(postfix_mailq(postfix)), step
    assert postfix_mailq(postfix).startswith("----Queue ID-----")
    run("postsuper", "-c", str(postfix.config_dir), "-d", "ALL")
    filterd(main_cf, "postsuper", "-d", "ALL")
    assert filterd(main_cf, "postqueue", "-p").stdout == postfix_mailq(postfix) == "Mail queue is empty\n"


# Postfix's mail_date(): the day of the month is padded with a space (`Thu,  3 Dec`), a zone name follows.
MAIL_DATE = re.compile(r"(Mon|Tue|Wed|Thu|Fri|Sat|Sun), [ 123]\d (Jan|Feb|Mar|Apr|May|Jun|Jul|Aug|Sep|Oct|Nov|Dec) "
                       r"\d{4} \d\d:\d\d:\d\d [+-]\d{4} \([\w+-]+\)")


def normalised(header: str) -> str:
    header = re.sub(r"\b[0-9A-Za-z]{10,}z[0-9A-Za-z]+\b", "QUEUEID", header)
    return MAIL_DATE.sub("DATE", header)


def test_sendmail_adds_and_drops_the_headers_postfixs_sendmail_does(postfix_factory, mta_dir):
    postfix = postfix_factory.relay(free_port(), SLOW_QUEUE)
    main_cf = mta_dir / "filterd" / "main.cf"
    Spool(main_cf.parent / "queue").create()
    main_cf.write_text(f"queue_directory = {main_cf.parent / 'queue'}\n"
                       "myhostname = postfix.test\nmail_name = Postfix\n")
    message = (b"Subject: local\nTo: Someone <a@example.net>\nCc: carol, Dave <dave> (friend)\n"
               b"Bcc: hidden@example.net\n\nbody\n.\nafter the dot\n")
    argv = ["-f", "alice", "-F", "Alice Example", "-t", "-oi", "extra"]
    assert run("sendmail", "-C", str(postfix.config_dir), *argv, stdin=message).returncode == 0
    assert filterd(main_cf, "sendmail", *argv, stdin=message).returncode == 0
    [theirs] = postfix.wait_log(r": from=<alice@postfix.test>, size=\d+, nrcpt=5 \(queue active\)")
    queue_id = theirs.split(": ")[1]
    [our_id] = Spool(main_cf.parent / "queue").ids("maildrop")
    their_header = run("postcat", "-c", str(postfix.config_dir), "-hq", queue_id).stdout
    assert normalised(filterd(main_cf, "postcat", "-hq", our_id).stdout) == normalised(their_header)
    assert filterd(main_cf, "postcat", "-bq", our_id).stdout == \
        run("postcat", "-c", str(postfix.config_dir), "-bq", queue_id).stdout == "\nbody\n.\nafter the dot\n"
    recipients = run("postcat", "-c", str(postfix.config_dir), "-eq", queue_id).stdout
    ours = filterd(main_cf, "postcat", "-eq", our_id).stdout
    assert [line for line in ours.splitlines() if line.startswith(("sender:", "recipient:"))] == \
        [line for line in recipients.splitlines() if line.startswith(("sender:", "recipient:"))]


# --- The same tools on a running filterd relay --------------------------------------------------------------


def deferred_ids(relay) -> list[str]:
    return Spool(relay.directory / "queue").ids("deferred")


def test_hold_delete_requeue_release_and_flush_on_a_running_relay(relay_factory, smtp_sink_factory):
    port = free_port()
    relay = relay_factory(port, minimal_backoff_time="60s", maximal_backoff_time="60s")
    for subject in ("first", "second", "third"):
        send(relay.port, "alice@example.org", ["bob@example.net"], subject)
    first, second, third = wait_until(lambda: len(deferred_ids(relay)) == 3 and deferred_ids(relay), 15, "deferrals")
    listing = filterd(relay.config_path, "postqueue", "-p").stdout
    assert listing.count(f"(connect to 127.0.0.1[127.0.0.1]:{port}: Connection refused)") == 3
    assert filterd(relay.config_path, "postsuper", "-h", first, "-d", second).stderr == \
        f"postsuper: {second}: removed\npostsuper: {first}: placed on hold\n" \
        "postsuper: Deleted: 1 message\npostsuper: Placed on hold: 1 message\n"
    filterd(relay.config_path, "postsuper", "-r", third)
    wait_until(lambda: f"{third}: uid=" in relay.log() and deferred_ids(relay) == [third], 15, "pickup")
    assert f"{first}! " in filterd(relay.config_path, "postqueue", "-p").stdout
    sink = smtp_sink_factory(port)
    filterd(relay.config_path, "postsuper", "-H", first)
    assert filterd(relay.config_path, "postqueue", "-f").returncode == 0
    subjects = {line for dump in sink.wait_for(2, timeout=15) for line in dump.splitlines() if b"Subject:" in line}
    assert subjects == {b"Subject: first", b"Subject: third"}
    wait_until(lambda: f"{first}: removed" in relay.log() and f"{third}: removed" in relay.log(), 10, "removal")


def test_sendmail_through_a_running_relay(relay_factory, smtp_sink):
    relay = relay_factory(smtp_sink.port)
    result = filterd(relay.config_path, "sendmail", "-f", "alice@example.org", "bob@example.net",
                     stdin=b"Subject: submitted\n\nhello\n")
    assert result.returncode == 0, result.stderr
    smtp_sink.wait_for(1)
    [dump] = smtp_sink.dumps()
    assert dump.sender == "alice@example.org" and dump.recipients == ["bob@example.net"]
    assert re.search(rb"Received: by filterd\.test \(filterd, from userid \d+\)\n\tid \w+; ", dump.content)
    assert b"\nFrom: " in dump.content and b"\nMessage-Id: <" in dump.content
    assert re.search(r"filterd/pickup\[\d+\]: \w+: uid=\d+ from=<alice@example.org>", relay.log())


def recipient_lines(listing: str) -> list[str]:
    """A one-message mailq listing's reason and recipient lines (the queue id, size and date differ)."""
    return listing.split("\n\n")[0].splitlines()[2:]


def test_a_redirected_message_deferred_is_listed_as_postfix_lists_it(postfix_factory, relay_factory, tmp_path):
    """The queue file keeps the recipients the client gave; the redirect target's deferral is listed first with its
    reason (Postfix's defer log), then the recipients of the file, whose reason is unavailable."""
    closed = free_port()
    checks = tmp_path / "header_checks"
    checks.write_text("/^Subject: redirect-me/ REDIRECT new@example.net\n")
    postfix = postfix_factory.relay(closed, {**SLOW_QUEUE, "header_checks": f"regexp:{checks}"})
    relay = relay_factory(closed, filterd_plugins="header_checks", header_checks=f"regexp:{checks}",
                          minimal_backoff_time="3600s",
                          maximal_backoff_time="7200s")
    for port in (postfix.port, relay.port):
        send(port, "alice@example.org", ["zed@b.example.org", "carol@a.example.org"], "redirect-me")
    postfix.wait_log("status=deferred", 1, timeout=30)
    wait_until(lambda: deferred_ids(relay), 30, "filterd's deferral")
    theirs = recipient_lines(postfix_mailq(postfix))
    assert recipient_lines(filterd(relay.config_path, "postqueue", "-p").stdout) == theirs
    assert [line.strip() for line in theirs] == [
        f"(connect to 127.0.0.1[127.0.0.1]:{closed}: Connection refused)", "new@example.net", "(reason unavailable)",
        "zed@b.example.org", "carol@a.example.org"]


def test_a_local_submission_gets_cleanup_s_envelope_at_pickup(relay_factory, smtp_sink):
    """Canonical maps, virtual aliases and an automatic BCC on a message from sendmail, as Postfix's pickup hands
    it to cleanup; each expanded recipient delivered with the original as orig_to=."""
    relay = relay_factory(smtp_sink.port, sender_canonical_maps="inline:{ alice@example.org=a.smith@example.org }",
                          virtual_alias_maps="inline:{ { team@example.net = bob@example.net, carol@example.net } }",
                          recipient_bcc_maps="inline:{ carol@example.net=copy@example.net }")
    result = filterd(relay.config_path, "sendmail", "-f", "alice@example.org", "team@example.net",
                     stdin=b"Subject: submitted\n\nhello\n")
    assert result.returncode == 0, result.stderr
    smtp_sink.wait_for(1)
    [dump] = smtp_sink.dumps()
    assert dump.sender == "a.smith@example.org"
    assert sorted(dump.recipients) == ["bob@example.net", "carol@example.net"]
    wait_until(lambda: relay.log().count("status=sent") == 2, 10, "both deliveries logged")
    assert "to=<carol@example.net>, orig_to=<team@example.net>" in relay.log()
