"""Commands Postfix's smtpd does not know, sent to a real Postfix and to filterd: "command not recognized" (up to
smtpd_hard_error_limit), the non-SMTP commands (a header line, an HTTP request, smtpd_forbidden_commands) that end
the session with a 221, and the log line for commands pipelined where a client must wait."""

from __future__ import annotations

import socket

import pytest

from tests.conftest import Launcher, require_programs
from tests.fixtures.dialogue import last_lines
from tests.harness import FilterdProcess, Postfix, free_port, make_workdir, read_text, smtpd_listener, wait_until

pytestmark = pytest.mark.integration

COMMON = {"smtpd_error_sleep_time": "0", "mynetworks": "127.0.0.0/8"}
NON_SMTP = ["From: someone@example.org", "Subject:hello", "X-Mailer: bulk", "GET / HTTP/1.0", "post /form",
            "CONNECT mx.example:25", "123 abc", "<html>"]


def session(port: int, *lines: str) -> list[str]:
    """The replies to EHLO and `lines`, read until the server closes the connection or answers NOOP."""
    sock = socket.create_connection(("127.0.0.1", port), timeout=30)
    try:
        sock.sendall(b"".join(f"{line}\r\n".encode() for line in ("EHLO client.example", *lines, "NOOP")))
        received = b""
        while not received.rstrip().endswith((b"250 2.0.0 Ok", b"Goodbye.")):
            chunk = sock.recv(65536)
            if not chunk:
                break
            received += chunk
        return [line for line in received.decode().splitlines() if line[3:4] != "-"][2:]
    finally:
        sock.close()


def side_by_side(prefix: str, settings: dict[str, str], *postfix_options: str):
    """A Postfix smtpd (with `postfix_options` for its listener) and a filterd relay with the same settings, stopped
    when the generator is closed."""
    require_programs()
    launcher = Launcher(make_workdir(prefix))
    try:
        postfix = launcher.launch(Postfix(launcher.directory("postfix"), [smtpd_listener(free_port(), *postfix_options)],
                                          settings))
        port = free_port()
        filterd = launcher.launch(FilterdProcess(launcher.directory("filterd"), {
            **settings, "filterd_listeners": f"relay:127.0.0.1:{port}", "smtp_dns_support_level": "disabled"},
            port=port))
        yield postfix, filterd
    finally:
        launcher.stop_all()


@pytest.fixture(scope="module")
def servers():
    yield from side_by_side("filterd-commands-", COMMON)


@pytest.mark.parametrize("line", ["FOOBAR", "foobar x", "HELP", "EXPNX", "TURN", "EXPN postmaster"])
def test_an_unknown_command_gets_postfix_s_reply(servers, line):
    postfix, filterd = servers
    assert session(filterd.port, line) == session(postfix.port, line)


@pytest.mark.parametrize("line", NON_SMTP)
def test_a_non_smtp_command_ends_the_session_as_in_postfix(servers, line):
    postfix, filterd = servers
    expected = session(postfix.port, line)
    assert expected == ["221 2.7.0 Error: I can break rules, too. Goodbye."]
    assert session(filterd.port, line) == expected


def test_a_non_smtp_command_is_logged_as_postfix_logs_it(servers):
    _, filterd = servers
    session(filterd.port, "From: spammer@example.org")
    wait_until(lambda: "non-SMTP command" in read_text(filterd.log_path), 10, "the warning")
    assert "warning: non-SMTP command from localhost[127.0.0.1]: From: spammer@example.org" in \
        read_text(filterd.log_path)


def test_unknown_commands_count_toward_the_hard_error_limit_as_in_postfix(servers):
    """aiosmtpd hung up after five unknown commands (502 and a 421 without the host name); Postfix answers 500 until
    smtpd_hard_error_limit (20) errors, then 421 with its name."""
    postfix, filterd = servers
    expected = [line.replace(postfix.settings.get("myhostname", "postfix.test"), "HOST")
                for line in session(postfix.port, *["FOO"] * 21)]
    assert expected == ["500 5.5.2 Error: command not recognized"] * 20 + ["421 4.7.0 HOST Error: too many errors"]
    assert [line.replace("filterd.test", "HOST") for line in session(filterd.port, *["FOO"] * 21)] == expected


def improper(log: str, marker: str) -> list[str]:
    return [line.split(": ", 1)[1] for line in log.splitlines()
            if "improper command pipelining" in line and marker in line]


def greeted_then(port: int, data: bytes) -> None:
    """Read the greeting, send `data` at once, read until the server hangs up."""
    with socket.create_connection(("127.0.0.1", port), timeout=30) as sock:
        sock.recv(4096)
        sock.sendall(data)
        while sock.recv(4096):
            pass


@pytest.mark.parametrize(("data", "expected"), [
    (b"EHLO late.example\r\nNOOP\r\nQUIT\r\n", "after EHLO from localhost[127.0.0.1]: NOOP\\r\\nQUIT\\r\\n"),
    (b"HELO late.example\r\nVRFY x\r\nQUIT\r\n", "after HELO from localhost[127.0.0.1]: VRFY x\\r\\nQUIT\\r\\n"),
    (b"EHLO late.example\r\nMAIL FROM:<a@late.example>\r\nRSET\r\nNOOP\r\n\x01\xc3\xa9\\\r\nQUIT\r\n",
     "after EHLO from localhost[127.0.0.1]: MAIL FROM:<a@late.example>\\r\\nRSET\\r\\nNOOP\\r\\n\\001\\303\\251"
     "\\\\\\r\\nQUIT\\r\\n"),
    (b"EHLO late.example\r\n" + b"FOO late.example\r\n" * 10 + b"QUIT\r\n",
     "after EHLO from localhost[127.0.0.1]: " + "FOO late.example\\r\\n" * 5 + "FOO late.e"),
], ids=["ehlo", "helo", "noop-escaped", "cut-at-100-bytes"])
def test_commands_pipelined_where_the_client_must_wait_are_logged_as_postfix_logs_them(servers, data, expected):
    postfix, filterd = servers
    for port in (postfix.port, filterd.port):
        greeted_then(port, data)
    marker = expected.split(": ", 1)[1][:20]
    wait_until(lambda: improper(postfix.maillog(), marker), 10, "Postfix's line")
    wait_until(lambda: improper(read_text(filterd.log_path), marker), 10, "filterd's line")
    assert improper(postfix.maillog(), marker) == improper(read_text(filterd.log_path), marker) == [
        f"improper command pipelining {expected}"]


BLANKS = [("MAIL\tFROM:<a@example.org>", "RCPT\tTO:<b@example.net>", "RSET"), (" MAIL FROM:<a@example.org>", "RSET"),
          ("   ",), ("\t",), ("\tNOOP",), ("MAIL FROM:<a@example.org>\tSIZE=100", "RSET"), ("RSET\t",),
          ("HELO\tclient.example",), ("VRFY\tpostmaster",), ("NOOP \t x",), ("\tFrom: x",), ("FOO\tbar",), ("quit\t",)]


@pytest.mark.parametrize("lines", BLANKS, ids=repr)
def test_a_command_line_is_split_on_spaces_and_tabs_as_in_postfix(servers, lines):
    """Postfix's smtpd_token() splits a command line on spaces and TABs and skips leading ones; aiosmtpd split it at
    the first space alone, so `MAIL<TAB>FROM:<a>` and ` MAIL FROM:<a>` were unknown commands."""
    postfix, filterd = servers

    def replies(server) -> list[str]:
        return [line.replace(server.settings.get("myhostname", "HOST"), "HOST")
                for line in until_quit(server.port, *lines)]

    assert replies(filterd) == replies(postfix)


@pytest.mark.parametrize("lines", [("XFORWARD",), ("XFORWARD NAME=x",), ("XFORWARD FOO",),
                                   ("MAIL FROM:<a@example.org>", "XFORWARD NAME=x", "RSET"),
                                   ("MAIL FROM:<a@example.org>", "XFORWARD", "RSET")], ids=repr)
def test_xforward_from_an_unauthorized_client_is_checked_in_postfix_s_order(servers, lines):
    """Postfix: a transaction in progress (503), then no attribute (501), then the client's authorization (550)."""
    postfix, filterd = servers
    assert until_quit(filterd.port, *lines) == until_quit(postfix.port, *lines)


def until_quit(port: int, *lines: str, ehlo: bool = True) -> list[str]:
    """The replies to (EHLO and) `lines`, then QUIT's, read until the server closes the connection: every reply,
    however the server's writes fall (a reply that ends like the last one cannot end the reading early)."""
    sock = socket.create_connection(("127.0.0.1", port), timeout=30)
    try:
        first = ("EHLO client.example",) if ehlo else ()
        sock.sendall(b"".join(f"{line}\r\n".encode() for line in (*first, *lines, "QUIT")))
        received = b""
        while chunk := sock.recv(65536):
            received += chunk
        return [line for line in received.decode().splitlines() if line[3:4] != "-"][1 + len(first):]
    finally:
        sock.close()


@pytest.fixture(scope="module")
def helo_required():
    yield from side_by_side("filterd-helo-required-", {**COMMON, "smtpd_helo_required": "yes"})


@pytest.mark.parametrize("lines", [("MAIL FROM:<a@example.org>", "RCPT TO:<b@example.net>", "DATA"),
                                   ("ETRN example.net",), ("AUTH PLAIN AGFAYg==",), ("VRFY postmaster",),
                                   ("HELO client.example", "MAIL FROM:<a@example.org>", "RSET"),
                                   ("EHLO client.example", "ETRN example.net")], ids=repr)
def test_smtpd_helo_required_refuses_as_postfix_does(helo_required, lines):
    """MAIL, AUTH and ETRN before HELO or EHLO: Postfix's 503s (ETRN's without an enhanced status code); VRFY, RCPT
    and DATA answer as they would anyway."""
    postfix, filterd = helo_required

    def replies(server) -> list[str]:
        return [line.replace(server.settings.get("myhostname", "HOST"), "HOST")
                for line in until_quit(server.port, *lines, ehlo=False)]

    assert replies(filterd) == replies(postfix)


@pytest.fixture(scope="module")
def xforward_trusted():
    """Both servers trust XFORWARD from loopback, refuse the client 192.0.2.7 and a recipient without a domain name
    at RCPT."""
    table = make_workdir("filterd-xforward-table-") / "clients.cidr"
    table.write_text("192.0.2.7 REJECT forwarded client\n")
    table.parent.chmod(0o755)
    table.chmod(0o644)
    yield from side_by_side("filterd-xforward-", {
        **COMMON, "smtpd_authorized_xforward_hosts": "127.0.0.0/8",
        "smtpd_recipient_restrictions": f"check_client_access cidr:{table}, reject_non_fqdn_recipient, "
                                        "permit_mynetworks, reject"})


XFORWARDED = ("XFORWARD NAME=spam.example ADDR=192.0.2.7", "XFORWARD PORT=4321 IDENT=ABC123 SOURCE=REMOTE")


@pytest.mark.parametrize("lines", [
    (*XFORWARDED, "MAIL FROM:<a@example.org>", "XFORWARD NAME=x", "RSET",
     "XFORWARD ADDR=192.0.2.8", "XFORWARD NAME=again.example"),
    (*XFORWARDED, "EHLO client.example", "XFORWARD HELO=x"),
], ids=["transaction", "ehlo"])
def test_each_xforward_is_authorized_by_the_real_client_as_in_postfix(xforward_trusted, lines):
    """The forwarded ADDR (192.0.2.7, not authorized) never stands in for the client that asks."""
    postfix, filterd = xforward_trusted
    assert until_quit(filterd.port, *lines) == until_quit(postfix.port, *lines)


@pytest.mark.parametrize("lines", [
    (*XFORWARDED, "MAIL FROM:<a@example.org>", "RCPT TO:<b@example.net>"),
    (*XFORWARDED, "HELO client.example", "MAIL FROM:<a@example.org>", "RCPT TO:<b@example.net>"),
], ids=["forwarded", "helo-between"])
def test_the_restrictions_judge_the_connection_s_client_not_xforward_s_as_in_postfix(xforward_trusted, lines):
    """XFORWARD overrides logging attributes only (XFORWARD_README): 192.0.2.7's REJECT never applies, mynetworks
    (the real client, loopback) permits."""
    postfix, filterd = xforward_trusted
    replies = [r.replace("filterd.test", "HOST") for r in until_quit(filterd.port, *lines)]
    assert replies == [r.replace("postfix.test", "HOST") for r in until_quit(postfix.port, *lines)]
    assert replies[-2] == "250 2.1.5 Ok"


def test_the_client_line_of_an_xforward_session_is_postfix_s(xforward_trusted):
    """`client=` names the connection's client, then `orig_queue_id=` and `orig_client=` XFORWARD's."""
    postfix, filterd = xforward_trusted
    lines = (*XFORWARDED, "MAIL FROM:<a@example.org>", "RCPT TO:<b@example.net>", "DATA", "Subject: x", "", "hi", ".")

    def client_line(server, log) -> str:
        until_quit(server.port, *lines)
        found = wait_until(lambda: [line for line in log().splitlines() if "orig_client=" in line], 30, "client=")
        return found[-1].split(": client=", 1)[1]

    assert client_line(filterd, filterd.log) == client_line(postfix, postfix.maillog) == (
        "localhost[127.0.0.1], orig_queue_id=ABC123, orig_client=spam.example[192.0.2.7]")


def test_a_reject_line_of_an_xforward_session_names_the_connection_s_client_as_postfix_s(xforward_trusted):
    postfix, filterd = xforward_trusted
    lines = (*XFORWARDED, "MAIL FROM:<a@example.org>", "RCPT TO:<b@nofqdn>")

    def reject_line(server, log) -> str:
        until_quit(server.port, *lines)
        found = wait_until(lambda: [line for line in log().splitlines() if "b@nofqdn" in line], 30, "reject")
        return found[-1].split(": NOQUEUE: ", 1)[1]

    assert reject_line(filterd, filterd.log) == reject_line(postfix, postfix.maillog)


@pytest.fixture(scope="module")
def forbidding():
    """Postfix's smtpd serves one connection a process (max_use=1): a new one is started for each client, so that
    a client's first bytes are there before smtpd looks, as they are for filterd (an idle smtpd already waiting in
    accept() would look first)."""
    yield from side_by_side("filterd-forbid-pipelining-", {**COMMON, "smtpd_forbid_unauth_pipelining": "yes",
                                                           "smtpd_banner": "$myhostname ESMTP"}, "max_use=1")


def stepwise(port: int, *steps: bytes) -> list[str]:
    """Each step sent at once after the previous one's replies (the greeting first): every reply line, until the
    server hangs up."""
    lines: list[str] = []
    with socket.create_connection(("127.0.0.1", port), timeout=30) as sock:
        reader = sock.makefile("rb")
        for index, step in enumerate((b"", *steps)):
            sock.sendall(step)
            wanted = 1 if index == 0 else max(step.count(b"\r\n"), 1)
            while wanted:
                line = reader.readline().decode().rstrip("\r\n")
                if not line:
                    return lines
                lines.append(line.replace("postfix.test", "HOST").replace("filterd.test", "HOST"))
                wanted -= line[3:4] != "-"
        while line := reader.readline().decode().rstrip("\r\n"):
            lines.append(line)
    return lines


PIPELINED = {
    "after-helo": (b"HELO late.example\r\n", b"MAIL FROM:<a@late.example>\r\nRCPT TO:<b@late.example>\r\nQUIT\r\n"),
    "without-helo": (b"MAIL FROM:<a@late.example>\r\nRSET\r\nQUIT\r\n",),
    "after-ehlo": (b"EHLO late.example\r\n", b"MAIL FROM:<a@late.example>\r\nRSET\r\nQUIT\r\n"),
    "ehlo-noop": (b"EHLO late.example\r\n", b"NOOP\r\nRSET\r\nQUIT\r\n"),
}


@pytest.mark.parametrize("case", PIPELINED)
def test_pipelining_before_ehlo_is_improper_as_in_postfix(servers, case):
    postfix, filterd = servers
    lines = {}
    for name, server, read in (("postfix", postfix, postfix.maillog), ("filterd", filterd, filterd.log)):
        before, sessions = read().count("improper command pipelining"), read().count("disconnect from")
        stepwise(server.port, *PIPELINED[case])
        wait_until(lambda: read().count("disconnect from") > sessions, 10, "this session's disconnect")
        lines[name] = improper(read(), "")[before:]
    assert lines["filterd"] == lines["postfix"]
    assert bool(lines["postfix"]) == (case != "after-ehlo")


@pytest.mark.parametrize("case", [*PIPELINED, "before-greeting"])
def test_smtpd_forbid_unauth_pipelining_ends_the_session_as_in_postfix(forbidding, case):
    postfix, filterd = forbidding
    if case == "before-greeting":
        def run(port: int) -> list[str]:
            """EHLO sent as the connection opens; a server that greeted before it arrived (a race the test loses
            now and then) is tried again."""
            for _ in range(5):
                with socket.create_connection(("127.0.0.1", port), timeout=30) as sock:
                    sock.sendall(b"EHLO early.example\r\n")
                    reader = sock.makefile("rb")
                    lines = []
                    while line := reader.readline().decode().rstrip("\r\n"):
                        lines.append(line.replace("postfix.test", "HOST").replace("filterd.test", "HOST"))
                        if line.startswith("250 "):
                            sock.sendall(b"QUIT\r\n")
                    if "554 5.5.0 Error: SMTP protocol synchronization" in lines:
                        return lines
            return lines
    else:
        def run(port: int) -> list[str]:
            return stepwise(port, *PIPELINED[case])
    replies = {"postfix": run(postfix.port), "filterd": run(filterd.port)}
    assert replies["filterd"] == replies["postfix"]
    assert ("554 5.5.0 Error: SMTP protocol synchronization" in replies["postfix"]) == (case != "after-ehlo")


@pytest.fixture(scope="module")
def overshooting():
    yield from side_by_side("filterd-overshoot-", {**COMMON, "smtpd_recipient_limit": "2",
                                                   "smtpd_recipient_overshoot_limit": "3", "smtpd_soft_error_limit": "2",
                                                   "smtpd_hard_error_limit": "4", "smtpd_banner": "$myhostname ESMTP",
                                                   "mydestination": "local.example"})


def test_recipients_past_the_limit_count_as_errors_only_past_the_overshoot_limit_as_in_postfix(overshooting):
    postfix, filterd = overshooting
    commands = ["MAIL FROM:<a@local.example>", *(f"RCPT TO:<u{n}@local.example>" for n in range(10))]
    replies = {}
    for name, server, read in (("postfix", postfix, postfix.maillog), ("filterd", filterd, filterd.log)):
        found = last_lines(server.port, commands)
        wait_until(lambda: "disconnect from" in read(), 10, f"{name}'s disconnect line")
        summary = [line.split("]: ", 1)[1] for line in read().splitlines() if "disconnect from" in line][-1]
        replies[name] = found, summary
    assert replies["filterd"] == replies["postfix"]
    found, summary = replies["postfix"]
    assert found[3:6] == ["452 4.5.3 Error: too many recipients"] * 3
    assert found[-1] == "421 4.7.0 HOST Error: too many errors"


@pytest.fixture(scope="module")
def without_smtputf8():
    yield from side_by_side("filterd-no-smtputf8-", {**COMMON, "smtputf8_enable": "no",
                                                      "smtpd_banner": "$myhostname ESMTP"})


@pytest.mark.parametrize("smtputf8", ["yes", "no"])
def test_a_line_of_invalid_utf8_is_refused_only_with_smtputf8(servers, without_smtputf8, smtputf8):
    """smtputf8_enable = no: Postfix no longer checks command lines for valid UTF-8 (nor offers SMTPUTF8)."""
    postfix, filterd = servers if smtputf8 == "yes" else without_smtputf8
    steps = (b"EHLO client.example\r\n", b"MAIL FROM:<a@\xff.example>\r\n", b"NOOP \xc3\r\n",
             b"MAIL FROM:<s@example.org> SMTPUTF8\r\n", b"QUIT\r\n")
    assert stepwise(filterd.port, *steps)[1:] == stepwise(postfix.port, *steps)[1:]
