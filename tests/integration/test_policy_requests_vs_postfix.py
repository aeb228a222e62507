"""The policy request itself: filterd's relay and a real Postfix 3.7, configured alike, ask one recording policy
server at RCPT for the same session; the attributes are Postfix's (names, order, values), but for what names the
server and the session (ports, instance, queue id, version)."""

from __future__ import annotations

import socketserver
import threading

import pytest

from tests.harness import free_port
from tests.integration.test_restrictions_vs_postfix import pair, session

DIFFERENT = {"instance", "client_port", "server_port"}
"""What differs by server and by session."""


class Recorder(socketserver.ThreadingTCPServer):
    """A policy server that keeps each request (its attributes in order) and answers DUNNO."""

    allow_reuse_address = daemon_threads = True

    def __init__(self):
        self.requests: list[list[tuple[str, str]]] = []
        super().__init__(("127.0.0.1", free_port()), _Handler)
        threading.Thread(target=self.serve_forever, daemon=True).start()


class _Handler(socketserver.StreamRequestHandler):
    def handle(self) -> None:
        request: list[tuple[str, str]] = []
        for raw in self.rfile:
            line = raw.decode().rstrip("\n")
            if line:
                request.append(tuple(line.split("=", 1)))  # type: ignore[arg-type]
                continue
            self.server.requests.append(request)  # type: ignore[attr-defined]
            self.wfile.write(b"action=DUNNO\n\n")
            request = []


@pytest.fixture
def servers(mta_launcher):
    recorder = Recorder()
    try:
        restrictions = f"check_policy_service inet:127.0.0.1:{recorder.server_address[1]}, permit"
        yield recorder, pair(mta_launcher, "requests", {"smtpd_recipient_restrictions": restrictions})
    finally:
        recorder.shutdown()
        recorder.server_close()


def test_the_rcpt_request_is_postfix_s(servers):
    recorder, (postfix, filterd) = servers
    asked = {}
    for name, server in (("postfix", postfix), ("filterd", filterd)):
        before = len(recorder.requests)
        assert session(server.port, "client.example", "<a@ok.example>", "<user@local.example>")[2].startswith("250")
        asked[name] = recorder.requests[before]
    names = {name: [key for key, _ in request] for name, request in asked.items()}
    assert names["filterd"] == names["postfix"]
    values = {name: {key: value for key, value in request if key not in DIFFERENT} for name, request in asked.items()}
    assert values["filterd"] == values["postfix"]
    ports = {name: dict(request)["server_port"] for name, request in asked.items()}
    assert ports == {"postfix": str(postfix.port), "filterd": str(filterd.port)}
    assert dict(asked["filterd"])["server_address"] == "127.0.0.1"
