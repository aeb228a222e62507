"""XCLIENT (Postfix's XCLIENT_README) in filterd's relay and in a real Postfix, both with the same settings: the same
replies to each command, and the same smtpd, cleanup, qmgr and smtp log lines for the simulated client."""

from __future__ import annotations

import json
import re
import socket

import pytest

from tests.harness import free_port, wait_until
from tests.integration.test_log_lines_vs_postfix import (  # noqa: F401 (pair: a fixture)
    HELO, assert_same_lines, message, normalised, pair, settled)
from tests.milter.client.services import TagMilter

pytestmark = pytest.mark.integration

SETTINGS = {"myhostname": "relay.example", "smtpd_banner": "$myhostname ESMTP", "mydestination": "",
            "smtpd_authorized_xclient_hosts": "127.0.0.0/8, trusted.example",
            "smtpd_client_restrictions": "check_client_access inline:{ {192.0.2.66=REJECT spammer} }"}
REFUSALS = ["XCLIENT", "XCLIENT FOO=bar", "XCLIENT ADDR=999.1.1.1", "XCLIENT NAME=-bad-.example",
            "XCLIENT PROTO=LMTP", "XCLIENT PORT=123456", "XCLIENT ADDR=", "XCLIENT ADDR=[TEMPUNAVAIL]",
            "XCLIENT HELO=" + "h" * 256, "XCLIENT NAME=1.2.3.4", "XCLIENT ADDR=IPv6:1.2.3.4",
            "XCLIENT DESTPORT=x25", "XCLIENT ADDR=" + "1" * 256]


def transcript(port: int, commands: list[str]) -> list[str]:
    """Each command's whole reply (its lines joined by `|`), the greeting first."""
    with socket.create_connection(("127.0.0.1", port), timeout=30) as sock, sock.makefile("rb") as replies:
        def reply() -> str:
            lines = [replies.readline().decode().rstrip("\r\n")]
            while lines[-1][3:4] == "-":
                lines.append(replies.readline().decode().rstrip("\r\n"))
            return "|".join(lines)

        answers = [reply()]
        for command in commands:
            sock.sendall(command.encode() + b"\r\n")
            answers.append(reply())
        return answers


def xclient_line(ehlo: str) -> str | None:
    return next((line[4:] for line in ehlo.split("|") if line[4:].startswith("XCLIENT")), None)


def test_each_reply_is_postfix_s_and_the_session_starts_over_as_the_simulated_client(pair) -> None:
    postfix, filterd = pair(**SETTINGS)
    commands = [f"EHLO {HELO}", *REFUSALS, "MAIL FROM:<a@example.org>", "XCLIENT ADDR=192.0.2.1", "RSET",
                "XCLIENT ADDR=192.0.2.66 NAME=spam.example PORT=4567", "MAIL FROM:<a@example.org>",
                f"EHLO {HELO}", "MAIL FROM:<a@example.org>", "RCPT TO:<bob@example.com>", "XCLIENT ADDR=192.0.2.1",
                "QUIT"]
    theirs, ours = transcript(postfix.port, commands), transcript(filterd.port, commands)
    assert xclient_line(ours[1]) == xclient_line(theirs[1]) == \
        "XCLIENT NAME ADDR PROTO HELO REVERSE_NAME PORT LOGIN DESTADDR DESTPORT"
    assert xclient_line(ours[-5]) is xclient_line(theirs[-5]) is None
    assert ours[2:-5] == theirs[2:-5] and ours[-4:] == theirs[-4:]
    assert "554 5.7.1 <spam.example[192.0.2.66]>: Client host rejected: spammer" in ours
    for system, log in ((postfix, postfix.maillog), (filterd, filterd.log)):
        wait_until(settled(log, 1, 0), 30, "the session logged")
    assert normalised(filterd.log(), ("smtpd",)) == normalised(postfix.maillog(), ("smtpd",))


def test_without_delay_reject_the_greeting_is_the_simulated_client_s_refusal(pair) -> None:
    postfix, filterd = pair(**SETTINGS, smtpd_delay_reject="no")
    commands = [f"EHLO {HELO}", "XCLIENT ADDR=192.0.2.66", f"EHLO {HELO}", "MAIL FROM:<a@example.org>", "QUIT"]
    theirs, ours = transcript(postfix.port, commands), transcript(filterd.port, commands)
    assert ours[2:] == theirs[2:]
    assert ours[2] == "554 5.7.1 <localhost[192.0.2.66]>: Client host rejected: spammer"  # the name kept
    for system, log in ((postfix, postfix.maillog), (filterd, filterd.log)):
        wait_until(settled(log, 1, 0), 30, "the session logged")
    assert normalised(filterd.log(), ("smtpd",)) == normalised(postfix.maillog(), ("smtpd",))


def test_a_message_from_the_simulated_client_is_logged_and_received_as_postfix_does_it(pair, smtp_sink) -> None:
    postfix, filterd = pair(**SETTINGS, mynetworks="127.0.0.0/8, 192.0.2.0/24")
    assert_same_lines(postfix, filterd, [
        (f"EHLO {HELO}\n", 1), ("XCLIENT NAME=mail.example ADDR=192.0.2.10 HELO=other.example LOGIN=joe\n", 1),
        ("MAIL FROM:<a@example.org>\n", 1), ("RCPT TO:<bob@example.com>\n", 1), ("DATA\n", 1),
        (message("xclient"), 1), ("XCLIENT NAME=[TEMPUNAVAIL] ADDR=IPv6:2001:db8::7 PROTO=ESMTP\n", 1),
        ("QUIT\n", 1)])
    assert "client=mail.example[192.0.2.10], sasl_method=XCLIENT, sasl_username=joe" in filterd.log()
    received = [re.search(rb"Received: (from .*?) \((?:Postfix|filterd)\) (with \w+)", dump.replace(b"\n\t", b" "))
                for dump in smtp_sink.messages()]
    assert [m.groups() for m in received] == [(b"from other.example (mail.example [192.0.2.10]) by relay.example",
                                               b"with SMTP")] * 2  # no A: XCLIENT made it SMTP


def test_milters_are_told_of_the_simulated_client_as_postfix_tells_them(postfix_factory, filterd_factory, smtp_sink,
                                                                        mta_launcher) -> None:
    """A milter's connection closes at XCLIENT and a new one begins with the simulated client: the connect, HELO,
    MAIL and RCPT events and macros a pymilter milter logs are Postfix's (its queue ids and version aside)."""
    logs = {}
    for system in ("postfix", "filterd"):
        logs[system] = mta_launcher.directory(f"events-{system}")
        logs[system].parent.mkdir(parents=True, exist_ok=True)
        milter = mta_launcher.launch(TagMilter(mta_launcher.directory(f"milter-{system}"), "--log", str(logs[system])))
        settings = {**SETTINGS, "smtpd_milters": milter.socket, "mynetworks": "127.0.0.0/8, 192.0.2.0/24"}
        if system == "postfix":
            server = postfix_factory.relay(smtp_sink.port, settings)
        else:
            port = free_port()
            server = filterd_factory({"filterd_plugins": "milters", "filterd_listeners": f"relay:127.0.0.1:{port}",
                                      "relayhost": f"[127.0.0.1]:{smtp_sink.port}", **settings}, port=port)
        transcript(server.port, [f"EHLO {HELO}", "XCLIENT NAME=mail.example ADDR=192.0.2.10 PORT=2525",
                                 "EHLO other.example", "MAIL FROM:<a@example.org>", "RCPT TO:<bob@example.com>",
                                 "QUIT"])
        wait_until(lambda: logs[system].exists() and logs[system].read_text().count('"close"') == 2, 30,
                   "the milter's events")

    def events(system: str) -> dict[str, list]:
        """Each milter connection's events (its threads log in either order), up to RCPT (Postfix then sends two
        aborts where filterd sends one), the real client's port and the MTA's version and queue id aside."""
        found: dict[str, list] = {}
        for event, args, macros in map(json.loads, logs[system].read_text().splitlines()):
            for name in ("i", "v"):
                macros.pop(name, None)
            args = [re.sub(r"\('127.0.0.1', \d+\)", "('127.0.0.1', PORT)", arg) for arg in args]
            found.setdefault(macros["_"], []).append([event, args, macros])
        for client, session in found.items():
            names = [event[0] for event in session]
            found[client] = session[:names.index("rcpt") + 1] if "rcpt" in names else session
        return found

    ours = events("filterd")
    assert ours == events("postfix")
    assert {client: [e[0] for e in session] for client, session in ours.items()} == {
        "localhost [127.0.0.1]": ["connect", "helo", "close"],
        "mail.example [192.0.2.10]": ["connect", "helo", "mail", "rcpt"]}


def test_anvil_counts_the_simulated_client_and_not_the_one_that_may_use_xclient(pair) -> None:
    """Postfix's smtpd keeps clients in smtpd_authorized_xclient_hosts out of anvil's limits; the client it
    simulates is counted like any other."""
    postfix, filterd = pair(**SETTINGS, smtpd_client_event_limit_exceptions="",
                            smtpd_client_connection_count_limit="1", smtpd_client_message_rate_limit="1")
    commands = ["MAIL FROM:<a@example.org>", "RSET", "MAIL FROM:<a@example.org>", "RSET",
                "XCLIENT ADDR=192.0.2.10", f"EHLO {HELO}", "MAIL FROM:<a@example.org>", "RSET",
                "MAIL FROM:<a@example.org>", "QUIT"]
    answers = {}
    for system in (postfix, filterd):
        with socket.create_connection(("127.0.0.1", system.port), timeout=30) as held:
            assert held.makefile("rb").readline().startswith(b"220 ")
            answers[system] = [line.split("|")[0] for line in transcript(system.port, [f"EHLO {HELO}", *commands])]
    assert answers[filterd] == answers[postfix]
    assert answers[filterd][-2] == "450 4.7.1 Error: too much mail from 192.0.2.10"
