"""STARTTLS and implicit TLS against a real Postfix configured the same way, with the same certificate: the replies,
the log lines, the Received: header and the session summary; openssl s_client and swaks as clients; and the SMTP
client's TLS (smtp_tls_security_level) from filterd's proxy and relay to a Postfix smtpd."""

from __future__ import annotations

import re
import socket
import ssl
import subprocess

import pytest

from tests.certificates import make_certificate
from tests.conftest import Launcher, require_programs
from tests.harness import (FilterdProcess, Postfix, SmtpSink, free_port, make_workdir, read_text, smtpd_listener,
                           swaks, wait_until)

pytestmark = pytest.mark.integration

COMMON = {"smtpd_error_sleep_time": "0", "mynetworks": "127.0.0.0/8"}
KINDS = {
    "may": {"smtpd_tls_security_level": "may"},
    "encrypt": {"smtpd_tls_security_level": "encrypt"},
    "none": {"smtpd_tls_security_level": "none"},
    "broken": {"smtpd_tls_security_level": "may", "smtpd_tls_cert_file": "/nonexistent/cert.pem",
               "smtpd_tls_key_file": "/nonexistent/key.pem"},
    "wrapper": {"smtpd_tls_wrappermode": "yes"},
}
"""Each kind of listener, once in Postfix's master.cf (-o) and once as a filterd of its own."""


class Client:
    """A plain socket client that can start TLS in the middle, and reads whole replies."""

    def __init__(self, port: int, implicit: bool = False) -> None:
        self.sock: socket.socket = socket.create_connection(("127.0.0.1", port), timeout=30)
        self.file = self.sock.makefile("rb")
        if implicit:
            self.start_tls()
        self.greeting = self.reply()

    def start_tls(self) -> str:
        """The TLS handshake, nothing checked; returns the protocol version."""
        context = ssl.create_default_context()
        context.check_hostname, context.verify_mode = False, ssl.CERT_NONE
        self.sock = context.wrap_socket(self.sock)
        self.file = self.sock.makefile("rb")
        return self.sock.version() or ""

    def send(self, data: bytes) -> None:
        self.sock.sendall(data)

    def reply(self) -> str:
        lines = []
        while not lines or lines[-1][3:4] != " ":
            line = self.file.readline()
            if not line:
                break
            lines.append(line.decode().rstrip("\r\n"))
        return "\n".join(lines)

    def command(self, line: str) -> str:
        self.send(line.encode() + b"\r\n")
        return self.reply()

    def close(self) -> None:
        self.file.close()
        self.sock.close()


def converse(port: int, steps: list[str], implicit: bool = False) -> list[str]:
    """Each step's reply; the step TLS starts the handshake and its 'reply' is the protocol version."""
    client = Client(port, implicit)
    try:
        return [client.start_tls() if step == "TLS" else client.command(step) for step in steps]
    finally:
        client.close()


def ehlo_keywords(reply: str) -> list[str]:
    return [line[4:] for line in reply.splitlines()[1:]]


@pytest.fixture(scope="module")
def servers():
    require_programs()
    launcher = Launcher(make_workdir("filterd-tls-"))
    try:
        cert, key = make_certificate(launcher.root / "certs", "localhost")
        tls = {"smtpd_tls_cert_file": str(cert), "smtpd_tls_key_file": str(key), "smtpd_tls_loglevel": "1",
               "smtpd_tls_received_header": "yes"}
        sink = launcher.launch(SmtpSink(launcher.directory("sink")))
        ports = {kind: free_port() for kind in KINDS}
        listeners = [smtpd_listener(ports[kind], *(f"{k}={v}" for k, v in settings.items()))
                     for kind, settings in KINDS.items()]
        postfix = launcher.launch(Postfix(launcher.directory("postfix"), listeners,
                                          {**COMMON, **tls, "relayhost": f"[127.0.0.1]:{sink.port}"}))
        filterds = {}
        for kind, settings in KINDS.items():
            port = free_port()
            filterds[kind] = launcher.launch(FilterdProcess(launcher.directory(f"filterd-{kind}"), {
                **COMMON, **tls, **settings, "filterd_listeners": f"sink:127.0.0.1:{port}",
                "filterd_sink_directory": str(launcher.root / f"stored-{kind}")}, port=port))
        yield {"postfix": postfix, "ports": ports, "filterd": filterds, "sink": sink, "cert": cert, "key": key,
               "launcher": launcher}
    finally:
        launcher.stop_all()


def both(servers, kind: str, steps: list[str], implicit: bool = False) -> tuple[list[str], list[str]]:
    """The replies of Postfix's and filterd's listener of one kind to the same steps."""
    theirs = converse(servers["ports"][kind], steps, implicit)
    return ([reply.replace("postfix.test", "filterd.test") for reply in theirs],
            converse(servers["filterd"][kind].port, steps, implicit))


def test_starttls_is_offered_where_postfix_offers_it_and_not_again_once_active(servers):
    postfix, filterd = both(servers, "may", ["EHLO client.example", "STARTTLS", "TLS", "EHLO client.example"])
    assert "STARTTLS" in ehlo_keywords(postfix[0]) and "STARTTLS" in ehlo_keywords(filterd[0])
    assert ehlo_keywords(filterd[0]) == ehlo_keywords(postfix[0])
    assert postfix[1:3] == filterd[1:3] == ["220 2.0.0 Ready to start TLS", "TLSv1.3"]
    assert "STARTTLS" not in ehlo_keywords(postfix[3]) and "STARTTLS" not in ehlo_keywords(filterd[3])


def test_bad_starttls_commands_get_postfix_s_replies(servers):
    steps = ["EHLO client.example", "STARTTLS now", "MAIL FROM:<a@example.org>", "STARTTLS", "TLS",
             "RCPT TO:<b@example.net>", "STARTTLS", "QUIT"]
    postfix, filterd = both(servers, "may", steps)
    assert filterd[1:] == postfix[1:]
    assert filterd[1] == "501 5.5.4 Syntax: STARTTLS" and filterd[6] == "554 5.5.1 Error: TLS already active"
    assert filterd[5] == "503 5.5.1 Error: need MAIL command"


@pytest.mark.parametrize("kind, reply", [("none", "502 5.5.1 Error: command not implemented"),
                                         ("broken", "454 4.7.0 TLS not available due to local problem")])
def test_starttls_where_it_cannot_be_had(servers, kind, reply):
    postfix, filterd = both(servers, kind, ["EHLO client.example", "STARTTLS", "NOOP"])
    assert filterd[1:] == postfix[1:] == [reply, "250 2.0.0 Ok"]
    assert ("STARTTLS" in ehlo_keywords(filterd[0])) is (kind == "broken")


def test_a_certificate_that_cannot_be_loaded_is_logged_as_postfix_logs_it(servers):
    log = servers["filterd"]["broken"].log()
    assert 'warning: cannot get RSA certificate from file "/nonexistent/cert.pem": disabling TLS support' in log
    assert "warning: TLS library problem: No such file or directory" in log


def test_encrypt_refuses_mail_before_starttls_as_postfix(servers):
    steps = ["EHLO client.example", "MAIL FROM:<a@example.org>", "RSET", "VRFY a", "HELO client.example", "NOOP",
             "STARTTLS", "TLS", "MAIL FROM:<a@example.org>", "QUIT"]
    postfix, filterd = both(servers, "encrypt", steps)
    assert filterd[1:] == postfix[1:]
    assert filterd[1] == "530 5.7.0 Must issue a STARTTLS command first" and filterd[8] == "250 2.1.0 Ok"


def test_commands_pipelined_after_starttls_are_discarded(servers):
    """CVE-2011-0411: MAIL sent in the same packet as STARTTLS must not be answered inside the TLS session."""
    for port in (servers["ports"]["may"], servers["filterd"]["may"].port):
        client = Client(port)
        try:
            client.command("EHLO client.example")
            client.send(b"STARTTLS\r\nMAIL FROM:<injected@example.org>\r\n")
            assert client.reply() == "220 2.0.0 Ready to start TLS"
            assert client.start_tls() == "TLSv1.3"
            assert client.command("NOOP") == "250 2.0.0 Ok"
            assert client.command("RCPT TO:<b@example.net>") == "503 5.5.1 Error: need MAIL command"
        finally:
            client.close()


def test_implicit_tls_greets_inside_tls_and_refuses_starttls(servers):
    postfix, filterd = both(servers, "wrapper", ["EHLO client.example", "STARTTLS", "MAIL FROM:<a@example.org>"],
                            implicit=True)
    assert filterd[1:] == postfix[1:] == ["554 5.5.1 Error: TLS already active", "250 2.1.0 Ok"]
    assert "STARTTLS" not in ehlo_keywords(filterd[0])


def established(log: str) -> str:
    lines = re.findall(r"Anonymous TLS connection established from .*", log)
    assert lines, "no TLS connection established line"
    return lines[-1]


def test_a_message_over_tls_is_logged_and_stamped_as_postfix_does(servers):
    steps = ["EHLO client.example", "STARTTLS", "TLS", "EHLO client.example", "MAIL FROM:<a@example.org>",
             "RCPT TO:<b@example.net>", "DATA", "Subject: tls\r\n\r\nbody\r\n.", "QUIT"]
    postfix, filterd = both(servers, "may", steps)
    assert filterd[7].startswith("250 2.0.0 Ok: queued as") and postfix[7].startswith("250 2.0.0 Ok: queued as")
    theirs = established("\n".join(servers["postfix"].wait_log("Anonymous TLS connection established")))
    ours = established(servers["filterd"]["may"].log())
    assert ours == theirs and " key-exchange X25519 server-signature RSA-PSS (2048 bits) server-digest SHA256" in ours
    ours_received, theirs_received = received(servers, "may"), received_at_sink(servers)
    assert theirs_received.replace("postfix.test", "filterd.test") == ours_received
    assert ours_received.endswith("with ESMTPS")


def received(servers, kind: str) -> str:
    """The (using ...) and (No client certificate ...) lines of the last message filterd stored."""
    directory = servers["launcher"].root / f"stored-{kind}"
    wait_until(lambda: any(directory.iterdir()) if directory.exists() else False, 10, "a stored message")
    text = max(directory.iterdir(), key=lambda p: p.stat().st_mtime).read_text()
    return tls_lines(text)


def received_at_sink(servers) -> str:
    wait_until(lambda: servers["sink"].received() >= 1, 30, "Postfix's message at smtp-sink")
    return tls_lines(servers["sink"].messages()[-1].decode())


def tls_lines(message: str) -> str:
    """From `(using` to the end of `(No client certificate requested)`, key-exchange words and all."""
    found = re.search(r"\t\(using .*?\(No client certificate requested\)\r?\n\tby \S+ \(\w+\) with ESMTPS", message,
                      re.S)
    assert found, message
    return re.sub(r"\(\w+\) with", "with", found.group()).replace("\r\n", "\n")


def test_the_session_summary_counts_starttls_as_postfix(servers):
    steps = ["EHLO client.example", "STARTTLS x", "STARTTLS", "TLS", "EHLO client.example", "QUIT"]
    both(servers, "may", steps)
    pattern = r"disconnect from localhost\[127.0.0.1\] ehlo=2 starttls=1/2 .*"
    theirs = servers["postfix"].wait_log(pattern)[-1]
    wait_until(lambda: re.search(pattern, servers["filterd"]["may"].log()), 10, "filterd's disconnect line")
    ours = re.findall(pattern, servers["filterd"]["may"].log())[-1]
    assert theirs.endswith(ours)


def test_openssl_s_client_starttls_smtp(servers):
    result = subprocess.run(["openssl", "s_client", "-starttls", "smtp", "-brief", "-ign_eof", "-connect",
                             f"127.0.0.1:{servers['filterd']['may'].port}"], input="QUIT\r\n",
                            capture_output=True, text=True, timeout=30)
    assert "Protocol version: TLSv1.3" in result.stderr and "221 2.0.0 Bye" in result.stdout


@pytest.mark.parametrize("kind, option", [("may", "--tls"), ("encrypt", "--tls"), ("wrapper", "--tls-on-connect")])
def test_swaks_sends_over_tls(servers, kind, option):
    result = swaks("--server", f"127.0.0.1:{servers['filterd'][kind].port}", option, "--from", "a@example.org",
                   "--to", "b@example.net", "--ehlo", "client.example")
    assert result.returncode == 0, result.stdout + result.stderr
    assert "250 2.0.0 Ok: queued as" in result.stdout


def test_swaks_without_tls_is_refused_where_tls_is_required(servers):
    result = swaks("--server", f"127.0.0.1:{servers['filterd']['encrypt'].port}", "--from", "a@example.org",
                   "--to", "b@example.net")
    assert result.returncode != 0 and "530 5.7.0 Must issue a STARTTLS command first" in result.stdout


def proxy(servers, name: str, nexthop_port: int, settings: dict[str, str]) -> FilterdProcess:
    launcher = servers["launcher"]
    return launcher.launch(FilterdProcess(launcher.directory(name), {
        **COMMON, "smtp_tls_loglevel": "1", **settings}, nexthop_port=nexthop_port))


def send(port: int) -> subprocess.CompletedProcess[str]:
    return swaks("--server", f"127.0.0.1:{port}", "--from", "a@example.org", "--to", "b@example.net")


def test_the_proxy_s_next_hop_over_tls(servers):
    filterd = proxy(servers, "proxy-encrypt", servers["ports"]["may"], {"smtp_tls_security_level": "encrypt"})
    result = send(filterd.port)
    assert result.returncode == 0, result.stdout
    port = servers["ports"]["may"]
    assert re.search(rf"filterd/smtpd\[\d+\]: Untrusted TLS connection established to 127.0.0.1\[127.0.0.1\]:{port}:"
                     r" TLSv1.3 with cipher \S+ \(\d+/\d+ bits\)", filterd.log())


def test_the_proxy_defers_when_the_next_hop_offers_no_tls(servers):
    filterd = proxy(servers, "proxy-none", servers["ports"]["none"], {"smtp_tls_security_level": "encrypt"})
    result = send(filterd.port)
    assert "451 4.3.0 Error: queue file write error" in result.stdout
    assert "TLS is required, but was not offered by host 127.0.0.1[127.0.0.1]" in filterd.log()


def test_verify_refuses_a_certificate_no_authority_signed(servers, tmp_path):
    other, _ = make_certificate(tmp_path, "localhost")
    filterd = proxy(servers, "proxy-verify", servers["ports"]["may"],
                    {"smtp_tls_security_level": "verify", "smtp_tls_CAfile": str(other)})
    assert "451 4.3.0" in send(filterd.port).stdout
    assert "Cannot start TLS: handshake failure with 127.0.0.1[127.0.0.1]" in filterd.log()


def test_verify_accepts_the_certificate_its_authority_signed(servers):
    filterd = proxy(servers, "proxy-verified", servers["ports"]["may"],
                    {"smtp_tls_security_level": "verify", "smtp_tls_CAfile": str(servers["cert"])})
    result = send(filterd.port)
    assert result.returncode == 0, result.stdout + filterd.log()
    assert "Verified TLS connection established to" in filterd.log()


def test_relay_delivery_over_tls(servers):
    launcher, port = servers["launcher"], free_port()
    filterd = launcher.launch(FilterdProcess(launcher.directory("relay"), {
        **COMMON, "filterd_listeners": f"relay:127.0.0.1:{port}", "smtp_dns_support_level": "disabled",
        "relayhost": f"[127.0.0.1]:{servers['ports']['may']}", "smtp_tls_security_level": "encrypt",
        "smtp_tls_loglevel": "1"}, port=port))
    assert send(port).returncode == 0
    wait_until(lambda: "status=sent" in read_text(filterd.log_path), 30, "the delivery", filterd.check_alive)
    assert re.search(r"filterd/smtp\[\d+\]: Untrusted TLS connection established to 127.0.0.1\[127.0.0.1\]", filterd.log())



HALF_HELLO = bytes.fromhex("160301")
"""The first bytes of a TLS record, the rest never sent."""


@pytest.mark.parametrize("sent", [b"", HALF_HELLO], ids=["nothing", "half-a-hello"])
def test_a_client_that_hangs_up_in_the_handshake_is_logged_at_once_as_postfix(servers, sent):
    for port in (servers["ports"]["may"], servers["filterd"]["may"].port):
        client = Client(port)
        client.command("EHLO hangup.example")
        assert client.command("STARTTLS").startswith("220 ")
        client.send(sent)
        client.close()
    pattern = r"disconnect from localhost\[127.0.0.1\] ehlo=1 starttls=0/1 commands=1/2"
    theirs = servers["postfix"].wait_log(pattern)[-1]
    wait_until(lambda: re.search(pattern, servers["filterd"]["may"].log()), 10, "filterd's disconnect line")
    lost = r"SSL_accept error from localhost\[127.0.0.1\]: lost connection\n.*lost connection after STARTTLS from "
    assert re.search(lost, servers["postfix"].maillog()) and re.search(lost, servers["filterd"]["may"].log())
    assert theirs.endswith(re.findall(pattern, servers["filterd"]["may"].log())[-1])
