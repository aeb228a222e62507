"""A real Postfix whose smtpd_recipient_restrictions ask filterd's policy listener (check_policy_service), relaying
to smtp-sink: the chain's verdicts reach the SMTP client as Postfix's replies, and Postfix's log says so."""

from __future__ import annotations

import re
import smtplib
from dataclasses import dataclass

import pytest

from tests.harness import CLIENT, FilterdProcess, Postfix, SmtpSink, free_port, wait_until

SENDER = "alice@example.org"
PLUGIN = "tests.fixtures.plugins.policy_decisions"


@dataclass
class Setup:
    """Client -> Postfix (check_policy_service = filterd) -> smtp-sink."""

    filterd: FilterdProcess
    postfix: Postfix
    sink: SmtpSink

    def send(self, *rcpts: str, sender: str = SENDER, helo: str = "client.example") -> dict:
        with smtplib.SMTP("127.0.0.1", self.postfix.port, local_hostname=helo, timeout=30) as client:
            return client.sendmail(sender, list(rcpts), f"From: {sender}\r\nSubject: policy\r\n\r\nhello\r\n")

    def held(self) -> list[str]:
        hold = self.postfix.directory / "queue" / "hold"
        return [path.name for path in hold.iterdir()] if hold.exists() else []


@pytest.fixture
def setup(smtp_sink, filterd_factory, postfix_factory) -> Setup:
    port = free_port()
    filterd = filterd_factory({"filterd_listeners": f"policy:127.0.0.1:{port}", "filterd_plugins": PLUGIN},
                              port=port)
    restrictions = f"check_policy_service inet:127.0.0.1:{port}"
    postfix = postfix_factory.relay(smtp_sink.port, {"smtpd_recipient_restrictions": restrictions})
    return Setup(filterd, postfix, smtp_sink)


def test_a_recipient_the_chain_lets_through_is_delivered(setup):
    assert setup.send("bob@example.net") == {}
    [dump] = (setup.sink.wait_for(1), setup.sink.dumps())[1]
    assert dump.recipients == ["bob@example.net"]


def test_a_refused_recipient_gets_postfix_s_reply_with_the_chain_s_text(setup):
    assert setup.send("bad@example.net", "bob@example.net") == {
        "bad@example.net": (550, b"5.1.1 <bad@example.net>: Recipient address rejected: No such user")}
    setup.postfix.wait_log(rf"NOQUEUE: reject: RCPT from {re.escape(CLIENT)}: 550 5\.1\.1 "
                           r"<bad@example\.net>: Recipient address rejected: No such user; from=<alice@example\.org> "
                           r"to=<bad@example\.net> proto=ESMTP helo=<client\.example>")
    [dump] = (setup.sink.wait_for(1), setup.sink.dumps())[1]
    assert dump.recipients == ["bob@example.net"]
    assert "NOQUEUE: reject: RCPT from " in setup.filterd.log()


def test_a_deferral_is_a_temporary_refusal(setup):
    with pytest.raises(smtplib.SMTPRecipientsRefused) as refused:
        setup.send("later@example.net")
    assert refused.value.recipients == {
        "later@example.net": (450, b"4.7.1 <later@example.net>: Recipient address rejected: Try again later")}


def test_a_refused_sender_is_reported_at_rcpt(setup):
    with pytest.raises(smtplib.SMTPRecipientsRefused) as refused:
        setup.send("bob@example.net", sender="spammer@example.org")
    assert refused.value.recipients == {
        "bob@example.net": (550, b"5.7.1 <bob@example.net>: Recipient address rejected: Sender refused by policy")}


def test_a_refused_helo_is_reported_at_rcpt(setup):
    with pytest.raises(smtplib.SMTPRecipientsRefused) as refused:
        setup.send("bob@example.net", helo="bad.helo.example")
    assert refused.value.recipients == {
        "bob@example.net": (550, b"5.7.1 <bob@example.net>: Recipient address rejected: Go away")}


def test_hold_puts_the_message_in_postfix_s_hold_queue(setup):
    assert setup.send("hold@example.net") == {}
    setup.postfix.wait_log(r"NOQUEUE: hold: RCPT from .*: <hold@example\.net>: Recipient address held by policy;")
    wait_until(setup.held, 10, "a message in the hold queue")
    assert setup.sink.received() == 0


def test_prepend_adds_the_header_to_the_delivered_message(setup):
    assert setup.send("tag@example.net") == {}
    [dump] = (setup.sink.wait_for(1), setup.sink.dumps())[1]
    assert b"\nX-Policy: tagged\n" in b"\n" + dump.content


def test_vrfy_and_etrn_are_answered_by_the_chain_s_vrfy_and_etrn_hooks(smtp_sink, filterd_factory, postfix_factory):
    port = free_port()
    filterd_factory({"filterd_listeners": f"policy:127.0.0.1:{port}", "filterd_plugins": PLUGIN}, port=port)
    policy = f"check_policy_service inet:127.0.0.1:{port}"
    postfix = postfix_factory.relay(smtp_sink.port, {
        "smtpd_recipient_restrictions": policy, "smtpd_etrn_restrictions": policy, "disable_vrfy_command": "no",
        "fast_flush_domains": "closed.example, open.example"})
    with smtplib.SMTP("127.0.0.1", postfix.port, local_hostname="client.example", timeout=30) as client:
        client.ehlo()
        assert client.verify("secret@example.net") == (
            550, b"5.1.1 <secret@example.net>: Recipient address rejected: Not to be verified")
        assert client.verify("bob@example.net")[0] == 252
        assert client.docmd("ETRN", "closed.example") == (
            450, b"4.7.1 <closed.example>: Etrn command rejected: No flush for you")
        assert client.docmd("ETRN", "open.example")[0] == 250
