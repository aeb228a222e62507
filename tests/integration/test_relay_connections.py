"""Relay mode's connections to the next hop end as Postfix's smtp client ends them: QUIT when the delivery is
done, or kept a little while for more mail to the same next hop (the connection cache), then QUIT."""

from __future__ import annotations

import re

from tests.harness import free_port, smtpd_listener, wait_until
from tests.integration.test_queue_tools_vs_postfix import filterd
from tests.integration.test_relay import relay_factory, send  # noqa: F401  (a fixture)

CONNECT = re.compile(r"smtpd\[\d+\]: connect from ")
QUIT = re.compile(r"smtpd\[\d+\]: disconnect from .* quit=1 ")


def count(pattern: re.Pattern, log: str) -> int:
    return len(pattern.findall(log))


def test_a_delivery_ends_with_quit(relay_factory, postfix_factory, smtp_sink):
    postfix = postfix_factory.relay(smtp_sink.port)
    relay = relay_factory(postfix.port)
    send(relay.port, "alice@example.org", ["bob@example.net"])
    smtp_sink.wait_for(1)
    postfix.wait_log(QUIT.pattern, timeout=15)
    assert "status=sent" in relay.log()
    assert "timeout after" not in postfix.maillog()


def test_mail_waiting_for_a_next_hop_shares_connections_each_closed_with_quit(relay_factory, postfix_factory,
                                                                              smtp_sink):
    port = free_port()
    relay = relay_factory(port, minimal_backoff_time="60s", maximal_backoff_time="60s",
                          default_destination_concurrency_limit="2")
    for number in range(6):
        send(relay.port, "alice@example.org", ["bob@example.net"], f"message {number}")
    wait_until(lambda: relay.log().count("status=deferred") == 6, 30, "six deferrals")
    postfix = postfix_factory.relay(smtp_sink.port, port=port)
    assert filterd(relay.config_path, "postqueue", "-f").returncode == 0
    smtp_sink.wait_for(6)
    wait_until(lambda: relay.log().count("status=sent") == 6, 15, "six deliveries logged")
    connections = count(CONNECT, postfix.maillog())
    assert 1 <= connections < 6
    wait_until(lambda: count(QUIT, postfix.maillog()) == connections, 15, f"{connections} QUITs")
    assert "timeout after" not in postfix.maillog()


def test_a_cached_connection_the_server_closed_does_not_fail_the_next_delivery(relay_factory, postfix_factory,
                                                                                smtp_sink):
    port = free_port()
    postfix = postfix_factory([smtpd_listener(port, "smtpd_timeout=2s")],
                              {"relayhost": f"[127.0.0.1]:{smtp_sink.port}"})
    relay = relay_factory(port, smtp_connection_cache_destinations=f"[127.0.0.1]:{port}",
                          smtp_connection_cache_time_limit="300s")
    send(relay.port, "alice@example.org", ["bob@example.net"], "first")
    smtp_sink.wait_for(1)
    postfix.wait_log(r"timeout after END-OF-MESSAGE", timeout=15)
    send(relay.port, "alice@example.org", ["bob@example.net"], "second")
    smtp_sink.wait_for(2)
    wait_until(lambda: relay.log().count("status=sent") == 2, 15, "two deliveries logged")
    assert "status=deferred" not in relay.log()
    assert count(CONNECT, postfix.maillog()) == 2
