"""A bounce names a redirected or rewritten recipient as Postfix's bounce daemon does (bounce_notify_util.c)."""

import time

from filterd.qmgr.bounce import compose
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
