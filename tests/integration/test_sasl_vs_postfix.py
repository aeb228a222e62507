"""SMTP AUTH against a real Dovecot auth service, filterd beside a real Postfix 3.7 with smtpd_sasl_type = dovecot
asking the same Dovecot: the same replies to every dialogue, the same warnings, the same client= line and
Received: header. Postfix asks Dovecot's loopback port, filterd its unix socket."""

from __future__ import annotations

import base64
import re
import socket
import ssl

import pytest

from tests.certificates import make_certificate
from tests.conftest import Launcher, launched, require_programs
from tests.fixtures.dovecot import Dovecot
from tests.harness import CLIENT, FilterdProcess, MtaError, Postfix, SmtpSink, free_port, make_workdir, read_text, \
    swaks, wait_until

pytestmark = pytest.mark.integration

SASL = {"smtpd_sasl_auth_enable": "yes", "smtpd_sasl_type": "dovecot", "smtpd_sasl_authenticated_header": "yes",
        "smtpd_error_sleep_time": "0"}


def b64(text: str) -> str:
    return base64.b64encode(text.encode()).decode()


PLAIN_OK = b64("\0alice\0secret")
PLAIN_WRONG = b64("\0alice\0wrong")


class Servers:
    """Dovecot, smtp-sink, Postfix relaying to it, and filterd proxying to it, with AUTH on both."""

    def __init__(self, launcher: Launcher):
        self.dovecot = launcher.launch(Dovecot(launcher.directory("dovecot")))
        self.sink = launcher.launch(SmtpSink(launcher.directory("sink")))
        self.postfix = launcher.launch(Postfix.relay(launcher.directory("postfix"), self.sink.port, {
            **SASL, "smtpd_sasl_path": self.dovecot.inet_path}))
        self.filterd = launcher.launch(FilterdProcess(launcher.directory("filterd"), {
            **SASL, "smtpd_sasl_path": self.dovecot.socket_path}, nexthop_port=self.sink.port))


@pytest.fixture(scope="module")
def servers():
    require_programs()
    launcher = Launcher(make_workdir("filterd-sasl-"))
    try:
        yield Servers(launcher)
    finally:
        launcher.stop_all()


def dialogue(port: int, *lines: str, ehlo: bool = True) -> list[str]:
    """The last line of each reply to `lines`, sent one at a time after the greeting (and EHLO)."""
    with socket.create_connection(("127.0.0.1", port), timeout=30) as sock:
        replies = sock.makefile("rb")
        read_reply(replies)
        if ehlo:
            sock.sendall(b"EHLO client.example\r\n")
            read_reply(replies)
        answers = []
        for line in (*lines, "QUIT"):
            sock.sendall(line.encode() + b"\r\n")
            answers.append(read_reply(replies))
        return answers


def read_reply(replies) -> str:
    while True:
        line = replies.readline().decode().rstrip("\r\n")
        if line[3:4] != "-":
            return line


def ehlo_keywords(port: int) -> list[str]:
    with socket.create_connection(("127.0.0.1", port), timeout=30) as sock:
        replies = sock.makefile("rb")
        read_reply(replies)
        sock.sendall(b"EHLO client.example\r\nQUIT\r\n")
        lines = []
        while (line := replies.readline().decode().rstrip("\r\n")).startswith(("220", "250-")):
            lines.append(line[4:])
        return lines[2:] + [line[4:]]


BYE = "221 2.0.0 Bye"
DIALOGUES = {
    "wrong password": ([f"AUTH PLAIN {PLAIN_WRONG}"],
                       ["535 5.7.8 Error: authentication failed: (reason unavailable)", BYE]),
    "wrong password by LOGIN": (["AUTH LOGIN", b64("alice"), b64("wrong")],
                                ["334 VXNlcm5hbWU6", "334 UGFzc3dvcmQ6",
                                 "535 5.7.8 Error: authentication failed: (reason unavailable)", BYE]),
    "malformed base64": (["AUTH PLAIN @@@", "AUTH PLAIN abc"],
                         ["535 5.7.8 Error: authentication failed: Invalid base64 data in initial response"] * 2
                         + [BYE]),
    "malformed base64 in a response": (["AUTH PLAIN", "!!", "AUTH LOGIN", "="],
                                       ["334 ", "535 5.7.8 Error: authentication failed: Invalid base64 data in "
                                        "continued response", "334 VXNlcm5hbWU6", "535 5.7.8 Error: "
                                        "authentication failed: Invalid base64 data in continued response", BYE]),
    "cancelled": (["AUTH PLAIN", "*", "AUTH LOGIN", b64("alice"), "*"],
                  ["334 ", "501 5.7.0 Authentication aborted", "334 VXNlcm5hbWU6", "334 UGFzc3dvcmQ6",
                   "501 5.7.0 Authentication aborted", BYE]),
    "unknown mechanism": (["AUTH CRAM-MD5", "AUTH FOO bar"],
                          ["535 5.7.8 Error: authentication failed: Invalid authentication mechanism"] * 2 + [BYE]),
    "syntax": (["AUTH", "AUTH PLAIN a b"], ["501 5.5.4 Syntax: AUTH mechanism"] * 2 + [BYE]),
    "twice": ([f"AUTH PLAIN {PLAIN_OK}", f"AUTH PLAIN {PLAIN_OK}"],
              ["235 2.7.0 Authentication successful", "503 5.5.1 Error: already authenticated", BYE]),
    "in a transaction": (["MAIL FROM:<a@example.org>", f"AUTH PLAIN {PLAIN_OK}", "RSET", f"AUTH PLAIN {PLAIN_OK}"],
                         ["250 2.1.0 Ok", "503 5.5.1 Error: MAIL transaction in progress", "250 2.0.0 Ok",
                          "235 2.7.0 Authentication successful", BYE]),
    "a response over smtpd_sasl_response_limit": (["AUTH PLAIN", "A" * 13000, "NOOP"],
                                                  ["334 ", "500 5.5.6 SASL response limit exceeded",
                                                   "250 2.0.0 Ok", BYE]),
    "two AUTH= in MAIL": ([f"AUTH PLAIN {PLAIN_OK}", "MAIL FROM:<a@example.org> AUTH=<a@example.org> AUTH=<>"],
                          ["235 2.7.0 Authentication successful", "503 5.5.4 Error: multiple AUTH= options", BYE]),
    "lower case, LOGIN": (["AUTH login", b64("bob@example.org"), b64("hunter2")],
                          ["334 VXNlcm5hbWU6", "334 UGFzc3dvcmQ6", "235 2.7.0 Authentication successful", BYE]),
}


@pytest.mark.parametrize("name", DIALOGUES)
def test_each_dialogue_gets_postfix_s_replies(servers, name):
    lines, expected = DIALOGUES[name]
    assert dialogue(servers.postfix.port, *lines) == expected
    assert dialogue(servers.filterd.port, *lines) == expected


def test_auth_before_ehlo_is_taken_as_postfix_takes_it_without_smtpd_helo_required(servers):
    expected = ["235 2.7.0 Authentication successful", BYE]
    assert dialogue(servers.postfix.port, f"AUTH PLAIN {PLAIN_OK}", ehlo=False) == expected
    assert dialogue(servers.filterd.port, f"AUTH PLAIN {PLAIN_OK}", ehlo=False) == expected


def test_ehlo_announces_dovecot_s_mechanisms_where_postfix_does(servers):
    postfix, filterd = ehlo_keywords(servers.postfix.port), ehlo_keywords(servers.filterd.port)
    assert "AUTH PLAIN LOGIN" in filterd
    assert filterd == postfix


def smtpd_lines(log: str, pattern: str) -> list[str]:
    """The text of the smtpd log lines matching `pattern`, after `smtpd[PID]: `."""
    return [line.split("]: ", 1)[1] for line in log.splitlines() if "smtpd[" in line and re.search(pattern, line)]


def test_failures_are_logged_as_postfix_logs_them_naming_the_last_user_dovecot_named(servers):
    lines = ["AUTH PLAIN @@@", f"AUTH plain {PLAIN_WRONG}", "AUTH LOGIN", "*", "AUTH FOO"]
    dialogue(servers.postfix.port, *lines)
    dialogue(servers.filterd.port, *lines)
    pattern = r"warning: .*: SASL (FOO|LOGIN|PLAIN|plain) authentication"
    wait_until(lambda: len(smtpd_lines(servers.postfix.maillog(), pattern)) >= 4, 10, "Postfix's warnings")
    wait_until(lambda: len(smtpd_lines(servers.filterd.log(), pattern)) >= 4, 10, "filterd's warnings")
    expected = [f"warning: {CLIENT}: SASL PLAIN authentication failed: Invalid base64 data in initial response, "
                "sasl_username=(unavailable)",
                f"warning: {CLIENT}: SASL plain authentication failed: (reason unavailable), sasl_username=alice",
                f"warning: {CLIENT}: SASL LOGIN authentication aborted",
                f"warning: {CLIENT}: SASL FOO authentication failed: Invalid authentication mechanism, "
                "sasl_username=alice"]
    assert smtpd_lines(servers.postfix.maillog(), pattern)[-4:] == expected
    assert smtpd_lines(servers.filterd.log(), pattern)[-4:] == expected


def test_swaks_auth_delivers_with_the_user_logged_and_in_the_received_header(servers):
    for port in (servers.postfix.port, servers.filterd.port):
        result = swaks("-s", f"127.0.0.1:{port}", "--from", "alice@example.org", "--to", "bob@example.net",
                       "--auth", "PLAIN", "--auth-user", "alice", "--auth-password", "secret",
                       "--header", f"Subject: sasl {port}")
        assert result.returncode == 0, result.stdout + result.stderr
    messages = servers.sink.wait_for(2)
    received = [authenticated_received(m) for m in messages if b"Subject: sasl" in m]
    assert received[0] == received[1] == ["\t(Authenticated sender: alice)", "ESMTPA"]
    pattern = r": client=.*sasl"
    expected = [f"client={CLIENT}, sasl_method=PLAIN, sasl_username=alice"]
    wait_until(lambda: smtpd_lines(servers.filterd.log(), pattern), 10, "filterd's client= line")
    assert [line.split(": ", 1)[1] for line in smtpd_lines(servers.postfix.maillog(), pattern)][-1:] == expected
    assert [line.split(": ", 1)[1] for line in smtpd_lines(servers.filterd.log(), pattern)][-1:] == expected


def authenticated_received(message: bytes) -> list[str]:
    """The Received: header the authenticating server added: its second line and its protocol."""
    text = message.decode()
    header = re.search(r"^Received: from [^\n]*\n\t\(Authenticated[^\n]*\n[^\n]*", text, re.M)
    assert header, text
    lines = header.group(0).split("\n")
    return [lines[1], re.search(r"with (\S+)", lines[2]).group(1)]


def test_swaks_auth_login_authenticates_a_user_with_a_domain(servers):
    result = swaks("-s", f"127.0.0.1:{servers.filterd.port}", "--from", "bob@example.org", "--to",
                   "carol@example.net", "--auth", "LOGIN", "--auth-user", "bob@example.org", "--auth-password",
                   "hunter2", "--quit-after", "AUTH")
    assert result.returncode == 0, result.stdout + result.stderr
    assert "235 2.7.0 Authentication successful" in result.stdout


def test_swaks_with_a_wrong_password_fails_with_535(servers):
    result = swaks("-s", f"127.0.0.1:{servers.filterd.port}", "--from", "alice@example.org", "--to",
                   "bob@example.net", "--auth", "PLAIN", "--auth-user", "alice", "--auth-password", "nope")
    assert result.returncode != 0
    assert "535 5.7.8 Error: authentication failed: (reason unavailable)" in result.stdout


def test_the_session_summary_counts_auth_as_postfix_does(servers):
    pattern = r"disconnect from .* auth=1/2 "
    before = len(smtpd_lines(servers.filterd.log(), pattern))
    dialogue(servers.filterd.port, f"AUTH PLAIN {PLAIN_WRONG}", f"AUTH PLAIN {PLAIN_OK}", "NOOP")
    wait_until(lambda: len(smtpd_lines(servers.filterd.log(), pattern)) > before, 10, "the disconnect line")
    assert smtpd_lines(servers.filterd.log(), pattern)[-1] == \
        f"disconnect from {CLIENT} ehlo=1 auth=1/2 noop=1 quit=1 commands=4/5"


@pytest.fixture
def filterd_with(servers, tmp_path):
    """A second filterd on the same Dovecot with more settings."""
    started = []

    def start(**settings: str) -> FilterdProcess:
        directory = make_workdir("filterd-sasl-more-")
        process = FilterdProcess(directory, {**SASL, "smtpd_sasl_path": servers.dovecot.inet_path, **settings},
                                 nexthop_port=servers.sink.port)
        started.append(process)
        return process.start()

    yield start
    for process in started:
        process.stop()


def test_noplaintext_leaves_no_mechanism_and_the_session_ends_before_its_greeting(filterd_with):
    filterd = filterd_with(smtpd_sasl_security_options="noanonymous, noplaintext")
    with socket.create_connection(("127.0.0.1", filterd.port), timeout=30) as sock:
        assert sock.recv(1024) == b""
    wait_until(lambda: "no SASL authentication mechanisms" in filterd.log(), 10, "the error")


def test_dovecot_down_ends_the_session_before_its_greeting_with_postfix_s_warning(filterd_with):
    dead = free_port()
    filterd = filterd_with(smtpd_sasl_path=f"inet:127.0.0.1:{dead}")
    with socket.create_connection(("127.0.0.1", filterd.port), timeout=30) as sock:
        assert sock.recv(1024) == b""
    wait_until(lambda: "no SASL authentication mechanisms" in filterd.log(), 10, "the error")
    assert f"warning: SASL: Connect to Dovecot auth socket 'inet:127.0.0.1:{dead}' failed: Connection refused" \
        in filterd.log()


def test_failed_auth_counts_toward_smtpd_hard_error_limit_and_ends_the_session(filterd_with):
    filterd = filterd_with(smtpd_hard_error_limit="2")
    with socket.create_connection(("127.0.0.1", filterd.port), timeout=30) as sock:
        replies = sock.makefile("rb")
        read_reply(replies)
        sock.sendall(f"EHLO client.example\r\nAUTH PLAIN {PLAIN_WRONG}\r\n".encode())
        read_reply(replies), read_reply(replies)
        sock.sendall(f"AUTH PLAIN {PLAIN_WRONG}\r\n".encode())
        assert [read_reply(replies), read_reply(replies), replies.read()] == [
            "535 5.7.8 Error: authentication failed: (reason unavailable)",
            "421 4.7.0 filterd.test Error: too many errors", b""]
    wait_until(lambda: f"too many errors after AUTH from {CLIENT}" in filterd.log(), 10, "the warning")


def test_an_over_long_auth_line_is_refused_as_every_over_long_command_and_the_session_goes_on(servers):
    assert dialogue(servers.filterd.port, "AUTH PLAIN " + "A" * 3000, f"AUTH PLAIN {PLAIN_OK}") == [
        "500 5.5.2 Error: command line too long", "235 2.7.0 Authentication successful", BYE]


def test_dovecot_lost_during_a_session_is_a_temporary_failure(filterd_with):
    dovecot = Dovecot(make_workdir("filterd-sasl-dovecot-")).start()
    try:
        filterd = filterd_with(smtpd_sasl_path=dovecot.inet_path)
        with socket.create_connection(("127.0.0.1", filterd.port), timeout=30) as sock:
            replies = sock.makefile("rb")
            read_reply(replies)
            dovecot.kill()
            sock.sendall(f"EHLO client.example\r\nAUTH PLAIN {PLAIN_OK}\r\nNOOP\r\n".encode())
            answers = [read_reply(replies) for _ in range(3)]
    finally:
        dovecot.stop()
    assert answers[1].startswith("454 4.7.0 Temporary authentication failure: ")
    assert answers[2] == "250 2.0.0 Ok"
    wait_until(lambda: "SASL PLAIN authentication failed: " in filterd.log(), 10, "the warning")


def test_smtpd_client_auth_rate_limit_refuses_auth_across_sessions_as_postfix(filterd_with):
    filterd = filterd_with(smtpd_client_auth_rate_limit="2", smtpd_client_event_limit_exceptions="")
    wrong = f"AUTH PLAIN {PLAIN_WRONG}"
    failed = "535 5.7.8 Error: authentication failed: (reason unavailable)"
    too_many = "450 4.7.1 Error: too many AUTH commands from 127.0.0.1"
    assert dialogue(filterd.port, wrong, wrong) == [failed, failed, BYE]
    assert dialogue(filterd.port, wrong, f"AUTH PLAIN {PLAIN_OK}") == [too_many, too_many, BYE]
    warning = f"warning: AUTH command rate limit exceeded: 4 from {CLIENT} for service 127.0.0.1:{filterd.port}"
    wait_until(lambda: warning in filterd.log(), 10, "the warning")


def test_broken_sasl_auth_clients_also_announces_auth_equals(filterd_with):
    filterd = filterd_with(broken_sasl_auth_clients="yes")
    keywords = ehlo_keywords(filterd.port)
    assert keywords[keywords.index("AUTH PLAIN LOGIN") + 1] == "AUTH=PLAIN LOGIN"


def test_an_unknown_sasl_type_stops_start_up_naming_it(tmp_path):
    filterd = FilterdProcess(make_workdir("filterd-sasl-bad-"), {**SASL, "smtpd_sasl_type": "cyrus"})
    with pytest.raises(MtaError) as failed:
        filterd.start()
    assert re.search(r"filterd: fatal: .*main.cf:\d+: smtpd_sasl_type: unsupported SASL server implementation "
                     r'"cyrus": expected dovecot', str(failed.value))
    assert "Traceback" not in str(failed.value)
    assert read_text(filterd.stderr_path).count("\n") == 1


def test_mail_from_s_auth_sender_is_on_the_client_line_as_written(servers):
    lines = [f"AUTH PLAIN {PLAIN_OK}", "MAIL FROM:<a@example.org> AUTH=a+2Bb@example.org", "RCPT TO:<b@example.net>",
             "RSET", "MAIL FROM:<a@example.org> AUTH=<>", "RCPT TO:<b@example.net>", "RSET"]
    for server in (servers.postfix, servers.filterd):
        assert dialogue(server.port, *lines)[2] == "250 2.1.5 Ok"
    pattern = r": client=.*, sasl_username=alice"
    expected = [f"client={CLIENT}, sasl_method=PLAIN, sasl_username=alice, sasl_sender=a+2Bb@example.org",
                f"client={CLIENT}, sasl_method=PLAIN, sasl_username=alice"]
    for log in (servers.postfix.maillog, servers.filterd.log):
        wait_until(lambda: "sasl_sender=a+2B" in log(), 10, "the client= line")
        wait_until(lambda: smtpd_lines(log(), pattern)[-1].split(": ", 1)[1] == expected[1], 10, "the next one")
        assert [line.split(": ", 1)[1] for line in smtpd_lines(log(), pattern)][-2:] == expected


@pytest.fixture(scope="module")
def tls_servers(servers):
    """Postfix and filterd with STARTTLS and smtpd_tls_auth_only, asking the same Dovecot."""
    launcher = Launcher(make_workdir("filterd-sasl-tls-"))
    try:
        cert, key = make_certificate(launcher.root / "certs", "localhost")
        tls = {**SASL, "smtpd_tls_security_level": "may", "smtpd_tls_cert_file": str(cert),
               "smtpd_tls_key_file": str(key), "smtpd_tls_auth_only": "yes"}
        postfix = launcher.launch(Postfix.relay(launcher.directory("postfix"), servers.sink.port, {
            **tls, "smtpd_sasl_path": servers.dovecot.inet_path}))
        filterd = launcher.launch(FilterdProcess(launcher.directory("filterd"), {
            **tls, "smtpd_sasl_path": servers.dovecot.socket_path}, nexthop_port=servers.sink.port))
        yield postfix, filterd
    finally:
        launcher.stop_all()


def tls_dialogue(port: int, *lines: str) -> list[str]:
    """EHLO, STARTTLS, the handshake, then each of `lines`: the last line of every reply, the EHLO keywords whole."""
    with socket.create_connection(("127.0.0.1", port), timeout=30) as plain:
        replies = plain.makefile("rb")
        read_reply(replies)
        plain.sendall(b"EHLO client.example\r\nSTARTTLS\r\n")
        read_reply(replies), read_reply(replies)
        context = ssl.create_default_context()
        context.check_hostname, context.verify_mode = False, ssl.CERT_NONE
        with context.wrap_socket(plain) as sock:
            replies = sock.makefile("rb")
            answers = []
            for line in lines:
                sock.sendall(line.encode() + b"\r\n")
                answers.append(read_reply(replies) if not line.startswith("EHLO") else read_ehlo(replies))
            return answers


def read_ehlo(replies) -> str:
    keywords = []
    while (line := replies.readline().decode().rstrip("\r\n"))[3:4] == "-":
        keywords.append(line[4:])
    return " / ".join(keywords[1:] + [line[4:]])


def test_tls_auth_only_refuses_auth_before_tls_as_postfix(tls_servers):
    for server in tls_servers:
        assert not [k for k in ehlo_keywords(server.port) if k.startswith("AUTH")]
        assert dialogue(server.port, f"AUTH PLAIN {PLAIN_OK}") == ["503 5.5.1 Error: authentication not enabled",
                                                                   BYE]


def test_after_starttls_auth_is_offered_and_taken_as_by_postfix(tls_servers):
    lines = ["EHLO client.example", f"AUTH PLAIN {PLAIN_WRONG}", f"AUTH PLAIN {PLAIN_OK}", "QUIT"]
    expected = ["PIPELINING / SIZE 10240000 / VRFY / ETRN / AUTH PLAIN LOGIN / ENHANCEDSTATUSCODES / 8BITMIME / DSN / "
                "SMTPUTF8 / CHUNKING",
                "535 5.7.8 Error: authentication failed: (reason unavailable)",
                "235 2.7.0 Authentication successful", BYE]
    postfix, filterd = tls_servers
    theirs = tls_dialogue(postfix.port, *lines)
    assert theirs[0] == expected[0]
    assert theirs[1:] == expected[1:]
    assert tls_dialogue(filterd.port, *lines) == expected


def test_swaks_tls_auth_delivers_as_esmtpsa_with_the_authenticated_sender(servers, tls_servers):
    for server in tls_servers:
        result = swaks("-s", f"127.0.0.1:{server.port}", "--from", "alice@example.org", "--to", "bob@example.net",
                       "--tls", "--auth", "LOGIN", "--auth-user", "alice", "--auth-password", "secret",
                       "--header", f"Subject: tls sasl {server.port}")
        assert result.returncode == 0, result.stdout + result.stderr
    wait_until(lambda: len([m for m in servers.sink.messages() if b"Subject: tls sasl" in m]) == 2, 30, "both")
    received = [authenticated_received(m) for m in servers.sink.messages() if b"Subject: tls sasl" in m]
    assert received[0] == received[1] == ["\t(Authenticated sender: alice)", "ESMTPSA"]


@pytest.mark.parametrize(("exceptions", "offered"), [("127.0.0.0/8", False), ("localhost", False),
                                                     ("!127.0.0.1, 127.0.0.0/8", True), ("192.0.2.0/24", True)])
def test_smtpd_sasl_exceptions_networks_hides_auth_from_ehlo_but_not_the_command_as_postfix(
        servers, filterd_with, exceptions, offered):
    settings = {"smtpd_sasl_exceptions_networks": exceptions}
    filterd = filterd_with(**settings)
    with launched("filterd-sasl-exceptions-") as launcher:
        postfix = launcher.launch(Postfix.relay(launcher.directory("postfix"), servers.sink.port, {
            **SASL, "smtpd_sasl_path": servers.dovecot.inet_path, **settings}))
        keywords = {"postfix": ehlo_keywords(postfix.port), "filterd": ehlo_keywords(filterd.port)}
        auth = {name: dialogue(server.port, f"AUTH PLAIN {PLAIN_OK}") for name, server in
                (("postfix", postfix), ("filterd", filterd))}
    assert keywords["filterd"] == keywords["postfix"]
    assert ("AUTH PLAIN LOGIN" in keywords["postfix"]) == offered
    assert auth["filterd"] == auth["postfix"] == ["235 2.7.0 Authentication successful", BYE]
