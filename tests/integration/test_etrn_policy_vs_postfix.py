"""check_policy_service in smtpd_etrn_restrictions, in filterd's relay and in a real Postfix 3.7, both asking one
policy server that records what it is asked: the same requests' protocol_state and etrn_domain, the same replies
and the same reject lines."""

from __future__ import annotations

import socket
import threading

import pytest

from tests.integration.test_vrfy_etrn_vs_postfix import launcher, replies, servers, smtpd_lines  # noqa: F401

pytestmark = pytest.mark.integration

COMMANDS = ["EHLO client.example", "ETRN example.com", "ETRN @sub.example.com", "ETRN ok.example", "QUIT"]


class RecordingPolicy:
    """A policy server that refuses ETRN for example.com and its subdomains, naming the domain, and keeps every
    request's protocol_state and etrn_domain."""

    def __init__(self) -> None:
        self.sock = socket.create_server(("127.0.0.1", 0))
        self.port = self.sock.getsockname()[1]
        self.asked: list[tuple[str, str]] = []
        threading.Thread(target=self.serve, daemon=True).start()

    def serve(self) -> None:
        while True:
            try:
                connection, _ = self.sock.accept()
            except OSError:
                return
            threading.Thread(target=self.answer, args=(connection,), daemon=True).start()

    def answer(self, connection: socket.socket) -> None:
        with connection, connection.makefile("rb") as lines:
            request: dict[str, str] = {}
            for raw in lines:
                line = raw.decode().rstrip("\n")
                if line:
                    name, _, value = line.partition("=")
                    request[name] = value
                    continue
                domain = request.get("etrn_domain", "")
                self.asked.append((request.get("protocol_state", ""), domain))
                refused = domain.endswith("example.com")
                connection.sendall(f"action={'REJECT no flush for ' + domain if refused else 'DUNNO'}\n\n".encode())
                request = {}

    def close(self) -> None:
        self.sock.close()


def test_the_policy_server_is_asked_about_the_etrn_domain_as_by_postfix(launcher):  # noqa: F811
    policy = RecordingPolicy()
    try:
        postfix, filterd = servers(launcher, {"smtpd_etrn_restrictions": f"check_policy_service inet:127.0.0.1:"
                                                                         f"{policy.port}",
                                              "fast_flush_domains": "ok.example"})
        theirs = replies(postfix.port, COMMANDS)
        asked_by_postfix, policy.asked = policy.asked, []
        ours = replies(filterd.port, COMMANDS)
        etrn = [index for index, command in enumerate(COMMANDS) if command.startswith("ETRN")]
        assert [ours[index] for index in etrn] == [theirs[index] for index in etrn]
        assert ours[1][1] == "554 5.7.1 <example.com>: Etrn command rejected: no flush for example.com"
        assert policy.asked == asked_by_postfix == [("ETRN", "example.com"), ("ETRN", "sub.example.com"),
                                                    ("ETRN", "ok.example")]
        reject = [line for line in smtpd_lines(filterd.log_path) if "reject:" in line]
        assert reject == [line for line in smtpd_lines(postfix.maillog_path) if "reject:" in line]
    finally:
        policy.close()
