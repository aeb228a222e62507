"""Messages that lack Message-Id, Date or From, relayed by a real Postfix and by filterd's relay mode from a local
client: both add the same headers in the same places (the values of the added Message-Id and Date aside)."""

from __future__ import annotations

import re
import smtplib

import pytest

from tests.conftest import require_programs
from tests.harness import HOST, FilterdProcess, Postfix, SmtpSink, free_port, make_workdir, without_own_received

pytestmark = pytest.mark.integration
RCPT = "bob@example.net"
MESSAGES = {
    "none@example.org": b"\r\nno headers at all\r\n",
    "subject@example.org": b"Subject: hi\r\n\r\nbody\r\n",
    "": b"Subject: from the null sender\r\n\r\nbody\r\n",
    "resent@example.org": b"Resent-From: x@example.com\r\nMessage-ID: <kept@example.org>\r\n\r\nbody\r\n",
    "whole@example.org": b"From: a@example.org\r\nDate: Mon, 1 Dec 2026 10:00:00 +0000\r\n"
                         b"Message-ID: <whole@example.org>\r\n\r\nbody\r\n",
    "date@example.org": b"From: a@example.org\r\nSubject: no date, no id\r\n\r\nbody\r\n",
}
_ADDED_ID = re.compile(rb"<\d{14}\.[0-9A-Za-z]+@mx\.example\.com>")
_DATE = re.compile(rb"^((?:Resent-)?Date: )[A-Z][a-z]{2}, [ \d]\d [A-Z][a-z]{2} \d{4} \d\d:\d\d:\d\d [+-]\d{4} "
                   rb"\([A-Z]+\)", re.M)


def normalised(content: bytes) -> bytes:
    """The message without the last MTA's Received header, the added Message-Id and Date values replaced."""
    rest = without_own_received(content)
    return _DATE.sub(rb"\1DATE", _ADDED_ID.sub(b"<ADDED>", rest))


@pytest.fixture(scope="module")
def delivered():
    require_programs()
    workdir = make_workdir("filterd-missing-headers-")
    services = []
    try:
        sinks = [SmtpSink(workdir / f"sink-{name}").start() for name in ("postfix", "filterd")]
        services += sinks
        services.append(postfix := Postfix.relay(workdir / "postfix", sinks[0].port,
                                                 {"myhostname": "mx.example.com"}).start())
        port = free_port()
        services.append(relay := FilterdProcess(workdir / "filterd", {
            "myhostname": "mx.example.com", "filterd_listeners": f"relay:{HOST}:{port}",
            "relayhost": f"[{HOST}]:{sinks[1].port}", "smtp_dns_support_level": "disabled",
            "queue_run_delay": "1s"}, port=port).start())
        for mta in (postfix, relay):
            with smtplib.SMTP(HOST, mta.port, timeout=60) as client:
                for sender, content in MESSAGES.items():
                    client.sendmail(sender, [RCPT], content)
        yield [{dump.sender: normalised(dump.content) for dump in sink.dumps()}
               for sink in sinks if sink.wait_for(len(MESSAGES), timeout=60)], relay
    finally:
        for service in reversed(services):
            service.stop()


@pytest.mark.parametrize("sender", MESSAGES)
def test_filterd_adds_what_postfix_adds(delivered, sender):
    (postfix, filterd), _ = delivered
    assert filterd[sender] == postfix[sender]


def test_the_added_message_id_is_logged_as_cleanup_logs_it(delivered):
    _, relay = delivered
    assert re.search(r"filterd/cleanup\[\d+\]: \w+: message-id=<\d{14}\.\w+@mx\.example\.com>", relay.log())
    assert re.search(r"filterd/cleanup\[\d+\]: \w+: resent-message-id=<\d{14}\.\w+@mx\.example\.com>", relay.log())
