"""smtpd_upstream_proxy_protocol = haproxy against a real Postfix 3.7 configured alike: the same sessions (a good
version 1 or 2 handshake, LOCAL, a malformed one, SMTP without one, silence until smtpd_upstream_proxy_timeout) get
the same replies and the same smtpd log lines (the warning with Postfix's reason and escaped header, the proxied
client in `connect from`); and a real HAProxy (send-proxy, send-proxy-v2) in front of filterd's relay hands it
the client's own endpoints (its port, as a policy request shows) and the mail goes through."""

from __future__ import annotations

import re
import smtplib
import socket
import struct
import subprocess
import time

import pytest

from filterd.smtp.haproxy import V2_SIGNATURE
from tests.conftest import launched
from tests.harness import HOST, FilterdProcess, Postfix, Service, SmtpSink, free_port, wait_until
from tests.integration.test_policy_requests_vs_postfix import Recorder

pytestmark = pytest.mark.integration

SETTINGS = {"smtpd_upstream_proxy_protocol": "haproxy", "smtpd_upstream_proxy_timeout": "2s",
            "smtpd_error_sleep_time": "0", "smtpd_peername_lookup": "no", "inet_protocols": "ipv4", "smtpd_banner": "$myhostname ESMTP"}


class HAProxy(Service):
    """Debian's haproxy in TCP mode: 127.0.0.1:port to a backend, with the PROXY header `send` names."""

    name = "haproxy"

    def __init__(self, directory, backend: int, send: str):
        super().__init__(directory)
        self.port, self.backend, self.send = free_port(), backend, send

    def prepare(self) -> None:
        (self.directory / "haproxy.cfg").write_text(
            "defaults\n  mode tcp\n  timeout connect 5s\n  timeout client 30s\n  timeout server 30s\n"
            f"frontend smtp\n  bind {HOST}:{self.port}\n  default_backend mta\n"
            f"backend mta\n  server mta {HOST}:{self.backend} {self.send}\n")

    def command(self) -> list[str]:
        return ["haproxy", "-db", "-f", str(self.directory / "haproxy.cfg")]

    def ready(self) -> bool:
        with socket.socket() as sock:
            return sock.connect_ex((HOST, self.port)) == 0


@pytest.fixture(scope="module")
def servers():
    with launched("filterd-haproxy-") as launcher:
        sink = launcher.launch(SmtpSink(launcher.directory("sink")))
        recorder = Recorder()
        restrictions = f"check_policy_service inet:{HOST}:{recorder.server_address[1]}, permit"
        common = {**SETTINGS, "smtpd_recipient_restrictions": restrictions}
        postfix = launcher.launch(Postfix.relay(launcher.directory("postfix"), sink.port, common))
        port = free_port()
        filterd = launcher.launch(FilterdProcess(launcher.directory("filterd"), {
            **common, "filterd_listeners": f"relay:{HOST}:{port}", "relayhost": f"[{HOST}]:{sink.port}",
            "smtp_dns_support_level": "disabled"}, port=port))
        proxies = {send: launcher.launch(HAProxy(launcher.directory(send), port, send))
                   for send in ("send-proxy", "send-proxy-v2")}
        yield {"postfix": postfix, "filterd": filterd, "sink": sink, "recorder": recorder, "proxies": proxies}
        recorder.shutdown()
        recorder.server_close()


def v2(command: int, family: int, body: bytes) -> bytes:
    return V2_SIGNATURE + struct.pack("!BBH", 0x20 | command, family, len(body)) + body


V2_TCP4 = v2(1, 0x11, socket.inet_aton("192.0.2.7") + socket.inet_aton("198.51.100.1") + struct.pack("!HH", 4242, 25))
LOCAL_ERROR = "421 4.3.0 HOST Server local error"
"""What smtpd says after a bad handshake: the reset that follows (smtpd left the header unread) may beat it."""
SMTP = b"EHLO client.example\r\nQUIT\r\n"
SESSIONS = {
    "v1": b"PROXY TCP4 192.0.2.7 198.51.100.1 4242 25\r\n" + SMTP,
    "v1-tcp6": b"PROXY TCP6 2001:db8::7 2001:db8::1 4242 25\r\n" + SMTP,
    "v2": V2_TCP4 + SMTP,
    "v2-local": v2(0, 0, b"") + SMTP,
    "unknown": b"PROXY UNKNOWN\r\n" + SMTP,
    "bad-port": b"PROXY TCP4 192.0.2.7 198.51.100.1 04242 25\r\n" + SMTP,
    "no-header": SMTP,
    "binary": b"\x16\x03\x01\x00\xa5\x01\x00\x00\xa1\x03\x03",
}


def converse(port: int, data: bytes | None) -> list[str]:
    """Send `data` at once (None: nothing, until the server gives up); the replies until it hangs up (RESET: with
    a reset)."""
    with socket.create_connection((HOST, port), timeout=30) as sock:
        if data is not None:
            sock.sendall(data)
        received = b""
        try:
            while chunk := sock.recv(65536):
                received += chunk
        except ConnectionResetError:
            received += b"RESET\r\n"
    text = received.decode("utf-8", "replace").replace("postfix.test", "HOST").replace("filterd.test", "HOST")
    text = text.replace(f"{LOCAL_ERROR}\r\nRESET", "RESET")
    return [line for line in text.split("\r\n") if line and not line.startswith("250-")]


def smtpd_lines(read, before: int) -> list[str]:
    """The smtpd lines logged since line `before`, without the process name and pid."""
    return [re.sub(r"^.*?/smtpd\[\d+\]: ", "", line) for line in read().splitlines()[before:] if "/smtpd[" in line]


def both(servers, data: bytes | None) -> dict[str, tuple[list[str], list[str]]]:
    out = {}
    for name, read in (("postfix", servers["postfix"].maillog), ("filterd", servers["filterd"].log)):
        before = len(read().splitlines())
        replies = converse(servers[name].port, data)
        wait_until(lambda: any(line.startswith("disconnect from") for line in smtpd_lines(read, before)), 10,
                   f"{name}'s disconnect line")
        out[name] = (replies, smtpd_lines(read, before))
    return out


@pytest.mark.parametrize("session", SESSIONS)
def test_a_session_gets_postfix_s_replies_and_log_lines(servers, session):
    seen = both(servers, SESSIONS[session])
    assert seen["filterd"] == seen["postfix"]


def test_the_proxied_client_is_logged_and_a_bad_header_warned_about_with_its_bytes(servers):
    good = both(servers, SESSIONS["v1"])["filterd"][1]
    assert good[0] == "connect from unknown[192.0.2.7]"
    bad = both(servers, SESSIONS["unknown"])["filterd"][1]
    assert bad[:2] == ["warning: haproxy read: bad or missing protocol type: PROXY UNKNOWN\\r\\nEHLO client.example"
                       "\\r\\nQUIT\\r\\n", "connect from unknown[127.0.0.1]"]


def test_silence_until_the_timeout_is_postfix_s(servers):
    seen = both(servers, None)
    assert seen["filterd"] == seen["postfix"]
    assert seen["postfix"][1][0] == "warning: haproxy read: timeout error"


@pytest.mark.parametrize("send", ["send-proxy", "send-proxy-v2"])
def test_behind_a_real_haproxy_filterd_sees_the_client_s_own_endpoints(servers, send):
    proxy, recorder = servers["proxies"][send], servers["recorder"]
    before = len(recorder.requests)
    with smtplib.SMTP(HOST, proxy.port, local_hostname="client.example") as client:
        own_port = client.sock.getsockname()[1]
        client.sendmail("a@example.org", ["b@example.net"], f"Subject: via {send}\r\n\r\nhello\r\n")
    request = dict(recorder.requests[before])
    assert (request["client_address"], request["client_port"]) == (HOST, str(own_port))
    assert (request["server_address"], request["server_port"]) == (HOST, str(proxy.port))
    wait_until(lambda: any(f"via {send}".encode() in m for m in servers["sink"].messages()), 30, "the message")
