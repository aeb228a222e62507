"""smtpd restrictions in filterd's relay and in a real Postfix configured alike (mydestination = local.example,
a mynetworks that leaves 127.0.0.1 out, the same restriction lists and access tables): for a matrix of HELO names,
senders and recipients, the same replies, codes and texts, and the same NOQUEUE log line. The same restrictions in
filterd's proxy and milter modes refuse relaying as the relay does."""

from __future__ import annotations

import re
import socket
import time
from pathlib import Path

import pytest

from tests.conftest import Launcher, require_programs
from tests.harness import FilterdProcess, Postfix, SmtpSink, free_port, make_workdir, smtpd_listener, wait_until
from tests.integration.test_addresses_vs_postfix import ROUTED, Client

pytestmark = pytest.mark.integration

SENDER_ACCESS = """\
blocked@sender.example REJECT
deferred.example DEFER
temporary.example 450 4.7.9 Try again tomorrow
custom.example REJECT 5.7.9 Go away
permanent.example 551 No such luck
parent.example REJECT
spammer@ REJECT Spammers not welcome
held.example HOLD
ok.example OK
dunno.example DUNNO
listed.example reject_non_fqdn_recipient, reject
defer_if_permit.example DEFER_IF_PERMIT Wait a bit
<> DUNNO
"""
RECIPIENT_ACCESS = """\
blocked@local.example REJECT
closed.local.example 550 5.1.1 Mailbox closed
deferred@local.example DEFER
abuse@ OK
"""
HELO_ACCESS = """\
refused.helo.example REJECT
helo.example REJECT 5.7.2 Not from there
2.1 REJECT numeric parent
"""
RESTRICTIONS = {
    "smtpd_helo_restrictions": "check_helo_access texthash:{helo}, reject_invalid_helo_hostname, "
                               "reject_non_fqdn_helo_hostname",
    "smtpd_sender_restrictions": "reject_non_fqdn_sender, check_sender_access texthash:{sender}",
    "smtpd_recipient_restrictions": "reject_non_fqdn_recipient, check_recipient_access texthash:{recipient}",
}
COMMON = {"mydestination": "local.example", "mynetworks": "192.0.2.0/24", "myorigin": "origin.example",
          "relay_domains": "relay.example", "smtpd_error_sleep_time": "0", "smtpd_soft_error_limit": "1000",
          "smtpd_hard_error_limit": "1000"}
POSTFIX = {"myhostname": "postfix.local.example", "local_transport": "discard:local",
           "default_transport": "discard:remote", "relay_transport": "discard:remote"}

HELOS = ["client.example", "refused.helo.example", "sub.helo.example", "bad_helo!", "nodots", "[127.0.0.1]",
         "[300.1.1.1]", "trailing.dot.example.", "-bad.example", "192.0.2.1", "host.2.1"]
SENDERS = ["<>", "<blocked@sender.example>", "<someone@deferred.example>", "<a@temporary.example>",
           "<a@custom.example>", "<a@permanent.example>", "<a@deep.sub.parent.example>", "<spammer@anywhere.example>",
           "<a@held.example>", "<a@ok.example>", "<spammer@ok.example>", "<a@dunno.example>", "<a@listed.example>",
           "<a@defer_if_permit.example>", "<unqualified>", "<a@nodot>", "<Blocked@Sender.Example>",
           '<"spammer"@x.example>']
RECIPIENTS = ["<user@local.example>", "<blocked@local.example>", "<user@closed.local.example>",
              "<deferred@local.example>", "<abuse@foreign.example>", "<user@foreign.example>", "<user@relay.example>",
              "<user@sub.relay.example>", "<user>", "<postmaster>", "<user@nodot>", "<abuse@local.example>"]
MATRIX = ([(helo, "<a@ok.example>", "<user@local.example>") for helo in HELOS]
          + [("client.example", sender, rcpt) for sender in SENDERS
             for rcpt in ("<user@local.example>", "<user@foreign.example>")]
          + [("client.example", "<a@dunno.example>", rcpt) for rcpt in RECIPIENTS]
          + [("client.example", "<a@defer_if_permit.example>", "<blocked@local.example>")]
          + [(helo, sender, "<postmaster>") for helo, sender in (("nodots", "<a@ok.example>"),
                                                                  ("client.example", "<blocked@sender.example>"))]
          + [("client.example", '<"a b"@custom.example>', '<"c d"@closed.local.example>')])


def tables(directory: Path) -> dict[str, str]:
    """The access tables written into `directory`, and the restriction lists naming them."""
    directory.mkdir(parents=True, exist_ok=True)
    paths = {}
    for name, text in (("helo", HELO_ACCESS), ("sender", SENDER_ACCESS), ("recipient", RECIPIENT_ACCESS)):
        paths[name] = directory / f"{name}_access"
        paths[name].write_text(text)
    return {key: value.format(**paths) for key, value in RESTRICTIONS.items()}


def pair(launcher: Launcher, name: str, settings: dict[str, str]) -> tuple[Postfix, FilterdProcess]:
    """A Postfix and a filterd relay (delivering to an smtp-sink) with the same settings."""
    sink = launcher.launch(SmtpSink(launcher.directory(f"{name}-sink")))
    postfix = launcher.launch(Postfix(launcher.directory(f"{name}-postfix"), [smtpd_listener(free_port())],
                                      {**COMMON, **POSTFIX, **settings}))
    port = free_port()
    filterd = launcher.launch(FilterdProcess(launcher.directory(f"{name}-filterd"), {
        **COMMON, **settings, "filterd_listeners": f"relay:127.0.0.1:{port}", "relayhost": f"[127.0.0.1]:{sink.port}",
        "smtp_dns_support_level": "disabled"}, port=port))
    return postfix, filterd


@pytest.fixture(scope="module")
def launcher():
    require_programs()
    launcher = Launcher(make_workdir("filterd-restrictions-"))
    try:
        yield launcher
    finally:
        launcher.stop_all()


@pytest.fixture(scope="module")
def servers(launcher):
    """(Postfix, filterd) with the same HELO, sender and recipient restrictions, for the whole module."""
    return pair(launcher, "lists", tables(launcher.directory("tables")))


def session(port: int, helo: str, sender: str, recipient: str) -> list[str]:
    """The replies to EHLO, MAIL and RCPT (the status line of EHLO only)."""
    client = Client(port)
    try:
        replies = [client.send(f"EHLO {helo}").splitlines()[0][:3]]
        replies.append(client.send(f"MAIL FROM:{sender}"))
        replies.append(client.send(f"RCPT TO:{recipient}") if replies[-1].startswith("250") else "")
        client.send("QUIT")
        return replies
    finally:
        client.close()


@pytest.mark.parametrize(("helo", "sender", "recipient"), MATRIX)
def test_replies_are_postfix_s(servers, helo, sender, recipient):
    postfix, filterd = servers
    assert session(filterd.port, helo, sender, recipient) == session(postfix.port, helo, sender, recipient)


def reject_line(log: str, recipient: str) -> str:
    """The NOQUEUE reject line for a recipient, from the reply on (the part both logs share)."""
    lines = [line for line in log.splitlines() if "NOQUEUE: reject: RCPT from" in line and f"to=<{recipient}>" in line]
    assert lines, f"no reject line for {recipient}"
    return lines[-1].split("[127.0.0.1]: ", 1)[1]


def test_the_reject_log_line_is_postfix_s(servers):
    postfix, filterd = servers
    for port in (postfix.port, filterd.port):
        session(port, "client.example", "<blocked@sender.example>", "<logged@local.example>")
    expected = wait_until(lambda: "logged@local" in postfix.maillog() and reject_line(postfix.maillog(),
                                                                                     "logged@local.example"), 30,
                          "Postfix's reject line")
    ours = wait_until(lambda: "logged@local" in filterd.log() and reject_line(filterd.log(), "logged@local.example"),
                      30, "filterd's reject line")
    assert ours == expected
    assert expected == ("554 5.7.1 <blocked@sender.example>: Sender address rejected: Access denied; "
                        "from=<blocked@sender.example> to=<logged@local.example> proto=ESMTP helo=<client.example>")


@pytest.mark.parametrize("recipient", [*(r.strip("<>") for r in ROUTED), "user@foreign.example"])
def test_relaying_from_outside_mynetworks_is_refused_for_every_sender_routed_form(servers, recipient):
    postfix, filterd = servers
    ours = session(filterd.port, "client.example", "<a@ok.example>", f"<{recipient}>")
    assert ours == session(postfix.port, "client.example", "<a@ok.example>", f"<{recipient}>")
    assert re.match(r"454 4\.7\.1 <.*>: Relay access denied$", ours[2])


def test_a_refused_client_is_refused_at_each_rcpt_as_postfix_refuses_it(launcher):
    directory = launcher.directory("client-tables")
    directory.mkdir(parents=True, exist_ok=True)
    table = directory / "clients"
    table.write_text("127.0.0.0/8 REJECT 5.7.9 Not from here\n")
    postfix, filterd = pair(launcher, "client", {"smtpd_client_restrictions": f"check_client_access cidr:{table}"})
    ours = session(filterd.port, "client.example", "<a@ok.example>", "<user@local.example>")
    assert ours == session(postfix.port, "client.example", "<a@ok.example>", "<user@local.example>")
    assert ours[2] == "554 5.7.9 <localhost[127.0.0.1]>: Client host rejected: Not from here"


def data_reply(port: int) -> str:
    client = Client(port)
    try:
        client.send("EHLO client.example")
        client.send("MAIL FROM:<a@ok.example>")
        client.send("RCPT TO:<user@local.example>")
        return client.send("DATA")
    finally:
        client.close()


def test_data_restrictions_refuse_data_as_postfix_does(launcher):
    postfix, filterd = pair(launcher, "data", {"smtpd_data_restrictions": "reject"})
    assert data_reply(filterd.port) == data_reply(postfix.port) == \
        "554 5.7.1 <DATA>: Data command rejected: Access denied"


def commands(port: int, lines: list[str]) -> list[str]:
    """Each command's reply (its first line)."""
    client = Client(port)
    try:
        return [client.send(line).splitlines()[0] for line in lines]
    finally:
        client.close()


def test_without_smtpd_delay_reject_helo_and_sender_are_refused_at_their_commands(launcher):
    postfix, filterd = pair(launcher, "nodelay", {"smtpd_delay_reject": "no",
                                                  "smtpd_helo_restrictions": "reject_non_fqdn_helo_hostname",
                                                  "smtpd_sender_restrictions": "check_sender_access inline:{ "
                                                                               "blocked.example=REJECT }"})
    lines = ["EHLO client", "EHLO client.example", "MAIL FROM:<a@blocked.example>", "RCPT TO:<user@local.example>",
             "MAIL FROM:<a@ok.example>", "RCPT TO:<user@local.example>"]
    ours, theirs = commands(filterd.port, lines), commands(postfix.port, lines)
    assert ours[1].startswith("250-") and theirs[1].startswith("250-")
    assert ours[:1] + ours[2:] == theirs[:1] + theirs[2:]
    assert ours[0] == "504 5.5.2 <client>: Helo command rejected: need fully-qualified hostname"


def greeting_and_commands(port: int, lines: list[str]) -> list[str]:
    """The greeting, then each command's reply (its first line)."""
    client = Client.__new__(Client)
    client.sock = socket.create_connection(("127.0.0.1", port), timeout=30)
    client.lines = client.sock.makefile("rb")
    try:
        return [client.reply().splitlines()[0]] + [client.send(line).splitlines()[0] for line in lines]
    finally:
        client.close()


def test_without_smtpd_delay_reject_a_refused_client_hears_it_in_place_of_the_greeting(launcher):
    postfix, filterd = pair(launcher, "nodelay-client", {"smtpd_delay_reject": "no",
                                                         "smtpd_client_restrictions": "reject"})
    lines = ["EHLO client.example", "MAIL FROM:<a@ok.example>", "NOOP", "QUIT"]
    ours = greeting_and_commands(filterd.port, lines)
    assert ours == greeting_and_commands(postfix.port, lines)
    assert ours[0] == "554 5.7.1 <localhost[127.0.0.1]>: Client host rejected: Access denied"
    assert ours[1:] == ["503 5.7.0 Error: access denied for localhost[127.0.0.1]"] * 3 + ["221 2.0.0 Bye"]


def test_defer_if_reject_and_defer_if_permit_from_tables_and_lists_are_postfix_s(launcher):
    postfix, filterd = pair(launcher, "defer-if", {"smtpd_recipient_restrictions": (
        "check_sender_access inline:{ deferred.example=DEFER_IF_REJECT, permitted.example=DEFER_IF_PERMIT }, "
        "check_recipient_access inline:{ bad@local.example=REJECT }, defer_if_reject, "
        "check_recipient_access inline:{ worse@local.example=REJECT, held@local.example=defer_if_permit }, "
        "reject_unauth_destination")})
    cases = [("<a@deferred.example>", "<bad@local.example>"), ("<a@permitted.example>", "<user@local.example>"),
             ("<a@ok.example>", "<bad@local.example>"), ("<a@ok.example>", "<worse@local.example>"),
             ("<a@ok.example>", "<held@local.example>"), ("<a@ok.example>", "<user@local.example>")]
    ours = [session(filterd.port, "client.example", sender, recipient) for sender, recipient in cases]
    assert ours == [session(postfix.port, "client.example", sender, recipient) for sender, recipient in cases]
    assert ours[0][2] == "450 4.7.1 <a@deferred.example>: Sender address rejected: Service unavailable"
    assert ours[3][2] == "450 4.7.0 <worse@local.example>: Recipient address rejected: defer_if_reject requested"


def test_a_restriction_class_named_by_an_access_table_is_postfix_s(launcher):
    postfix, filterd = pair(launcher, "classes", {
        "smtpd_restriction_classes": "strict_class", "strict_class": "reject_non_fqdn_sender, reject",
        "smtpd_recipient_restrictions": "check_recipient_access inline:{ closed@local.example=strict_class }"})
    for sender, recipient in (("<a@nodot>", "<closed@local.example>"), ("<a@ok.example>", "<closed@local.example>"),
                              ("<a@nodot>", "<user@local.example>")):
        ours = session(filterd.port, "client.example", sender, recipient)
        assert ours == session(postfix.port, "client.example", sender, recipient)
    assert ours[2] == "250 2.1.5 Ok"


def warning_line(log: str, recipient: str) -> str:
    """The reject_warning line for a recipient, from the reply on."""
    lines = [line for line in log.splitlines() if ": reject_warning: RCPT from" in line and f"to=<{recipient}>" in line]
    assert lines, f"no reject_warning line for {recipient}"
    return lines[-1].split("[127.0.0.1]: ", 1)[1]


def test_warn_if_reject_logs_postfix_s_reject_warning_line_and_accepts(launcher):
    postfix, filterd = pair(launcher, "warn-if-reject", {"smtpd_recipient_restrictions": (
        "warn_if_reject check_recipient_access inline:{ {watched@local.example=REJECT Not wanted} }, "
        "permit_mynetworks, reject_unauth_destination")})
    ours = session(filterd.port, "client.example", "<a@ok.example>", "<watched@local.example>")
    assert ours == session(postfix.port, "client.example", "<a@ok.example>", "<watched@local.example>")
    assert ours[2] == "250 2.1.5 Ok"
    expected = wait_until(lambda: warning_line(postfix.maillog(), "watched@local.example")
                          if "reject_warning" in postfix.maillog() else None, 30, "Postfix's reject_warning line")
    ours = wait_until(lambda: warning_line(filterd.log(), "watched@local.example")
                      if "reject_warning" in filterd.log() else None, 30, "filterd's reject_warning line")
    assert ours == expected == ("554 5.7.1 <watched@local.example>: Recipient address rejected: Not wanted; "
                                "from=<a@ok.example> to=<watched@local.example> proto=ESMTP helo=<client.example>")
    assert ": reject_warning: RCPT from " in filterd.log()


def pipelined(port: int, groups: list[list[str]]) -> list[str]:
    """Each group of commands sent in one write, and every reply's first line (EHLO's code, a queue id left out)."""
    client = Client(port)
    try:
        replies = []
        for group in groups:
            client.sock.sendall("".join(f"{line}\r\n" for line in group).encode())
            for line in group:
                reply = client.reply().splitlines()[0]
                replies.append(reply[:3] if line.startswith("EHLO") else reply.split(": queued as")[0])
        return replies
    finally:
        client.close()


PIPELINING_AND_BOUNCES = [
    [["EHLO client.example"], ["MAIL FROM:<>"], ["RCPT TO:<first@local.example>"], ["RCPT TO:<second@local.example>"],
     ["QUIT"]],
    [["EHLO client.example"], ["MAIL FROM:<>"], ["RCPT TO:<first@local.example>"], ["RCPT TO:<third@local.example>"],
     ["DATA"], ["QUIT"]],
    [["EHLO client.example"], ["MAIL FROM:<>"], ["RCPT TO:<first@local.example>"], ["DATA"], ["."], ["QUIT"]],
    [["EHLO client.example"], ["MAIL FROM:<a@ok.example>"], ["RCPT TO:<first@local.example>"],
     ["RCPT TO:<second@local.example>"], ["DATA"], ["."], ["QUIT"]],
    [["EHLO client.example", "MAIL FROM:<a@ok.example>"], ["RCPT TO:<piped@local.example>"], ["DATA"], ["QUIT"]],
]


def test_unauth_pipelining_multi_recipient_bounces_and_sleep_are_postfix_s(launcher):
    postfix, filterd = pair(launcher, "pipelining", {
        "smtpd_recipient_restrictions": "check_recipient_access inline:{ "
                                        "{second@local.example=reject_multi_recipient_bounce} }",
        "smtpd_data_restrictions": "sleep 1, reject_unauth_pipelining, reject_multi_recipient_bounce"})
    for number, groups in enumerate(PIPELINING_AND_BOUNCES):
        started = time.monotonic()
        ours = pipelined(filterd.port, groups)
        assert number == 0 or time.monotonic() - started >= 1, "sleep 1 before DATA's reply"
        assert ours == pipelined(postfix.port, groups)
    assert pipelined(filterd.port, PIPELINING_AND_BOUNCES[0])[3] == \
        "550 5.5.3 <second@local.example>: Recipient address rejected: Multi-recipient bounce"
    assert pipelined(filterd.port, PIPELINING_AND_BOUNCES[1])[4] == \
        "550 5.5.3 <DATA>: Data command rejected: Multi-recipient bounce"
    assert pipelined(filterd.port, PIPELINING_AND_BOUNCES[4])[3] == \
        "503 5.5.0 <DATA>: Data command rejected: Improper use of SMTP command pipelining"

    def lines(log: str) -> list[str]:
        """The reject and pipelining lines, from the text after the program name on, the queue id as ID."""
        wanted = re.compile(r"\]: (?:\w+(: reject: .*)|(improper command pipelining .*))$")
        return sorted(f"ID{match[1]}" if match[1] else match[2] for match in map(wanted.search, log.splitlines())
                      if match)

    theirs = wait_until(lambda: len(lines(postfix.maillog())) >= 4 and lines(postfix.maillog()), 30,
                        "Postfix's reject lines")
    ours = wait_until(lambda: len(lines(filterd.log())) >= 2 * len(theirs) and lines(filterd.log()), 30,
                      "filterd's reject lines")
    assert sorted(set(ours)) == theirs
    assert ("ID: reject: DATA from localhost[127.0.0.1]: 503 5.5.0 <DATA>: Data command rejected: Improper use "
            "of SMTP command pipelining; from=<a@ok.example> to=<piped@local.example> proto=ESMTP "
            "helo=<client.example>") in ours


def message_session(port: int, sender: str, recipients: list[str]) -> list[str]:
    """EHLO, MAIL, each RCPT, DATA and a message: every reply's first line."""
    groups = [["EHLO client.example"], [f"MAIL FROM:{sender}"], *([f"RCPT TO:{rcpt}"] for rcpt in recipients),
              ["DATA"], ["Subject: test\r\n\r\nbody\r\n."], ["QUIT"]]
    return pipelined(port, groups)


END_OF_DATA_CASES = [("<a@ok.example>", ["<user@local.example>"]), ("<a@rejected.example>", ["<user@local.example>"]),
                     ("<a@deferred.example>", ["<user@local.example>"]), ("<a@all.example>", ["<user@local.example>"]),
                     ("<>", ["<user@local.example>"]), ("<>", ["<user@local.example>", "<other@local.example>"]),
                     ("<a@ok.example>", ["<bye@local.example>"]),
                     ("<a@ok.example>", ["<bye@local.example>", "<user@local.example>"])]


def test_end_of_data_restrictions_refuse_the_message_as_postfix_does(launcher):
    postfix, filterd = pair(launcher, "end-of-data", {"smtpd_end_of_data_restrictions": (
        "check_recipient_access inline:{ {bye@local.example=REJECT Bye} }, "
        "check_sender_access inline:{ {rejected.example=REJECT Not this one}, deferred.example=DEFER, "
        "all.example=reject }, reject_multi_recipient_bounce")})
    ours = [message_session(filterd.port, sender, recipients) for sender, recipients in END_OF_DATA_CASES]
    assert ours == [message_session(postfix.port, sender, recipients) for sender, recipients in END_OF_DATA_CASES]
    assert [replies[-2] for replies in ours] == [
        "250 2.0.0 Ok", "554 5.7.1 <a@rejected.example>: Sender address rejected: Not this one",
        "450 4.7.1 <a@deferred.example>: Sender address rejected: Access denied",
        "554 5.7.1 <a@all.example>: Sender address rejected: Access denied", "250 2.0.0 Ok",
        "550 5.5.3 <END-OF-MESSAGE>: End-of-data rejected: Multi-recipient bounce",
        "554 5.7.1 <bye@local.example>: Recipient address rejected: Bye", "250 2.0.0 Ok"]

    def lines(log: str) -> list[str]:
        """The reject lines, from the text after the program name on, the queue id as ID."""
        return sorted(f"ID{match[1]}" for match in map(re.compile(r"\]: \w+(: reject: .*)$").search,
                                                       log.splitlines()) if match)

    theirs = wait_until(lambda: len(lines(postfix.maillog())) >= 5 and lines(postfix.maillog()), 30,
                        "Postfix's reject lines")
    assert wait_until(lambda: len(lines(filterd.log())) >= 5 and lines(filterd.log()), 30,
                      "filterd's reject lines") == theirs
    assert ("ID: reject: END-OF-MESSAGE from localhost[127.0.0.1]: 550 5.5.3 <END-OF-MESSAGE>: End-of-data rejected: "
            "Multi-recipient bounce; from=<> proto=ESMTP helo=<client.example>") in theirs


def test_warn_if_reject_before_a_deferral_kept_for_later_warns_as_postfix_does(launcher):
    postfix, filterd = pair(launcher, "warn-deferral", {
        "smtpd_restriction_classes": "warned_table, warned_list",
        "warned_table": "warn_if_reject check_sender_access inline:{ok.example=DEFER_IF_PERMIT}",
        "warned_list": "warn_if_reject check_recipient_access inline:{ "
                       "{nestedwarn@local.example=reject_non_fqdn_recipient defer_if_permit reject} }",
        "smtpd_recipient_restrictions": (
            "check_recipient_access inline:{ {warned@local.example=warn_if_reject defer_if_permit}, "
            "{tabled@local.example=warned_table}, {deferred@local.example=defer_if_permit}, "
            "{nested@local.example=check_sender_access inline:{ok.example=OK}}, {relay@local.example=RELAY}, "
            "{deferall@local.example=reject_non_fqdn_sender defer}, {nestedwarn@local.example=warned_list} }, "
            "permit_mynetworks, reject_unauth_destination")})
    cases = ["<warned@local.example>", "<tabled@local.example>", "<deferred@local.example>", "<nested@local.example>",
             "<relay@local.example>", "<deferall@local.example>", "<nestedwarn@local.example>"]
    ours = [session(filterd.port, "client.example", "<a@ok.example>", rcpt) for rcpt in cases]
    assert ours == [session(postfix.port, "client.example", "<a@ok.example>", rcpt) for rcpt in cases]
    assert [replies[2] for replies in ours] == [
        "250 2.1.5 Ok", "250 2.1.5 Ok",
        "450 4.7.1 <deferred@local.example>: Recipient address rejected: Service unavailable",
        "451 4.3.5 Server configuration error", "250 2.1.5 Ok",
        "450 4.3.2 <deferall@local.example>: Recipient address rejected: Try again later", "250 2.1.5 Ok"]
    for recipient in ("warned@local.example", "tabled@local.example"):
        expected = wait_until(lambda: recipient in postfix.maillog() and warning_line(postfix.maillog(), recipient),
                              30, "Postfix's reject_warning line")
        assert wait_until(lambda: recipient in filterd.log() and warning_line(filterd.log(), recipient), 30,
                          "filterd's reject_warning line") == expected

    def nested_warnings(log: str) -> list[str]:
        return [line.split("]: ", 2)[2] for line in log.splitlines()
                if "reject_warning: RCPT" in line and "to=<nestedwarn@" in line]

    expected = wait_until(lambda: len(nested_warnings(postfix.maillog())) == 2 and nested_warnings(postfix.maillog()),
                          30, "Postfix's two reject_warning lines")
    assert wait_until(lambda: len(nested_warnings(filterd.log())) == 2 and nested_warnings(filterd.log()), 30,
                      "filterd's two reject_warning lines") == expected


PATTERN_TABLES = {
    "helo": "/^helo\\.example$/ REJECT anchored helo\n/^[0-9]+\\.[0-9]+$/ REJECT numeric prefix\n",
    "sender": "/^sender\\.example$/ REJECT anchored domain\n/^spammer@$/ REJECT local part at\n"
              "/^\\.parent\\.example$/ REJECT parent\n/^whole@sender\\.example$/ REJECT whole address\n",
    "client": "/^127\\.0$/ REJECT address prefix\n/^127$/ REJECT address prefix\n",
}


def test_pattern_tables_are_asked_the_full_name_or_address_alone_as_postfix_asks_them(launcher):
    """Postfix asks a regexp: or pcre: table the full key only (the HELO name, the client's address, the whole
    email address), never a parent domain, an address prefix, `user@` or the domain alone: those partial keys go
    to fixed-string tables (texthash:, inline:), which the matrix above covers."""
    directory = launcher.directory("pattern-tables")
    directory.mkdir(parents=True, exist_ok=True)
    for name, text in PATTERN_TABLES.items():
        (directory / name).write_text(text)
    postfix, filterd = pair(launcher, "patterns", {
        "smtpd_client_restrictions": f"check_client_access pcre:{directory / 'client'}",
        "smtpd_helo_restrictions": f"check_helo_access pcre:{directory / 'helo'}",
        "smtpd_sender_restrictions": f"check_sender_access regexp:{directory / 'sender'}"})
    cases = [("helo.example", "<a@ok.example>"), ("mail.helo.example", "<a@ok.example>"),
             ("host.2.1", "<a@ok.example>"), ("client.example", "<a@sender.example>"),
             ("client.example", "<spammer@ok.example>"), ("client.example", "<a@sub.parent.example>"),
             ("client.example", "<whole@sender.example>")]
    ours = [session(filterd.port, helo, sender, "<user@local.example>") for helo, sender in cases]
    assert ours == [session(postfix.port, helo, sender, "<user@local.example>") for helo, sender in cases]
    assert [replies[2][:3] for replies in ours] == ["554", "250", "250", "250", "250", "250", "554"]
    assert ours[0][2] == "554 5.7.1 <helo.example>: Helo command rejected: anchored helo"
