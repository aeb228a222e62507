"""postcat: envelope records, header and body of a queue file, with Postfix's section markers."""

from __future__ import annotations

from filterd.queue.queuefile import QueueEnvelope, Recipient
from tests.queue.tools.conftest import ARRIVAL

CONTENT = b"Received: from x\r\n\tby y\r\nSubject: hello\r\n\r\nfirst line\r\n\r\nlast line"


def store(spool, queue="deferred", content=CONTENT, **fields):
    recipients = [Recipient("bob@example.net", orcpt="rfc822;Bob@example.net", notify="SUCCESS,FAILURE",
                            status="deferred", dsn="4.4.1", text="connect to x: refused", relay="none"),
                  Recipient("carol@example.net", status="sent", dsn="2.0.0", text="250 Ok", relay="mx[1.2.3.4]:25")]
    envelope = QueueEnvelope("4jZvXJ2DrWzJ9DF", "alice@example.org", recipients, ARRIVAL, len(content), **fields)
    return spool.store(queue, envelope, iter([content]))


def test_the_whole_file(spool, tools):
    store(spool, client="localhost[127.0.0.1]", helo="client.example", protocol="ESMTP", body_type="8BITMIME",
          filter="smtp:[127.0.0.1]:10025", bcc=["archive@example.net"], ret="HDRS", envid="E1")
    result = tools("postcat", "-q", "4jZvXJ2DrWzJ9DF")
    assert result.status == 0
    assert result.out == """\
*** ENVELOPE RECORDS deferred/4jZvXJ2DrWzJ9DF ***
message_size: 66
message_arrival_time: Thu Nov 26 11:30:58 2026
named_attribute: log_ident=4jZvXJ2DrWzJ9DF
named_attribute: log_message_origin=localhost[127.0.0.1]
named_attribute: helo_name=client.example
named_attribute: protocol_name=ESMTP
named_attribute: body_type=8BITMIME
named_attribute: bcc=archive@example.net
content_filter: smtp:[127.0.0.1]:10025
dsn_ret_flags: HDRS
dsn_envelope_id: E1
sender: alice@example.org
named_attribute: dsn_orig_rcpt=rfc822;Bob@example.net
dsn_notify_flags: SUCCESS,FAILURE
recipient: bob@example.net
named_attribute: status=deferred, dsn=4.4.1, relay=none (connect to x: refused)
done_recipient: carol@example.net
named_attribute: status=sent, dsn=2.0.0, relay=mx[1.2.3.4]:25 (250 Ok)
*** MESSAGE CONTENTS deferred/4jZvXJ2DrWzJ9DF ***
Received: from x
\tby y
Subject: hello

first line

last line
*** HEADER EXTRACTED deferred/4jZvXJ2DrWzJ9DF ***
*** MESSAGE FILE END deferred/4jZvXJ2DrWzJ9DF ***
"""


def test_header_or_body_alone_come_without_markers(spool, tools):
    store(spool)
    assert tools("postcat", "-hq", "4jZvXJ2DrWzJ9DF").out == "Received: from x\n\tby y\nSubject: hello\n"
    assert tools("postcat", "-bq", "4jZvXJ2DrWzJ9DF").out == "\nfirst line\n\nlast line\n"


def test_the_envelope_alone_keeps_every_marker(spool, tools):
    store(spool, redirect="else@example.net", hold_reason="header X-Spam: yes")
    lines = tools("postcat", "-e", "-q", "4jZvXJ2DrWzJ9DF").out.splitlines()
    assert "redirect_to: else@example.net" in lines
    assert "named_attribute: hold_reason=header X-Spam: yes" in lines
    assert lines[-3:] == ["*** MESSAGE CONTENTS deferred/4jZvXJ2DrWzJ9DF ***",
                          "*** HEADER EXTRACTED deferred/4jZvXJ2DrWzJ9DF ***",
                          "*** MESSAGE FILE END deferred/4jZvXJ2DrWzJ9DF ***"]


def test_a_large_body_is_streamed_line_by_line(spool, tools):
    line = b"0123456789" * 1000 + b"\r\n"
    store(spool, content=b"Subject: big\r\n\r\n" + line * 20)
    assert tools("postcat", "-bq", "4jZvXJ2DrWzJ9DF").out == "\n" + (line[:-2].decode() + "\n") * 20


def test_a_file_named_on_the_command_line(spool, tools, tmp_path):
    path = store(spool, "hold")
    assert tools("postcat", str(path)).out.startswith(f"*** ENVELOPE RECORDS {path} ***\n")
    other = tmp_path / "not-a-queue-file"
    other.write_text("hello\n")
    result = tools("postcat", str(other))
    assert (result.status, result.err) == (0, f"postcat: warning: {other}: input is not a valid queue file\n")


def test_an_unknown_queue_id_is_fatal(tools):
    result = tools("postcat", "-q", "NOSUCH")
    assert (result.status, result.out) == (1, "")
    assert result.err == "postcat: fatal: open queue file NOSUCH: No such file or directory\n"
