"""Postfix's debugging aids in filterd: soft_bounce while new rules are tried, debug_peer_list for one client's
session in the log."""

from __future__ import annotations

import email
import os
import re
import smtplib
import subprocess
import sys

import pytest

from tests.harness import CLIENT, HOST, free_port, wait_until

EOM_REJECT = "tests.fixtures.plugins.eom_reject"


def data_reply(port: int, body: str) -> tuple[int, bytes]:
    with smtplib.SMTP(HOST, port, timeout=30) as client:
        client.ehlo()
        client.mail("alice@example.org")
        client.rcpt("bob@example.net")
        return client.data(f"Subject: try\r\n\r\n{body}\r\n".encode())


def test_soft_bounce_turns_a_plugins_reject_into_a_deferral(smtp_sink, filterd_factory):
    hard = filterd_factory({"filterd_plugins": EOM_REJECT}, nexthop_port=smtp_sink.port)
    soft = filterd_factory({"filterd_plugins": EOM_REJECT, "soft_bounce": "yes"}, nexthop_port=smtp_sink.port)
    assert data_reply(hard.port, "BADWORD") == (550, b"5.7.1 Message content rejected")
    assert data_reply(soft.port, "BADWORD") == (450, b"4.7.1 Message content rejected")
    assert data_reply(soft.port, "fine")[0] == 250
    assert smtp_sink.received() == 1


@pytest.mark.parametrize(("refused", "said"), [("RCPT", "said: 500 5.3.0 "), (".", "(in reply to end of DATA command)")],
                         ids=["rcpt", "end-of-data"])
def test_soft_bounce_defers_what_the_next_hop_refuses_for_good(smtp_sink_factory, filterd_factory, refused, said):
    sink = smtp_sink_factory(hard_reject=[refused])
    port = free_port()
    relay = filterd_factory({"filterd_listeners": f"relay:{HOST}:{port}", "mydestination": "",
                             "relayhost": f"[{HOST}]:{sink.port}", "soft_bounce": "yes"}, port=port)
    assert data_reply(port, "hello")[0] == 250
    deferred = relay.directory / "queue" / "deferred"
    wait_until(lambda: os.listdir(deferred), 20, "the message to be deferred")
    line = wait_until(lambda: next((line for line in relay.log().splitlines() if "status=" in line), None), 20,
                      "the delivery's log line")
    assert "dsn=4.3.0, status=deferred (host" in line and said in line, line
    assert "filterd/bounce" not in relay.log()
    assert len(os.listdir(deferred)) == 1


def test_debug_peer_list_logs_the_session_of_a_listed_client_only(smtp_sink, filterd_factory):
    listed = filterd_factory({"debug_peer_list": "127.0.0.0/8"}, nexthop_port=smtp_sink.port)
    other = filterd_factory({"debug_peer_list": "10.0.0.0/8, example.org"}, nexthop_port=smtp_sink.port)
    for filterd in (listed, other):
        assert data_reply(filterd.port, "hello")[0] == 250
    wait_until(lambda: "disconnect from" in listed.log() and "disconnect from" in other.log(), 10, "the sessions")
    log = listed.log()
    for line in (f"]: < {CLIENT}: EHLO ", f"]: > {CLIENT}: 250-filterd.test", f"]: < {CLIENT}: MAIL FROM:<alice@",
                 f"]: > {CLIENT}: 354 End data with <CR><LF>.<CR><LF>", f"]: < {CLIENT}: QUIT"):
        assert line in log
    assert f": < {CLIENT}" not in other.log()


def test_sendmail_v_mails_the_sender_a_report_of_the_delivery(filterd_factory):
    port = free_port()
    relay = filterd_factory({"filterd_listeners": f"relay:{HOST}:{port}", "mydestination": "localhost",
                             "queue_run_delay": "1s"}, port=port)
    done = subprocess.run([sys.executable, "-m", "filterd", "-c", str(relay.config_path), "sendmail", "-v",
                           "-f", "alice@localhost", "bob@localhost"], input=b"Subject: tell me\n\nhello\n",
                          capture_output=True, timeout=60)
    assert done.returncode == 0, done.stderr
    mailbox = relay.directory / "queue" / "mailboxes" / "alice" / "Maildir" / "new"
    wait_until(lambda: mailbox.is_dir() and any(mailbox.iterdir()), 20, "the report")
    [report] = [email.message_from_bytes(path.read_bytes()) for path in mailbox.iterdir()]
    assert (report["Subject"], report["From"]) == ("Mail Delivery Status Report",
                                                   "Mail Delivery System <MAILER-DAEMON@filterd.test>")
    human, status, headers = report.get_payload()
    assert "Enclosed is the mail delivery report that you requested." in human.get_payload()
    assert "<bob@localhost>: delivery via local: delivered to maildir" in human.get_payload()
    assert "Action: delivered" in str(status) and "Status: 2.0.0" in str(status)
    assert "Subject: tell me" in headers.get_payload()
    assert re.search(r"filterd/bounce\[\d+\]: \w+: sender delivery status notification: \w+", relay.log())
