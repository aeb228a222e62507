"""Relay mode: 250 only after the queue file is durable, then delivery with retries, bounces, Maildirs."""

from __future__ import annotations

import email
import re
import smtplib
import time
from pathlib import Path

import pytest

from tests.harness import free_port, wait_until

FAST_QUEUE = {"queue_run_delay": "1s", "minimal_backoff_time": "1s", "maximal_backoff_time": "2s",
              "smtp_dns_support_level": "disabled", "mydestination": "localhost, filterd.test",
              "smtpd_error_sleep_time": "0"}


@pytest.fixture
def relay_factory(filterd_factory):
    def start(relay_port: int | None = None, **settings: str):
        port = free_port()
        merged = {**FAST_QUEUE, "filterd_listeners": f"relay:127.0.0.1:{port}", **settings}
        if relay_port:
            merged["relayhost"] = f"[127.0.0.1]:{relay_port}"
        return filterd_factory(merged, port=port)
    return start


def send(port: int, sender: str, recipients: list[str], subject: str = "relay test") -> dict:
    body = f"From: {sender}\r\nSubject: {subject}\r\nMessage-ID: <{subject.replace(' ', '.')}@test>\r\n\r\nhello\r\n"
    with smtplib.SMTP("127.0.0.1", port, timeout=30) as client:
        return client.sendmail(sender, recipients, body)


def spool(relay) -> Path:
    return relay.directory / "queue"


def maildir_messages(relay, user: str) -> list[email.message.Message]:
    new = spool(relay) / "mailboxes" / user / "Maildir" / "new"
    return [email.message_from_bytes(p.read_bytes()) for p in sorted(new.iterdir())] if new.exists() else []


def test_relay_to_smtp_sink(relay_factory, smtp_sink):
    relay = relay_factory(smtp_sink.port)
    send(relay.port, "alice@example.org", ["bob@example.net", "carol@example.net"])
    [dump] = smtp_sink.wait_for(1)
    assert b"Subject: relay test" in dump
    wait_until(lambda: ": removed" in relay.log(), 30, "the queue file removed")
    log = relay.log()
    assert "from=<alice@example.org>, size=" in log and "nrcpt=2 (queue active)" in log
    assert f"to=<bob@example.net>, relay=127.0.0.1[127.0.0.1]:{smtp_sink.port}, delay=" in log
    assert "dsn=2.0.0, status=sent (250 2.0.0 Ok)" in log
    assert smtp_sink.dumps()[0].recipients == ["bob@example.net", "carol@example.net"]


def test_local_recipients_get_a_maildir(relay_factory):
    relay = relay_factory()
    send(relay.port, "alice@example.org", ["someone@localhost"])
    wait_until(lambda: maildir_messages(relay, "someone"), 30, "the Maildir delivery")
    [message] = maildir_messages(relay, "someone")
    assert message["Return-Path"] == "<alice@example.org>"
    assert message["Delivered-To"] == "someone@localhost"
    wait_until(lambda: "status=sent (delivered to maildir)" in relay.log(), 10, "the delivery logged")


def test_virtual_mailbox_domains_are_delivered_by_the_virtual_transport(relay_factory):
    """virtual_mailbox_maps under virtual_mailbox_base; a virtual alias to one, the extension given back."""
    relay = relay_factory(virtual_mailbox_domains="box.example", virtual_mailbox_base="$queue_directory/vmail",
                          virtual_mailbox_maps="inline:{ user@box.example=box.example/user/ }",
                          virtual_alias_maps="inline:{ team@box.example=user@box.example }", recipient_delimiter="+")
    send(relay.port, "alice@example.org", ["team+news@box.example"])
    new = spool(relay) / "vmail" / "box.example" / "user" / "new"
    wait_until(lambda: new.exists() and list(new.iterdir()), 30, "the virtual delivery")
    [path] = new.iterdir()
    assert email.message_from_bytes(path.read_bytes())["Delivered-To"] == "user+news@box.example"
    wait_until(lambda: "status=sent (delivered to maildir)" in relay.log(), 10, "the delivery logged")
    assert "to=<user+news@box.example>, orig_to=<team+news@box.example>, relay=virtual, delay=" in relay.log()


def test_a_dead_next_hop_defers_and_delivery_follows_when_it_returns(relay_factory, smtp_sink_factory):
    port = free_port()
    relay = relay_factory(port)
    send(relay.port, "alice@example.org", ["bob@example.net"])
    wait_until(lambda: "status=deferred (connect to 127.0.0.1[127.0.0.1]:" in relay.log(), 30, "a deferral")
    wait_until(lambda: list((spool(relay) / "deferred").iterdir()), 10, "the deferred queue file")
    sink = smtp_sink_factory(port)
    sink.wait_for(1, timeout=30)
    wait_until(lambda: ": removed" in relay.log(), 30, "the queue file removed")
    assert not list((spool(relay) / "deferred").iterdir())


def test_a_5xx_bounces_to_the_senders_maildir(relay_factory, smtp_sink_factory):
    sink = smtp_sink_factory(hard_reject=["RCPT"])
    relay = relay_factory(sink.port)
    send(relay.port, "alice@localhost", ["bob@example.net"], "will bounce")
    wait_until(lambda: maildir_messages(relay, "alice"), 30, "the bounce in alice's Maildir")
    [dsn] = maildir_messages(relay, "alice")
    assert dsn["Subject"] == "Undelivered Mail Returned to Sender"
    assert dsn.get_content_type() == "multipart/report"
    parts = [part.get_content_type() for part in dsn.walk()]
    assert "message/delivery-status" in parts and "message/rfc822" in parts  # returned whole, as Postfix does
    assert b"Subject: will bounce" in dsn.as_bytes()
    assert "status=bounced (host 127.0.0.1[127.0.0.1] said: 500 5.3.0 Error: command failed" in relay.log()
    assert "sender non-delivery notification:" in relay.log()


def test_mail_from_the_null_sender_never_bounces_again(relay_factory, smtp_sink_factory):
    sink = smtp_sink_factory(hard_reject=["RCPT"])
    relay = relay_factory(sink.port)
    send(relay.port, "", ["bob@example.net"])
    wait_until(lambda: "status=bounced" in relay.log(), 30, "the bounce")
    wait_until(lambda: ": removed" in relay.log(), 30, "removal")
    assert "sender non-delivery notification" not in relay.log()


def test_not_an_open_relay(relay_factory, smtp_sink):
    relay = relay_factory(smtp_sink.port, mynetworks="192.0.2.0/24")
    with smtplib.SMTP("127.0.0.1", relay.port, timeout=30) as client:
        client.ehlo()
        client.mail("alice@example.org")
        assert client.rcpt("bob@example.net") == (454, b"4.7.1 <bob@example.net>: Relay access denied")
        assert client.rcpt("postmaster@localhost")[0] == 250


def test_hold_goes_to_the_hold_queue(relay_factory, smtp_sink):
    relay = relay_factory(smtp_sink.port, filterd_plugins="tests.fixtures.plugins.reroute")
    send(relay.port, "alice@example.org", ["bob@example.net"], "HOLDME")
    held = list((spool(relay) / "hold").iterdir())
    assert len(held) == 1
    time.sleep(0.5)
    assert smtp_sink.received() == 0


def test_messages_in_active_at_start_are_delivered(relay_factory, smtp_sink):
    relay = relay_factory(smtp_sink.port)
    relay.stop()
    from filterd.queue.queuefile import QueueEnvelope, Recipient
    from filterd.queue.spool import Spool

    content = b"Subject: left in active\r\n\r\nx\r\n"
    envelope = QueueEnvelope("4RESTARTzA", "alice@example.org", [Recipient("bob@example.net")], time.time(),
                             size=len(content))
    Spool(spool(relay)).create().store("active", envelope, iter([content]))
    relay.start()
    [dump] = smtp_sink.wait_for(1)
    assert b"left in active" in dump


def test_a_corrupt_queue_file_goes_to_corrupt(relay_factory):
    relay = relay_factory()
    tmp = relay.directory / "4CORRUPTzB"
    tmp.write_bytes(b"not a queue file")
    tmp.rename(spool(relay) / "incoming" / "4CORRUPTzB")
    wait_until(lambda: (spool(relay) / "corrupt" / "4CORRUPTzB").exists(), 30, "the corrupt queue")
    assert "4CORRUPTzB: corrupt queue file moved to the corrupt queue" in relay.log()


def test_after_maximal_queue_lifetime_the_sender_gets_a_dsn(relay_factory):
    relay = relay_factory(free_port(), maximal_queue_lifetime="2s")
    send(relay.port, "alice@localhost", ["bob@example.net"], "never arrives")
    wait_until(lambda: maildir_messages(relay, "alice"), 20, "the expiry notice in alice's Maildir")
    assert re.search(r"\w+: from=<alice@localhost>, status=expired, returned to sender", relay.log())
    [dsn] = maildir_messages(relay, "alice")
    assert "Status: 4.4.1" in dsn.as_string()


def test_fallback_relay_takes_what_the_relayhost_cannot(relay_factory, smtp_sink):
    relay = relay_factory(free_port(), fallback_relay=f"[127.0.0.1]:{smtp_sink.port}")
    send(relay.port, "alice@example.org", ["bob@example.net"])
    [dump] = smtp_sink.wait_for(1)
    wait_until(lambda: f"relay=127.0.0.1[127.0.0.1]:{smtp_sink.port}" in relay.log(), 10, "the delivery logged")


def test_connections_to_the_next_hop_are_reused(relay_factory, smtp_sink):
    relay = relay_factory(smtp_sink.port, default_destination_concurrency_limit="1")
    with smtplib.SMTP("127.0.0.1", relay.port, timeout=30) as client:
        for n in range(10):
            client.sendmail("a@example.org", ["b@example.net"], f"Subject: {n}\r\n\r\nx\r\n")
    smtp_sink.wait_for(10)
    sessions, _, messages = smtp_sink.counters()
    assert messages == 10 and sessions < 10


def test_relay_to_a_real_postfix(relay_factory, smtp_sink, postfix_factory):
    postfix = postfix_factory.relay(smtp_sink.port)
    relay = relay_factory(postfix.port)
    send(relay.port, "alice@example.org", ["bob@example.net"], "through postfix")
    [dump] = smtp_sink.wait_for(1, timeout=30)
    assert b"Subject: through postfix" in dump
    postfix.wait_log(r"status=sent", timeout=30)
    wait_until(lambda: f"relay=127.0.0.1[127.0.0.1]:{postfix.port}, delay=" in relay.log(), 10, "the delivery logged")


def test_sigusr1_to_the_qmgr_flushes_the_deferred_queue(relay_factory, smtp_sink_factory):
    import os
    import signal

    from filterd.queue.spool import Spool

    port = free_port()
    relay = relay_factory(port, minimal_backoff_time="1h", maximal_backoff_time="2h", queue_run_delay="1h")
    send(relay.port, "alice@example.org", ["bob@example.net"])
    wait_until(lambda: list((spool(relay) / "deferred").iterdir()), 30, "a deferred message")
    sink = smtp_sink_factory(port)
    os.kill(Spool(spool(relay)).read_pid("qmgr"), signal.SIGUSR1)
    sink.wait_for(1, timeout=30)


def test_etrn_takes_the_deferred_mail_of_an_eligible_site_now_and_of_no_other(relay_factory, smtp_sink_factory):
    port = free_port()
    relay = relay_factory(port, minimal_backoff_time="1h", maximal_backoff_time="2h", queue_run_delay="1h",
                          fast_flush_domains="example.net, example.com")
    send(relay.port, "alice@example.org", ["bob@example.net"], "for example.net")
    send(relay.port, "alice@example.org", ["carol@example.com"], "for example.com")
    wait_until(lambda: len(list((spool(relay) / "deferred").iterdir())) == 2, 30, "two deferred messages")
    sink = smtp_sink_factory(port)
    with smtplib.SMTP("127.0.0.1", relay.port, timeout=30) as client:
        assert client.docmd("ETRN", "example.net") == (250, b"Queuing started")
        assert client.docmd("ETRN", "example.org") == (459, b"<example.org>: service unavailable")
    sink.wait_for(1, timeout=30)
    assert sink.dumps()[0].recipients == ["bob@example.net"]
    time.sleep(1)
    assert len(sink.dumps()) == 1 and len(list((spool(relay) / "deferred").iterdir())) == 1


def test_transport_maps_route_a_domain_past_the_relayhost(relay_factory, smtp_sink, tmp_path):
    relay = relay_factory(free_port(), transport_maps=f"inline:{{ example.net=smtp:[127.0.0.1]:{smtp_sink.port} }}")
    send(relay.port, "alice@example.org", ["bob@example.net"])
    smtp_sink.wait_for(1)
    wait_until(lambda: f"to=<bob@example.net>, relay=127.0.0.1[127.0.0.1]:{smtp_sink.port}" in relay.log(), 10,
               "the delivery logged")



@pytest.fixture
def after_queue_relay(relay_factory, smtp_sink):
    return relay_factory(smtp_sink.port, filterd_plugins="tests.fixtures.plugins.after_queue")


def test_after_queue_edits_reach_the_next_hop(after_queue_relay, smtp_sink):
    send(after_queue_relay.port, "alice@example.org", ["bob@example.net"], "plain")
    [dump] = smtp_sink.wait_for(1)
    assert b"X-After-Queue: checked " in dump


def test_after_queue_reject_bounces_to_the_sender(after_queue_relay, smtp_sink):
    send(after_queue_relay.port, "alice@localhost", ["bob@example.net"], "AQ-REJECT")
    wait_until(lambda: maildir_messages(after_queue_relay, "alice"), 30, "the bounce")
    assert "Refused after queue" in maildir_messages(after_queue_relay, "alice")[0].as_string()
    assert smtp_sink.received() == 0


def test_after_queue_redirect_hold_and_discard(after_queue_relay, smtp_sink):
    send(after_queue_relay.port, "alice@example.org", ["bob@example.net"], "AQ-REDIRECT")
    smtp_sink.wait_for(1)
    [dump] = smtp_sink.dumps()
    assert dump.recipients == ["archive@example.net"]
    send(after_queue_relay.port, "alice@example.org", ["bob@example.net"], "AQ-HOLD")
    wait_until(lambda: list((spool(after_queue_relay) / "hold").iterdir()), 30, "the hold queue")
    send(after_queue_relay.port, "alice@example.org", ["bob@example.net"], "AQ-DISCARD")
    wait_until(lambda: "discard: QUEUE from " in after_queue_relay.log(), 30, "the discard")
    assert smtp_sink.received() == 1


def test_dsn_parameters_are_kept_and_passed_on(relay_factory, smtp_sink):
    relay = relay_factory(smtp_sink.port)
    with smtplib.SMTP("127.0.0.1", relay.port, timeout=30) as client:
        client.ehlo()
        assert client.has_extn("dsn")
        client.sendmail("alice@example.org", ["bob@example.net"], "Subject: dsn\r\n\r\nx\r\n",
                        mail_options=["RET=HDRS", "ENVID=Q+2Bid"], rcpt_options=["NOTIFY=SUCCESS,DELAY", "ORCPT=rfc822;bob@example.net"])
    smtp_sink.wait_for(1)
    [dump] = smtp_sink.dumps()
    assert "RET=HDRS" in dump.mail and "ENVID=Q+2Bid" in dump.mail
    assert dump.rcpts == ("<bob@example.net> NOTIFY=SUCCESS,DELAY ORCPT=rfc822;bob@example.net",)


def test_notify_never_means_no_bounce(relay_factory, smtp_sink_factory):
    sink = smtp_sink_factory(hard_reject=["RCPT"])
    relay = relay_factory(sink.port)
    with smtplib.SMTP("127.0.0.1", relay.port, timeout=30) as client:
        client.sendmail("alice@localhost", ["bob@example.net"], "Subject: quiet\r\n\r\nx\r\n", rcpt_options=["NOTIFY=NEVER"])
    wait_until(lambda: ": removed" in relay.log(), 30, "the message finished")
    assert "status=bounced" in relay.log()
    assert "sender non-delivery notification" not in relay.log()
