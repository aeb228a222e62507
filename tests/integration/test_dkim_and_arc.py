"""The dkim and arc plugins through each front end, by the hook chain alone: filterd's proxy, relay and milter (behind
Postfix) sign what OpenDKIM then verifies; the relay verifies what OpenDKIM signed, the key record from the loopback
DNS server; the milter seals an ARC set dkimpy validates."""

from __future__ import annotations

import smtplib

import dkim
import pytest

from filterd.testing import make_message
from tests.fixtures.dkim_keys import make_key, opendkim_signs, opendkim_verifies, tables
from tests.harness import free_port

SENDER, RCPT = "ann@example.org", "bob@example.net"
MESSAGE = make_message(subject="report", body="Hello Bob,\n\nthe report is attached.\n", sender=f"Ann <{SENDER}>",
                       to=RCPT, headers={"Date": "Thu, 03 Dec 2026 12:00:00 +0000", "Message-ID": "<3@example.org>"})
RELAY = {"queue_run_delay": "1s", "smtp_dns_support_level": "disabled", "mydestination": "localhost"}
SUCCEEDED = "verification (s=sel, d=example.org, 2048-bit key) succeeded"


@pytest.fixture(scope="module")
def key(tmp_path_factory):
    return make_key(tmp_path_factory.mktemp("keys"))


def send(port: int, data: bytes) -> None:
    with smtplib.SMTP("127.0.0.1", port, timeout=30) as client:
        assert client.sendmail(SENDER, [RCPT], data) == {}


def test_the_proxy_signs_what_opendkim_verifies(tmp_path, key, smtp_sink, filterd_factory):
    proxy = filterd_factory({"filterd_plugins": "dkim", **tables(tmp_path, key)}, nexthop_port=smtp_sink.port)
    send(proxy.port, MESSAGE)
    [dump] = smtp_sink.wait_for(1)
    assert b"DKIM-Signature: v=1; a=rsa-sha256; c=relaxed/relaxed; d=example.org;" in dump
    assert SUCCEEDED in opendkim_verifies(tmp_path, dump, key)


def test_the_relay_signs_and_verifies(tmp_path, key, smtp_sink, filterd_factory, dns_server):
    dns_server.zone.add(key.name, key.txt())
    port = free_port()
    relay = filterd_factory({**RELAY, "filterd_plugins": "dkim", **tables(tmp_path, key),
                             "filterd_dns_servers": dns_server.address, "filterd_listeners": f"relay:127.0.0.1:{port}",
                             "relayhost": f"[127.0.0.1]:{smtp_sink.port}"}, port=port)
    send(relay.port, MESSAGE)
    [signed] = smtp_sink.wait_for(1)
    assert SUCCEEDED in opendkim_verifies(tmp_path, signed, key)
    port = free_port()
    verifying = filterd_factory({**RELAY, "filterd_plugins": "dkim", "filterd_dkim_sign_networks": "192.0.2.0/24",
                                 "filterd_dns_servers": dns_server.address,
                                 "filterd_listeners": f"relay:127.0.0.1:{port}",
                                 "relayhost": f"[127.0.0.1]:{smtp_sink.port}"}, port=port)
    send(verifying.port, opendkim_signs(tmp_path, MESSAGE, key))
    [verified] = [dump for dump in smtp_sink.wait_for(2) if dump != signed]
    assert b"dkim=pass header.d=example.org header.s=sel header.b=" in verified


def test_the_milter_signs_and_seals_behind_postfix(tmp_path, key, smtp_sink, filterd_factory, postfix_factory,
                                                   dns_server):
    port = free_port()
    filterd_factory({"filterd_plugins": "arc, dkim", **tables(tmp_path, key), "filterd_arc_domain": key.domain,
                     "filterd_arc_selector": key.selector, "filterd_arc_key_file": str(key.path),
                     "filterd_dns_servers": dns_server.address, "filterd_listeners": f"milter:inet:127.0.0.1:{port}"},
                    port=port)
    postfix = postfix_factory.relay(smtp_sink.port, {"smtpd_milters": f"inet:127.0.0.1:{port}",
                                                     "milter_default_action": "tempfail"})
    send(postfix.port, MESSAGE)
    [dump] = smtp_sink.wait_for(1)
    assert SUCCEEDED in opendkim_verifies(tmp_path, dump, key)
    record = key.record.encode()
    cv, sets, reason = dkim.arc_verify(dump.replace(b"\r\n", b"\n").replace(b"\n", b"\r\n"),
                                       dnsfunc=lambda name, timeout=0: record)
    assert (cv, reason, len(sets)) == (b"pass", "success", 1)
