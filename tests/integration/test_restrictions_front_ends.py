"""The same restrictions in each front end: filterd's proxy (before an smtp-sink) and filterd as a milter of a real
Postfix refuse relaying from outside mynetworks and a refused sender as the relay does
(tests/integration/test_restrictions_vs_postfix.py compares the relay with Postfix)."""

from __future__ import annotations

import smtplib

import pytest

from tests.harness import free_port

pytestmark = pytest.mark.integration

RESTRICTIONS = {"filterd_plugins": "restrictions", "mydestination": "local.example", "mynetworks": "192.0.2.0/24",
                "smtpd_sender_restrictions": "check_sender_access inline:{ blocked.example=REJECT }"}


def replies(port: int, sender: str, recipients: list[str]) -> list[tuple[int, bytes]]:
    """MAIL's reply, then each RCPT's."""
    with smtplib.SMTP("127.0.0.1", port, timeout=30) as client:
        client.ehlo("client.example")
        found = [client.mail(sender)]
        found += [client.rcpt(recipient) for recipient in recipients]
        client.rset()
        return found


def assert_refusals(port: int) -> None:
    found = replies(port, "a@sender.example", ["user@local.example", "user@foreign.example",
                                               "user%foreign.example@local.example"])
    assert [code for code, _ in found] == [250, 250, 454, 454]
    assert found[2][1] == b"4.7.1 <user@foreign.example>: Relay access denied"
    refused = replies(port, "a@blocked.example", ["user@local.example"])
    assert refused[1] == (554, b"5.7.1 <a@blocked.example>: Sender address rejected: Access denied")


def test_the_proxy_applies_the_restrictions(filterd_factory, smtp_sink):
    port = free_port()
    filterd_factory({**RESTRICTIONS, "filterd_listeners": f"proxy:127.0.0.1:{port}"}, port=port,
                    nexthop_port=smtp_sink.port)
    assert_refusals(port)


def test_the_milter_applies_the_restrictions_to_the_client_postfix_sees(filterd_factory, postfix_factory, smtp_sink):
    port = free_port()
    filterd_factory({**RESTRICTIONS, "filterd_listeners": f"milter:inet:127.0.0.1:{port}"}, port=port)
    postfix = postfix_factory.relay(smtp_sink.port, {"smtpd_milters": f"inet:127.0.0.1:{port}",
                                                     "milter_default_action": "tempfail"})
    assert_refusals(postfix.port)
