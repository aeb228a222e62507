"""The spf and dmarc plugins in filterd's proxy, relay and milter front ends, their records served by the loopback
DNS server: a DMARC reject refused before the queue (proxy), a quarantine held in the hold queue (relay), and through
a real Postfix's smtpd_milters one Authentication-Results header written, the forged one that claims filterd's
authserv-id removed and another host's kept."""

from __future__ import annotations

import smtplib

import pytest

from tests.harness import free_port, wait_until

AUTHOR, RCPT, HELO = "author@example.org", "recipient@example.net", "client.example.org"
FORGED = b"Authentication-Results: filterd.test; dmarc=pass header.from=example.org"
OTHERS = b"Authentication-Results: relay.example.com; spf=pass smtp.mailfrom=example.org"
RELAY = {"queue_run_delay": "1s", "smtp_dns_support_level": "disabled", "mydestination": "localhost"}


def message(author: str = AUTHOR) -> bytes:
    head = f"From: {author}\r\nTo: {RCPT}\r\nSubject: minutes\r\n".encode()
    return FORGED + b"\r\n" + OTHERS + b"\r\n" + head + b"\r\nthe minutes\r\n"


def send(port: int, sender: str, data: bytes) -> dict:
    with smtplib.SMTP("127.0.0.1", port, local_hostname=HELO, timeout=30) as client:
        return client.sendmail(sender, [RCPT], data)


@pytest.fixture
def records(dns_server):
    """example.org lets 127.0.0.1 send and publishes p=reject; quarantine.example publishes p=quarantine and lets
    nobody send; bulk.example passes SPF for 127.0.0.1."""
    dns_server.zone.add("example.org", 'TXT "v=spf1 ip4:127.0.0.1 -all"')
    dns_server.zone.add("_dmarc.example.org", 'TXT "v=DMARC1; p=reject"')
    dns_server.zone.add("quarantine.example", 'TXT "v=spf1 -all"')
    dns_server.zone.add("_dmarc.quarantine.example", 'TXT "v=DMARC1; p=quarantine"')
    dns_server.zone.add("bulk.example", 'TXT "v=spf1 ip4:127.0.0.1 -all"')
    return {"filterd_plugins": "spf, dmarc", "filterd_dns_servers": dns_server.address}


def test_proxy_refuses_a_dmarc_reject_before_the_queue_and_passes_an_aligned_message(records, smtp_sink,
                                                                                       filterd_factory):
    proxy = filterd_factory(records, nexthop_port=smtp_sink.port)
    with pytest.raises(smtplib.SMTPDataError) as refused:
        send(proxy.port, "bounce@bulk.example", message())
    assert (refused.value.smtp_code, refused.value.smtp_error) == (
        550, b"5.7.1 rejected by DMARC policy for example.org")
    send(proxy.port, "user@example.org", message())
    [dump] = smtp_sink.wait_for(1)
    assert dump.count(b"Authentication-Results:") == 2 and OTHERS in dump and FORGED not in dump
    assert (b"Authentication-Results: filterd.test;\n\tspf=none smtp.helo=client.example.org;\n"
            b"\tspf=pass smtp.mailfrom=user@example.org;\n\tdmarc=pass reason=\"p=reject dis=none\" "
            b"header.from=example.org\n") in dump
    assert "reject: END-OF-MESSAGE from localhost[127.0.0.1]: 550 5.7.1 rejected by DMARC policy for " \
           "example.org; from=<bounce@bulk.example>" in proxy.log()


def test_relay_holds_a_dmarc_quarantine(records, smtp_sink, filterd_factory):
    port = free_port()
    relay = filterd_factory({**RELAY, **records, "filterd_listeners": f"relay:127.0.0.1:{port}",
                             "relayhost": f"[127.0.0.1]:{smtp_sink.port}"}, port=port)
    assert send(relay.port, "user@bulk.example", message("author@quarantine.example")) == {}
    hold = relay.directory / "queue" / "hold"
    wait_until(lambda: hold.exists() and len(list(hold.iterdir())) == 1, 30, "one held message")
    send(relay.port, "user@example.org", message())
    [dump] = smtp_sink.wait_for(1)
    assert b"\tdmarc=pass" in dump and FORGED not in dump
    assert "hold: END-OF-MESSAGE from localhost[127.0.0.1]: DMARC policy quarantine for quarantine.example; " \
           "from=<user@bulk.example>" in relay.log()


def test_milter_writes_one_header_through_postfix_and_removes_the_forged_one(records, smtp_sink, filterd_factory,
                                                                            postfix_factory):
    port = free_port()
    filterd_factory({**records, "filterd_listeners": f"milter:inet:127.0.0.1:{port}"}, port=port)
    postfix = postfix_factory.relay(smtp_sink.port, {"smtpd_milters": f"inet:127.0.0.1:{port}",
                                                     "milter_default_action": "tempfail"})
    with pytest.raises(smtplib.SMTPDataError) as refused:
        send(postfix.port, "bounce@bulk.example", message())
    assert refused.value.smtp_code == 550
    postfix.wait_log(r"milter-reject: END-OF-MESSAGE from .*: 5\.7\.1 rejected by DMARC policy for example\.org")
    send(postfix.port, "user@example.org", message())
    [dump] = smtp_sink.wait_for(1)
    assert dump.count(b"Authentication-Results:") == 2 and OTHERS in dump and FORGED not in dump
    assert b"Authentication-Results: filterd.test;\n\tspf=none smtp.helo=client.example.org;\n" \
           b"\tspf=pass smtp.mailfrom=user@example.org;\n\tdmarc=pass" in dump


def test_milter_with_spf_alone_still_gets_the_header_to_remove_the_forged_one(records, smtp_sink, filterd_factory,
                                                                              postfix_factory):
    port = free_port()
    filterd_factory({**records, "filterd_plugins": "spf", "filterd_listeners": f"milter:inet:127.0.0.1:{port}"},
                    port=port)
    postfix = postfix_factory.relay(smtp_sink.port, {"smtpd_milters": f"inet:127.0.0.1:{port}"})
    send(postfix.port, "user@example.org", message())
    [dump] = smtp_sink.wait_for(1)
    assert FORGED not in dump and OTHERS in dump
    assert b"Authentication-Results: filterd.test;\n\tspf=none smtp.helo=client.example.org;\n" \
           b"\tspf=pass smtp.mailfrom=user@example.org\n" in dump
