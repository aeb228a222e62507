"""Bounces and delay notices as Postfix's bounce daemon writes them (bounce_notify_util.c), with bytes alone."""

import time

from filterd.maildate import mail_date
from filterd.qmgr.bounce import compose, delay_notice, line_wrap
from filterd.queue.queuefile import QueueEnvelope, QueueFile, Recipient
from filterd.queue.spool import Spool


def bounce_of(tmp_path, *recipients: Recipient) -> bytes:
    envelope = QueueEnvelope("4ABCDEFGHIzJ", "alice@example.org", list(recipients), arrival=time.time(), size=15)
    qf = QueueFile.read(str(Spool(tmp_path).create().store("active", envelope, iter([b"Subject: hi\r\n\r\n"]))))
    for rcpt in qf.envelope.recipients:
        rcpt.status, rcpt.dsn, rcpt.text = "bounced", "5.1.1", "host mx[192.0.2.1] said: 550 5.1.1 no"
    return compose(qf, qf.envelope.recipients, "mx.example.org")[1]


def test_a_redirected_recipient_is_expanded_from_the_original_which_is_its_original_recipient(tmp_path):
    content = bounce_of(tmp_path, Recipient("new@example.net", orig="bob@example.com"))
    assert b"\r\n<new@example.net> (expanded from <bob@example.com>): host mx[192.0.2.1] said" in content
    assert b"\r\nFinal-Recipient: rfc822; new@example.net\r\nOriginal-Recipient: rfc822; bob@example.com\r\n" in content


def test_the_dsn_orcpt_comes_before_the_original_address(tmp_path):
    content = bounce_of(tmp_path, Recipient("new@example.net", orcpt="rfc822;b@example.com", orig="bob@example.com"))
    assert b"\r\nOriginal-Recipient: rfc822;b@example.com\r\n" in content


def test_a_recipient_delivered_as_received_is_named_alone(tmp_path):
    content = bounce_of(tmp_path, Recipient("bob@example.com"))
    assert b"\r\n<bob@example.com>: host" in content and b"Original-Recipient" not in content


def test_long_lines_are_wrapped_as_postfix_s_line_wrap_wraps_them():
    text = "<bob@bounce.example>: host 127.0.0.1[127.0.0.1] said: 500 5.3.0 Error: command failed (in reply to RCPT TO " \
           "command)"
    assert line_wrap(text) == ["<bob@bounce.example>: host 127.0.0.1[127.0.0.1] said: 500 5.3.0 Error: command",
                               "    failed (in reply to RCPT TO command)"]
    assert line_wrap("short") == ["short"]
    assert line_wrap("x" * 100 + " y") == ["x" * 100, "    y"]
    assert line_wrap(" ".join(["word"] * 40)) == [" ".join(["word"] * 16), "    " + " ".join(["word"] * 15),
                                                  "    " + " ".join(["word"] * 9)]


def test_a_delay_notice_names_whole_hours_and_days_and_when_the_retries_end(tmp_path):
    envelope = QueueEnvelope("4ABCDEFGHIzJ", "alice@example.org", [Recipient("bob@example.com")], arrival=0.0,
                             size=19)
    qf = QueueFile.read(str(Spool(tmp_path).create().store("active", envelope, iter([b"Subject: hi\r\n\r\nbody"]))))
    qf.envelope.recipients[0].status, qf.envelope.recipients[0].dsn = "deferred", "4.4.1"
    qf.envelope.recipients[0].text = "connect to mx[192.0.2.1]:25: Connection refused"
    content = compose(qf, qf.envelope.recipients, "mx.example.org", delay_notice(5400, 5 * 86400), 5 * 86400)[1]
    assert b"for more than 1 hour(s).\r\nIt will be retried until it is 5 day(s) old." in content
    assert b"\r\nAction: delayed\r\nStatus: 4.4.1\r\n" in content
    assert b"\r\nWill-Retry-Until: " + mail_date(5 * 86400).encode() + b"\r\n" in content
    assert b"Content-Description: Undelivered Message Headers\r\n" in content and b"body" not in content
