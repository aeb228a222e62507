"""The policy client against a tiny policy server written here, and against filterd's own policy listener:
Postfix's attributes sent, the connection reused, the limits obeyed, the default action when the server fails."""

from __future__ import annotations

import asyncio
import socket

import pytest

from filterd import Verdict, hookimpl
from filterd.chain import Chain
from filterd.config import Config, ConfigError
from filterd.model import Envelope, Session
from filterd.parameters import CORE_PARAMETERS
from filterd.policy.client import PolicyClient, PolicyClients
from filterd.policy.protocol import REQUEST_ATTRIBUTES, RecordReader
from filterd.policy.requests import request_attributes
from filterd.policy.services import PolicyService, parse_endpoint, read_service
from filterd.policy.server import PolicySettings, serve_policy
from filterd.testing import load_plugins

SESSION = Session(client_address="192.0.2.1", client_port=4321, client_name="client.example", helo="helo.example",
                  protocol="ESMTP", sasl_username="alice")
ENVELOPE = Envelope(queue_id="QID1", sender="a@example.org", recipients=["b@example.net"],
                    mail_options=["SIZE=1234"], arrival=1.5)


class TinyServer:
    """A policy server: each request recorded per connection, answered by `answers` in turn (an action, bytes sent
    as they are, or None: hang up)."""

    def __init__(self, *answers: str | bytes | None):
        self.answers = list(answers)
        self.connections: list[list[dict[str, str]]] = []

    async def serve(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        try:
            await self.answer(reader, writer)
        except asyncio.CancelledError:
            writer.close()

    async def answer(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        requests: list[dict[str, str]] = []
        self.connections.append(requests)
        framing = RecordReader()
        while data := await reader.read(4096):
            for record in framing.feed(data):
                requests.append(record)
                answer = self.answers.pop(0) if self.answers else "DUNNO"
                if answer is None:
                    writer.close()
                    return
                writer.write(answer if isinstance(answer, bytes) else f"action={answer}\n\n".encode())
        writer.close()


def ask(server: TinyServer | None, count: int, **settings) -> list[str]:
    """Each of `count` requests' actions from a client of the server (None: a port nobody listens on)."""
    async def run() -> list[str]:
        listening = await asyncio.start_server(server.serve, "127.0.0.1", 0) if server else None
        port = listening.sockets[0].getsockname()[1] if listening else closed_port()
        client = PolicyClient(PolicyService(f"inet:127.0.0.1:{port}", **settings))
        actions = [await client.ask(request_attributes(SESSION, ENVELOPE, "RCPT", "b@example.net"))
                   for _ in range(count)]
        client.close()
        if listening:
            listening.close()
        return actions
    return asyncio.run(run())


def closed_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def test_postfix_s_attributes_are_sent_in_its_order():
    attributes = request_attributes(SESSION, ENVELOPE, "RCPT", "b@example.net", "submission")
    assert tuple(attributes) == REQUEST_ATTRIBUTES
    assert {name: attributes[name] for name in ("request", "protocol_state", "protocol_name", "helo_name",
                                                "queue_id", "sender", "recipient", "recipient_count",
                                                "client_address", "client_name", "sasl_username", "size",
                                                "client_port", "policy_context")} == {
        "request": "smtpd_access_policy", "protocol_state": "RCPT", "protocol_name": "ESMTP",
        "helo_name": "helo.example", "queue_id": "QID1", "sender": "a@example.org", "recipient": "b@example.net",
        "recipient_count": "0", "client_address": "192.0.2.1", "client_name": "client.example",
        "sasl_username": "alice", "size": "1234", "client_port": "4321", "policy_context": "submission"}


def test_the_reverse_client_name_is_sent_even_when_it_is_not_confirmed():
    forged = Session(client_address="192.0.2.1", client_name="unknown", reverse_client_name="forged.example")
    attributes = request_attributes(forged, ENVELOPE, "RCPT", "b@example.net")
    assert (attributes["client_name"], attributes["reverse_client_name"]) == ("unknown", "forged.example")
    assert request_attributes(SESSION, ENVELOPE, "RCPT")["reverse_client_name"] == "client.example"


def test_at_data_the_count_is_sent_and_a_lone_recipient_too():
    attributes = request_attributes(SESSION, ENVELOPE, "DATA")
    assert (attributes["recipient_count"], attributes["recipient"]) == ("1", "b@example.net")


def test_one_connection_carries_every_request_and_each_gets_its_action():
    server = TinyServer("DUNNO", "REJECT no", "OK")
    assert ask(server, 3) == ["DUNNO", "REJECT no", "OK"]
    assert len(server.connections) == 1 and len(server.connections[0]) == 3
    assert server.connections[0][0]["recipient"] == "b@example.net"


def test_the_request_limit_and_max_ttl_open_new_connections():
    server = TinyServer()
    assert ask(server, 3, request_limit=2) == ["DUNNO"] * 3
    assert [len(requests) for requests in server.connections] == [2, 1]
    server = TinyServer()
    ask(server, 2, max_ttl=0)
    assert [len(requests) for requests in server.connections] == [1, 1]


def test_a_hang_up_is_tried_again_on_a_new_connection_without_a_warning_the_first_time(caplog):
    server = TinyServer(None, "HOLD")
    assert ask(server, 1, retry_delay=0) == ["HOLD"]
    assert len(server.connections) == 2
    assert caplog.records == []
    server = TinyServer(None, None)
    assert ask(server, 1, retry_delay=0) == ["451 4.3.5 Server configuration problem"]
    assert [record.getMessage().split(": ", 1)[1] for record in caplog.records] == ["Application error"]


def test_after_try_limit_failures_the_default_action_is_the_answer(caplog):
    assert ask(None, 1, retry_delay=0) == ["451 4.3.5 Server configuration problem"]
    warnings = [record.getMessage() for record in caplog.records]
    assert len(warnings) == 4 and warnings[0].startswith("connect to 127.0.0.1:")
    assert warnings[0].endswith(": Connection refused")
    assert warnings[1].startswith("problem talking to server 127.0.0.1:")
    server = TinyServer(None, None, None)
    assert ask(server, 1, retry_delay=0, try_limit=3, default_action="DUNNO") == ["DUNNO"]
    assert len(server.connections) == 3


def test_a_reply_without_an_action_or_no_reply_in_time_is_a_failure(caplog):
    assert ask(TinyServer(b"result=DUNNO\n\n"), 1, try_limit=1, default_action="DUNNO") == ["DUNNO"]
    assert "problem talking to server" in caplog.text
    assert ask(TinyServer(), 1, timeout=0, try_limit=1) == ["451 4.3.5 Server configuration problem"]
    assert "Connection timed out" in caplog.text


class RefuseBad:
    @hookimpl
    def rcpt(self, recipient):
        return Verdict.reject("5.1.1 no such user") if recipient.startswith("bad@") else None


def test_the_client_against_filterd_s_own_policy_listener():
    async def run() -> list[str]:
        sock = socket.socket()
        sock.bind(("127.0.0.1", 0))
        sock.listen(8)
        sock.setblocking(False)
        server = await serve_policy(sock, Chain(load_plugins(RefuseBad())), PolicySettings())
        client = PolicyClient(PolicyService(f"inet:127.0.0.1:{sock.getsockname()[1]}"))
        actions = [await client.ask(request_attributes(SESSION, ENVELOPE, "RCPT", recipient))
                   for recipient in ("a@example.net", "bad@example.net")]
        client.close()
        server.close()
        return actions
    assert asyncio.run(run()) == ["DUNNO", "550 5.1.1 no such user"]


def test_settings_come_from_main_cf_with_the_service_s_own_over_them():
    config = Config([("smtpd_policy_service_timeout", "20s", 1), ("queue_directory", "/q", 2)], CORE_PARAMETERS)
    service = PolicyService.from_config(config, "unix:private/policy", {"default_action": "DUNNO"})
    assert (service.timeout, service.default_action, service.try_limit) == (20.0, "DUNNO", 2)
    assert parse_endpoint(service.endpoint, "/q") == ("/q/private/policy", 0)
    assert parse_endpoint("inet:[::1]:9998") == ("::1", 9998)
    with pytest.raises(ConfigError, match="bad time value"):
        PolicyService.from_config(config, "inet:127.0.0.1:9998", {"timeout": "soon"})
    with pytest.raises(ValueError, match='bad policy service "tcp:x"'):
        PolicyService.from_config(config, "tcp:x")
    clients = PolicyClients.from_config(config)
    client = clients.client("inet:127.0.0.1:9998", {"timeout": "5s"})
    assert clients.client("inet:127.0.0.1:9998", {"timeout": "5s"}) is client
    assert (client.service.timeout, client.service.max_idle) == (5.0, 300.0)


def test_check_policy_service_s_syntax_with_settings_in_braces():
    assert read_service("inet:127.0.0.1:9998") == ("inet:127.0.0.1:9998", {})
    assert read_service("{ inet:host:9998, timeout=10s, default_action=DUNNO policy_context=submission }") == (
        "inet:host:9998", {"timeout": "10s", "default_action": "DUNNO", "policy_context": "submission"})
    assert read_service("{ unix:private/policy, { default_action = 451 4.3.5 See http://x.example/, ok } }") == (
        "unix:private/policy", {"default_action": "451 4.3.5 See http://x.example/, ok"})


@pytest.mark.parametrize("word, message", [
    ("inet:host", 'bad policy service "inet:host"'),
    ("{ inet:host:1, timeout }", 'missing "=" in policy service setting "timeout"'),
    ("{ inet:host:1, tiemout=1s }", 'unknown policy service setting "tiemout"'),
    ("{ inet:host:1, timeout=soon }", 'smtpd_policy_service_timeout \\(override\\): bad time value "soon"'),
    ("{ }", "empty policy service definition"),
    ("{ inet:host:1", 'missing "}"'),
])
def test_a_bad_service_says_what_is_wrong(word, message):
    with pytest.raises(ValueError, match=message):
        read_service(word)


def test_requests_in_flight_at_once_each_have_a_connection_kept_for_the_next():
    server = TinyServer()

    async def run() -> list[str]:
        listening = await asyncio.start_server(server.serve, "127.0.0.1", 0)
        client = PolicyClient(PolicyService(f"inet:127.0.0.1:{listening.sockets[0].getsockname()[1]}"))
        request = request_attributes(SESSION, ENVELOPE, "RCPT", "b@example.net")
        actions = list(await asyncio.gather(client.ask(request), client.ask(request)))
        actions.append(await client.ask(request))
        client.close()
        listening.close()
        return actions
    assert asyncio.run(run()) == ["DUNNO"] * 3
    assert sorted(len(requests) for requests in server.connections) == [1, 2]
