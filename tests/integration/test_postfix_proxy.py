"""A real Postfix with smtpd_proxy_filter pointing at filterd, and a second Postfix smtpd behind it."""

from __future__ import annotations

import re
import smtplib

import pytest

from tests.harness import CLIENT, CLIENT_NAME, free_port

SENDER, RCPT = "alice@example.org", "bob@example.net"


@pytest.fixture
def layout(smtp_sink, postfix_factory, filterd_factory):
    """client -> Postfix smtpd (smtpd_proxy_filter) -> filterd -> Postfix reinjection smtpd -> smtp-sink."""
    filter_port = free_port()
    postfix = postfix_factory.before_queue_proxy(filter_port, smtp_sink.port)
    filterd = filterd_factory({"filterd_plugins": "tests.fixtures.plugins.reject_subject, tests.fixtures.plugins.tag",
                               "smtpd_authorized_xforward_hosts": "127.0.0.0/8"},
                              port=filter_port, nexthop_port=postfix.reinject_port)
    return postfix, filterd


def send(port: int, subject: str) -> dict:
    with smtplib.SMTP("127.0.0.1", port, local_hostname="client.example", timeout=60) as client:
        return client.sendmail(SENDER, [RCPT], f"Subject: {subject}\r\nMessage-ID: <{subject}@t>\r\n\r\nbody\r\n")


def test_accepted_mail_arrives_edited(layout, smtp_sink):
    postfix, filterd = layout
    send(postfix.port, "accepted")
    [dump] = smtp_sink.wait_for(1, timeout=30)
    assert b"X-Filterd-Tag: tagged; lines=1" in dump
    assert b"Subject: accepted" in dump
    postfix.wait_log(r"status=sent", timeout=30)
    assert f"client={CLIENT}" in filterd.log()


def test_in_session_reject_reaches_the_sending_client(layout, smtp_sink):
    postfix, filterd = layout
    with pytest.raises(smtplib.SMTPDataError) as refused:
        send(postfix.port, "REJECTME")
    assert refused.value.smtp_code == 550
    assert b"5.7.1 Subject refused by policy" in refused.value.smtp_error
    postfix.wait_log(r"proxy-reject: END-OF-MESSAGE", timeout=10)
    assert smtp_sink.received() == 0


def test_in_session_defer_reaches_the_sending_client(layout, smtp_sink):
    postfix, filterd = layout
    with pytest.raises(smtplib.SMTPDataError) as refused:
        send(postfix.port, "DEFERME")
    assert refused.value.smtp_code == 451
    assert smtp_sink.received() == 0


def test_xforward_is_taken_from_postfix_and_passed_to_the_reinjection_smtpd(layout, smtp_sink):
    postfix, filterd = layout
    send(postfix.port, "xforward")
    [dump] = smtp_sink.wait_for(1, timeout=30)
    assert f"Received: from client.example ({CLIENT_NAME} [127.0.0.1])\n\tby postfix.test (Postfix)".encode() in dump
    assert f"Received: from postfix.test ({CLIENT_NAME} [127.0.0.1])\n\tby filterd.test (filterd)".encode() in dump
    postfix.wait_log(re.escape(f"client={CLIENT}, orig_client={CLIENT}"), timeout=10)
