"""MAIL and RCPT address forms sent by an outsider to a real Postfix and to filterd's relay, both with
mydestination = local.example and a mynetworks that leaves 127.0.0.1 out: the same reply, and where the
recipient is accepted, the same fate.

Postfix's local delivery needs real users, so the Postfix under test resolves only: local_transport and
default_transport are discard(8), whose log line says which class the recipient resolved to (`status=sent
(local)` or `(remote)`) and to what address (`to=<...>`). filterd delivers local mail into
BASE/LOCALPART/Maildir and relays the rest to an smtp-sink (relayhost); the mailbox must be the local part
Postfix resolved, lower-cased, as local(8) folds it.
"""

from __future__ import annotations

import re
import socket
from dataclasses import dataclass
from pathlib import Path

import pytest

from filterd.addresses import unquote_local
from tests.conftest import Launcher, require_programs
from tests.harness import FilterdProcess, Postfix, SmtpSink, free_port, make_workdir, smtpd_listener, wait_until

pytestmark = pytest.mark.integration

COMMON = {"mydestination": "local.example", "mynetworks": "192.0.2.0/24", "myorigin": "origin.example",
          "smtpd_error_sleep_time": "0", "smtpd_soft_error_limit": "1000", "smtpd_hard_error_limit": "1000"}
POSTFIX = {**COMMON, "myhostname": "postfix.local.example", "local_transport": "discard:local",
           "default_transport": "discard:remote", "relay_transport": "discard:remote"}

ROUTED = ["<user%foreign.example@local.example>", "<foreign.example!user@local.example>",
          '<"user@foreign.example"@local.example>', '<"user%foreign.example"@local.example>',
          '<"user\\@foreign.example"@local.example>']
REFUSED = [*ROUTED, "<user@foreign.example>", "<user>", "<@route.example:user@foreign.example>",
           "<@local.example:user@foreign.example>", "<user@[192.0.2.1]>", "<user@foreign.example@local.example>",
           "<user!foo@local.example>", "<a!b!c@local.example>", "<user%foreign.example>", "<foreign.example!user>"]
MALFORMED = ['<"user@local.example>', '<user"@local.example>', "<user@local.example", "<>", '<"">', "<user@>",
             "<user@@local.example>", "<user name@local.example>", "<user@local..example>", "<user@.local.example>",
             "<user@local.example..>", "<user@bücher.example>", "<user@1.2.3.4>", "<user%foo..example@local.example>"]
DELIVERED = ["<user@local.example>", "<postmaster>", "<Postmaster>", "<user@local.example.>", "<@local.example>",
             "<@route.example:user@local.example>", "<user@[127.0.0.1]>", "user@local.example",
             " <user@local.example>", "<<user@local.example>>", "<user%local.example@local.example>",
             "<User@LOCAL.EXAMPLE>"]
ACCEPTED_ONLY = ["<.user@local.example>", '<"user name"@local.example>', "<üser@local.example>", "<\udcfcser@local.example>",
                 f"<{'a' * 300}@local.example>", "<us..er@local.example>"]
SENDERS = ["<>", "<sender@foreign.example>", "<postmaster>", '<"a b"@foreign.example>', "<a@b", "<a@b..example>",
           "<a@>", "<a b@foreign.example>", "<user@bücher.example>", "<@route.example:a@foreign.example>"]


@dataclass
class Outcome:
    """What one system answered to one RCPT (and, where accepted, where the message went)."""

    reply: str
    fate: str = ""


class Client:
    """A line-at-a-time SMTP client that sends any bytes, as an attacker would."""

    def __init__(self, port: int):
        self.sock = socket.create_connection(("127.0.0.1", port), timeout=30)
        self.lines = self.sock.makefile("rb")
        self.reply()

    def reply(self) -> str:
        lines = []
        while True:
            line = self.lines.readline().decode("utf-8", "replace").rstrip("\r\n")
            lines.append(line)
            if line[3:4] != "-":
                return "\n".join(lines)

    def send(self, line: str) -> str:
        self.sock.sendall(line.encode("utf-8", "surrogateescape") + b"\r\n")
        return self.reply()

    def close(self) -> None:
        self.sock.close()


def rcpt(port: int, argument: str, mail: str = "MAIL FROM:<sender@foreign.example>", message_id: str = "") -> Outcome:
    """One session: EHLO, MAIL, RCPT TO:argument and, when accepted and message_id is given, the message."""
    client = Client(port)
    try:
        client.send("EHLO client.example")
        assert client.send(mail).startswith("250")
        outcome = Outcome(client.send(f"RCPT TO:{argument}"))
        if outcome.reply.startswith("250") and message_id:
            assert client.send("DATA").startswith("354")
            outcome.fate = client.send(f"Message-ID: <{message_id}>\r\nSubject: t\r\n\r\nhello\r\n.")
        client.send("QUIT")
        return outcome
    finally:
        client.close()


def mail(port: int, argument: str) -> str:
    client = Client(port)
    try:
        client.send("EHLO client.example")
        return client.send(f"MAIL FROM:{argument}")
    finally:
        client.close()


@pytest.fixture(scope="module")
def servers():
    """(Postfix, filterd, smtp-sink) for the whole module: starting them is the slow part."""
    require_programs()
    launcher = Launcher(make_workdir("filterd-addresses-"))
    try:
        sink = launcher.launch(SmtpSink(launcher.directory("sink")))
        postfix = launcher.launch(Postfix(launcher.directory("postfix"), [smtpd_listener(free_port())], POSTFIX))
        port = free_port()
        filterd = launcher.launch(FilterdProcess(launcher.directory("filterd"), {
            **COMMON, "filterd_listeners": f"relay:127.0.0.1:{port}", "relayhost": f"[127.0.0.1]:{sink.port}",
            "queue_run_delay": "1s", "smtp_dns_support_level": "disabled"}, port=port))
        yield postfix, filterd, sink
    finally:
        launcher.stop_all()


@pytest.mark.parametrize("argument", REFUSED + MALFORMED + ACCEPTED_ONLY)
def test_rcpt_replies_are_postfix_s(servers, argument):
    postfix, filterd, _ = servers
    assert rcpt(filterd.port, argument).reply == rcpt(postfix.port, argument).reply


@pytest.mark.parametrize("argument", ROUTED)
def test_sender_routed_recipients_are_refused(servers, argument):
    _, filterd, _ = servers
    assert rcpt(filterd.port, argument).reply.startswith("454 4.7.1 <")


def test_an_idn_domain_with_smtputf8_is_a_relay_attempt_in_both(servers):
    postfix, filterd, _ = servers
    smtputf8 = "MAIL FROM:<sender@foreign.example> SMTPUTF8"
    expected = rcpt(postfix.port, "<user@bücher.example>", smtputf8).reply
    assert expected == "454 4.7.1 <user@bücher.example>: Relay access denied"
    assert rcpt(filterd.port, "<user@bücher.example>", smtputf8).reply == expected


def test_an_unknown_parameter_is_refused_alike(servers):
    postfix, filterd, _ = servers
    ours, theirs = (rcpt(p, "<user@local.example> FOO=bar").reply for p in (filterd.port, postfix.port))
    assert ours.split()[:2] == theirs.split()[:2] == ["555", "5.5.4"]


@pytest.mark.parametrize("argument", SENDERS)
def test_mail_from_replies_are_postfix_s(servers, argument):
    postfix, filterd, _ = servers
    assert mail(filterd.port, argument) == mail(postfix.port, argument)


def postfix_fate(postfix, queue_id: str) -> str:
    """`local MAILBOX` or `remote` from discard(8)'s log line for the queue id."""
    line = postfix.wait_log(rf"{queue_id}: to=<.*status=sent \((local|remote)\)")[0]
    match = re.search(r"to=<(?P<to>.*?)>, (?:orig_to=<.*?>, )?relay=.*status=sent \((?P<class>local|remote)\)", line)
    assert match
    if match["class"] == "remote":
        return "remote"
    return f"local {unquote_local(match['to']).rpartition('@')[0].lower()}"


def filterd_fate(filterd, sink, message_id: str) -> str:
    """`local MAILBOX` when a Maildir holds the message, `remote` when the smtp-sink got it."""
    boxes = Path(filterd.settings["queue_directory"]) / "mailboxes"

    def found() -> str:
        for path in boxes.glob("*/Maildir/new/*"):
            if message_id.encode() in path.read_bytes():
                return f"local {path.parent.parent.parent.name}"
        if any(message_id.encode() in dump for dump in sink.messages()):
            return "remote"
        return ""

    return wait_until(found, 30, f"message {message_id} delivered", filterd.check_alive)


@pytest.mark.parametrize("argument", DELIVERED)
def test_accepted_recipients_end_where_postfix_resolves_them(servers, argument):
    postfix, filterd, sink = servers
    message_id = f"{abs(hash(argument))}@test"
    theirs, ours = rcpt(postfix.port, argument, message_id=message_id), rcpt(filterd.port, argument,
                                                                              message_id=message_id)
    assert ours.reply == theirs.reply == "250 2.1.5 Ok"
    queue_id = theirs.fate.rpartition(" ")[2]
    assert filterd_fate(filterd, sink, message_id) == postfix_fate(postfix, queue_id)
