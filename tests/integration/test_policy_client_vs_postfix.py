"""filterd's policy client beside Postfix's check_policy_service, against the same broken policy servers (a port
nobody listens on, a server that hangs up on every request): the same warnings, in the same order, and the same
default action."""

from __future__ import annotations

import asyncio
import re
import smtplib
import socket
import threading

import pytest

from filterd.config import Config
from filterd.model import Envelope, Session
from filterd.parameters import CORE_PARAMETERS
from filterd.policy.client import PolicyClient
from filterd.policy.requests import request_attributes
from filterd.policy.services import PolicyService
from tests.harness import free_port


class HangingUp:
    """A policy server that reads each request and closes the connection without a reply."""

    def __init__(self):
        self.sock = socket.socket()
        self.sock.bind(("127.0.0.1", 0))
        self.sock.listen(8)
        self.port = self.sock.getsockname()[1]
        self.thread = threading.Thread(target=self.serve, daemon=True)
        self.thread.start()

    def serve(self) -> None:
        while True:
            try:
                connection, _ = self.sock.accept()
            except OSError:
                return
            with connection:
                connection.recv(65536)

    def close(self) -> None:
        self.sock.shutdown(socket.SHUT_RDWR)
        self.sock.close()
        self.thread.join()


@pytest.fixture
def hanging_up():
    server = HangingUp()
    yield server
    server.close()


def services(closed: int, hanging: int) -> list[tuple[str, dict[str, str]]]:
    return [(f"inet:127.0.0.1:{closed}", {"default_action": "DUNNO"}), (f"inet:127.0.0.1:{hanging}", {})]


def postfix_restriction(endpoint: str, overrides: dict[str, str]) -> str:
    settings = "".join(f", {name}={value}" for name, value in overrides.items())
    return f"check_policy_service {{{endpoint}{settings}}}" if settings else f"check_policy_service {endpoint}"


def filterd_answers(closed: int, hanging: int, caplog) -> tuple[list[str], list[str]]:
    """Each service's action as filterd's client gets it, and the warnings it logged."""
    config = Config([], CORE_PARAMETERS)

    async def run() -> list[str]:
        actions = []
        for endpoint, overrides in services(closed, hanging):
            client = PolicyClient(PolicyService.from_config(config, endpoint, overrides))
            actions.append(await client.ask(request_attributes(Session(), Envelope(), "RCPT", "b@example.net")))
            client.close()
        return actions
    actions = asyncio.run(run())
    return actions, [record.getMessage() for record in caplog.records if record.levelname == "WARNING"]


def test_the_client_warns_and_falls_back_as_postfix_does(smtp_sink, postfix_factory, hanging_up, caplog):
    closed = free_port()
    restrictions = ", ".join(postfix_restriction(*service) for service in services(closed, hanging_up.port))
    postfix = postfix_factory.relay(smtp_sink.port, {"smtpd_recipient_restrictions": restrictions})
    with smtplib.SMTP("127.0.0.1", postfix.port, timeout=30) as client:
        client.ehlo()
        client.mail("a@example.org")
        code, text = client.rcpt("b@example.net")
    assert (code, text) == (451, b"4.3.5 <b@example.net>: Recipient address rejected: Server configuration problem")
    postfix.wait_log(r"NOQUEUE: reject: RCPT")
    postfix_warnings = re.findall(r"smtpd\[\d+\]: warning: (.*)", postfix.maillog())
    actions, warnings = filterd_answers(closed, hanging_up.port, caplog)
    assert actions == ["DUNNO", "451 4.3.5 Server configuration problem"]
    assert warnings == postfix_warnings
