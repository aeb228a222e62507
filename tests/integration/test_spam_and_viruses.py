"""The spamassassin and clamav plugins with real spamd and clamd (started once for the module), through filterd's
proxy, relay and milter front ends: GTUBE and EICAR refused before the queue and held after it, ham delivered with
spamd's headers and the score's, the score's thresholds and observe mode deciding, and spamd stopped -> the
configured action."""

from __future__ import annotations

import re
import smtplib
import subprocess

import pytest

from tests.fixtures.scanners import EICAR, EICAR_NAME, GTUBE, Clamd, Spamd, message, with_attachment
from tests.harness import free_port, wait_until

SENDER, RCPT = "sender@example.org", "recipient@example.net"
HAM = message(b"Hello,\r\n\r\nthe minutes of Tuesday's meeting are below.\r\n", "minutes")
SPAM = message(GTUBE, "offer")
VIRUS = with_attachment(EICAR)
RELAY = {"queue_run_delay": "1s", "smtp_dns_support_level": "disabled", "mydestination": "localhost"}


@pytest.fixture(scope="module")
def spamd(tmp_path_factory):
    with Spamd(tmp_path_factory.mktemp("spamd")) as service:
        yield service


@pytest.fixture(scope="module")
def clamd(tmp_path_factory):
    with Clamd(tmp_path_factory.mktemp("clamd")) as service:
        yield service


def scanners(spamd, clamd, **settings: str) -> dict[str, str]:
    return {"filterd_plugins": "spamassassin, clamav", "filterd_spamassassin_spamd": spamd.address,
            "filterd_clamav_clamd": clamd.address, **settings}


def send(port: int, data: bytes) -> dict:
    with smtplib.SMTP("127.0.0.1", port, timeout=30) as client:
        return client.sendmail(SENDER, [RCPT], data)


def refusal(port: int, data: bytes) -> tuple[int, bytes]:
    with pytest.raises(smtplib.SMTPDataError) as refused:
        send(port, data)
    return refused.value.smtp_code, refused.value.smtp_error


def test_proxy_refuses_gtube_and_eicar_in_session_and_passes_ham_with_the_headers(
        spamd, clamd, smtp_sink, filterd_factory):
    proxy = filterd_factory(scanners(spamd, clamd, filterd_spamassassin_reject_score="10"), nexthop_port=smtp_sink.port)
    assert refusal(proxy.port, SPAM) == (550, b"5.7.1 Spam message rejected")
    assert refusal(proxy.port, VIRUS) == (550, f"5.7.1 Virus found: {EICAR_NAME}.UNOFFICIAL".encode())
    send(proxy.port, HAM)
    [dump] = smtp_sink.wait_for(1)
    assert b"\nX-Spam-Status: No, score=" in dump and b"\nX-Spam-Score: " in dump
    assert b"\nX-Filterd-Score: no action [" in dump and b"SPAMASSASSIN(" in dump
    log = proxy.log()
    assert "reject: END-OF-MESSAGE from " in log and f"Virus found: {EICAR_NAME}.UNOFFICIAL; from=<{SENDER}>" in log


def test_relay_holds_gtube_and_eicar_after_the_queue_by_the_score(spamd, clamd, smtp_sink, filterd_factory):
    port = free_port()
    relay = filterd_factory({**RELAY, **scanners(spamd, clamd, filterd_spamassassin_hook="queue",
                                                 filterd_clamav_hook="queue"),
                             "filterd_listeners": f"relay:127.0.0.1:{port}",
                             "relayhost": f"[127.0.0.1]:{smtp_sink.port}"}, port=port)
    assert send(relay.port, SPAM) == {} and send(relay.port, VIRUS) == {}
    hold = relay.directory / "queue" / "hold"
    wait_until(lambda: len(list(hold.iterdir())) == 2 if hold.exists() else False, 30, "two held messages")
    send(relay.port, HAM)
    [dump] = smtp_sink.wait_for(1)
    assert b"\nX-Spam-Status: No, score=" in dump
    log = relay.log()
    assert re.search(r"qmgr\[\d+\]: \w+: info: QUEUE from .*: score 1?\d\d\d(\.\d)?: hold; SPAMASSASSIN\(", log)
    assert f"hold: QUEUE from localhost[127.0.0.1]: virus {EICAR_NAME}.UNOFFICIAL; from=<{SENDER}>" in log


def test_milter_the_score_rejects_gtube_and_ham_gets_the_headers(spamd, clamd, smtp_sink, filterd_factory,
                                                                  postfix_factory):
    port = free_port()
    filterd_factory({**scanners(spamd, clamd), "filterd_listeners": f"milter:inet:127.0.0.1:{port}"}, port=port)
    postfix = postfix_factory.relay(smtp_sink.port, {"smtpd_milters": f"inet:127.0.0.1:{port}",
                                                     "milter_default_action": "tempfail"})
    assert refusal(postfix.port, SPAM) == (550, b"5.7.1 Spam message rejected")
    postfix.wait_log(r"milter-reject: END-OF-MESSAGE from .*: 5\.7\.1 Spam message rejected")
    send(postfix.port, HAM)
    [dump] = smtp_sink.wait_for(1)
    assert b"\nX-Spam-Status: No, score=" in dump and b"\nX-Filterd-Score: no action [" in dump


def test_an_observed_spamassassin_only_warns_and_pflogsumm_counts_the_warning(spamd, clamd, smtp_sink, filterd_factory):
    proxy = filterd_factory(scanners(spamd, clamd, filterd_spamassassin_reject_score="10",
                                     filterd_observe_plugins="spamassassin"), nexthop_port=smtp_sink.port)
    send(proxy.port, SPAM)
    [dump] = smtp_sink.wait_for(1)
    assert b"\nX-Spam-Flag: YES" not in dump
    log = proxy.log()
    assert "reject_warning: END-OF-MESSAGE from " in log and ": 550 5.7.1 Spam message rejected; from=<" in log
    assert re.search(r"SPAMASSASSIN\(\d+(\.\d)?\)\[spamassassin, observed\]", log)
    summary = subprocess.run(["pflogsumm", "--syslog-name=filterd", str(proxy.log_path)], capture_output=True,
                             text=True, check=True).stdout
    assert re.search(r"^\s+1\s+reject warnings$", summary, re.M)


def test_spamd_stopped_delivers_and_logs_a_warning_by_default(clamd, smtp_sink, filterd_factory, mta_dir):
    stopped = Spamd(mta_dir / "spamd").start()
    stopped.stop()
    address = f"unix:{stopped.socket}"
    proxy = filterd_factory(scanners(stopped, clamd, filterd_spamassassin_spamd=address), nexthop_port=smtp_sink.port)
    send(proxy.port, SPAM)
    [dump] = smtp_sink.wait_for(1)
    assert b"X-Spam-Status" not in dump
    assert f"warn: END-OF-MESSAGE from localhost[127.0.0.1]: spamassassin: spamd {address}: " in proxy.log()
