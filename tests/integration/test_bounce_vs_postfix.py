"""The bounce message as Postfix 3.7 writes it: a message refused by the next hop comes back to its sender from
filterd's relay and from a real Postfix with the same settings, and the two bounces are the same line for line
once queue ids, dates, ports and the MTA's name are made alike."""

from __future__ import annotations

import re
import smtplib

import pytest

from tests.harness import free_port, wait_until

pytestmark = pytest.mark.integration

QUEUE_ID = re.compile(r"\b(?:[0-9A-F]{10,12}|[0-9B-DF-HJ-NP-TV-Zb-df-hj-np-tv-z]{15,})\b")
DATE = re.compile(r"\w{3}, [ \d]\d \w{3} \d{4} \d\d:\d\d:\d\d [+-]\d{4} \(\w+\)")


def normalised(raw: bytes) -> list[str]:
    """The bounce from its own Received: header on (the sink's lines and header left out), made comparable."""
    text = raw.decode().replace("\r\n", "\n")
    text = text[text.index("Received: by "):]
    text = QUEUE_ID.sub("QID", DATE.sub("DATE", text))
    text = re.sub(r"\(Postfix\)|\(filterd\)", "(MTA)", text)
    text = re.sub(r"QID\.\d+/", "QID.TIME/", text)
    text = re.sub(r"<\d{14}\.QID@", "<TIME.QID@", text)
    return re.sub(r"\]:\d+", "]:PORT", text).splitlines()


def relays(postfix_factory, filterd_factory, sink_port: int, settings: dict[str, str]):
    """A Postfix relay and a filterd relay with the same settings, both relaying to the sink."""
    postfix = postfix_factory.relay(sink_port, settings)
    port = free_port()
    filterd = filterd_factory({"filterd_listeners": f"relay:127.0.0.1:{port}", "relayhost": f"[127.0.0.1]:{sink_port}",
                               "smtp_dns_support_level": "disabled", "queue_run_delay": "1s", **settings}, port=port)
    return postfix, filterd


@pytest.mark.parametrize("body", ["", " BODY=7BIT"])
def test_a_bounce_is_postfix_s_line_for_line(postfix_factory, filterd_factory, smtp_sink_factory, body) -> None:
    """One recipient refused at RCPT by the next hop (its reply wrapped as Postfix wraps it), one by the error
    transport with a long reason: the notification, the delivery report and the returned message, 8bit even for
    BODY=7BIT mail as Postfix 3.7 writes it."""
    sink, refusing = smtp_sink_factory(), smtp_sink_factory(hard_reject=("RCPT",))
    settings = {"myhostname": "relay.example", "mydestination": "",
                "transport_maps": f"inline:{{ bounce.example=smtp:[127.0.0.1]:{refusing.port}, "
                                  "{nowhere.example=error:5.1.1 no mail for this domain here at all, it was never "
                                  "meant to be delivered} }"}
    postfix, filterd = relays(postfix_factory, filterd_factory, sink.port, settings)
    for system in (postfix, filterd):
        with smtplib.SMTP("127.0.0.1", system.port, timeout=30) as client:
            client.ehlo("client.example")
            client.sendmail("a@sender.example", ["bob@bounce.example", "carol@nowhere.example"],
                            "From: a@sender.example\r\nSubject: bounced\r\nMessage-ID: <b@x>\r\n\r\nbody\r\n",
                            mail_options=[body.strip()] if body else [])
        sink.wait_for(1 if system is postfix else 2, 30)
    theirs, ours = (normalised(raw) for raw in sink.messages())
    assert ours == theirs
    assert "Subject: Undelivered Mail Returned to Sender" in ours


def test_a_delay_notice_is_postfix_s_line_for_line_and_sent_once(postfix_factory, filterd_factory,
                                                                  smtp_sink_factory) -> None:
    """delay_warning_time: mail still deferred that long after it came gets its sender one notice (the deferred
    recipients but the one whose NOTIFY leaves DELAY out, the message's headers), then is tried on."""
    sink, dead = smtp_sink_factory(), free_port()
    settings = {"myhostname": "relay.example", "mydestination": "", "delay_warning_time": "1s",
                "minimal_backoff_time": "1s", "maximal_backoff_time": "2s",
                "transport_maps": f"inline:{{ dead.example=smtp:[127.0.0.1]:{dead} }}"}
    postfix, filterd = relays(postfix_factory, filterd_factory, sink.port, settings)
    for system, log in ((postfix, postfix.maillog), (filterd, filterd.log)):
        with smtplib.SMTP("127.0.0.1", system.port, timeout=30) as client:
            client.ehlo("client.example")
            client.mail("a@sender.example")
            client.rcpt("bob@dead.example")
            client.rcpt("carol@dead.example", ["NOTIFY=FAILURE"])
            client.rcpt("dave@dead.example", ["NOTIFY=DELAY,FAILURE"])
            client.data(b"From: a@sender.example\r\nSubject: slow\r\nMessage-ID: <s@x>\r\n\r\nbody\r\n")
        sink.wait_for(1 if system is postfix else 2, 30)
        wait_until(lambda: log().count("to=<bob@dead.example>") >= 3, 30, "two attempts more")
        assert log().count("sender delay notification") == 1
    theirs, ours = (normalised(raw) for raw in sink.messages())
    assert ours == theirs
    assert "Subject: Delayed Mail (still being retried)" in ours and "Action: delayed" in ours
    assert [line for line in ours if line.startswith("Final-Recipient")] == [
        "Final-Recipient: rfc822; bob@dead.example", "Final-Recipient: rfc822; dave@dead.example"]


def test_expiry_is_logged_and_returned_as_postfix_does_it(postfix_factory, filterd_factory, smtp_sink_factory) -> None:
    """maximal_queue_lifetime: after the attempt that finds the message too old, qmgr's one line for it, the
    bounce daemon's, then its removal; bounce_queue_lifetime past it is cut to it, with qmgr's warning."""
    sink, dead = smtp_sink_factory(), free_port()
    settings = {"myhostname": "relay.example", "mydestination": "", "maximal_queue_lifetime": "2s",
                "minimal_backoff_time": "1s", "maximal_backoff_time": "2s",
                "transport_maps": f"inline:{{ dead.example=smtp:[127.0.0.1]:{dead} }}"}
    postfix, filterd = relays(postfix_factory, filterd_factory, sink.port, settings)
    lines = {}
    for system, log in ((postfix, postfix.maillog), (filterd, filterd.log)):
        with smtplib.SMTP("127.0.0.1", system.port, timeout=30) as client:
            client.sendmail("a@sender.example", ["bob@dead.example"], "Subject: old\r\n\r\nbody\r\n")
        wait_until(lambda: "non-delivery notification" in log(), 30, "the expiry")
        lines[system] = [QUEUE_ID.sub("QID", line.split(": ", 1)[1]) for line in log().splitlines()
                         if re.search(r"/(qmgr|bounce)\[", line) and ("expired" in line or "non-delivery" in line
                                                                       or "lifetime" in line)]
    assert lines[filterd] == lines[postfix] == [
        "warning: bounce_queue_lifetime is larger than maximal_queue_lifetime - adjusting bounce_queue_lifetime",
        "QID: from=<a@sender.example>, status=expired, returned to sender",
        "QID: sender non-delivery notification: QID"]
