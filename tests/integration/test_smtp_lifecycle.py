"""What a final verdict refuses at each SMTP command, through a real client, filterd's proxy and smtp-sink."""

from __future__ import annotations

import smtplib

import pytest

from tests.harness import CLIENT

MESSAGE = "From: alice@example.org\r\nSubject: hello\r\n\r\nbody\r\n"


@pytest.fixture
def proxy(smtp_sink, filterd_factory):
    return filterd_factory({"filterd_plugins": "tests.fixtures.plugins.refuse_recipients"}, nexthop_port=smtp_sink.port)


def send(port: int, sender: str, recipients: list[str]) -> tuple[dict, tuple[int, bytes]]:
    with smtplib.SMTP("127.0.0.1", port, timeout=30) as client:
        refused = client.sendmail(sender, recipients, MESSAGE)
        return refused, client.noop()


def test_a_refused_recipient_refuses_only_itself_and_the_others_get_the_message(proxy, smtp_sink):
    refused, _ = send(proxy.port, "alice@example.org", ["bad@example.net", "bob@example.net"])
    assert refused == {"bad@example.net": (550, b"5.1.1 <bad@example.net>: Recipient address rejected: No such user")}
    [dump] = smtp_sink.dumps()
    assert dump.recipients == ["bob@example.net"]
    assert f"reject: RCPT from {CLIENT}: 550 5.1.1 <bad@example.net>" in proxy.log()


def test_discard_at_rcpt_accepts_the_recipient_and_drops_the_message(proxy, smtp_sink):
    refused, _ = send(proxy.port, "alice@example.org", ["drop@example.net", "bob@example.net"])
    assert refused == {} and smtp_sink.dumps() == []
    assert f"discard: RCPT from {CLIENT}" in proxy.log()


def test_discard_at_mail_accepts_the_transaction_and_drops_the_message(proxy, smtp_sink):
    refused, noop = send(proxy.port, "discard@example.org", ["bob@example.net"])
    assert refused == {} and noop[0] == 250 and smtp_sink.dumps() == []
