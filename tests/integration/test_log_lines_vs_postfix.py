"""Log lines word for word as Postfix writes them: the same SMTP session sent to a real Postfix and to filterd
(relay mode, and as a milter for Postfix), each line compared with Postfix's own once queue ids, times, pids,
sizes and delays are made alike. Per line: smtpd's connect/disconnect (with the command counts), client=,
cleanup's message-id= and header_checks reject, the qmgr's from= and removed, smtp's delivery status."""

from __future__ import annotations

import re
import socket
from collections.abc import Callable

import pytest

from tests.harness import CLIENT, free_port, wait_until

HELO = "client.example"
CHECKS = "/^Subject: reject-me/ REJECT go away\n/^Subject: redirect-me/ REDIRECT new@example.net\n"
MESSAGE = "From: a@example.org\nSubject: {subject}\nMessage-ID: <{subject}@example.org>\n\nbody\n.\n"
QUEUE_ID = re.compile(r"\b(?:[0-9A-F]{10,12}|[0-9B-DF-HJ-NP-TV-Zb-df-hj-np-tv-z]{15,})\b")
LINE = re.compile(r"^\w{3} [ \d]\d \d\d:\d\d:\d\d \S+ [^/\s]+/(?P<service>[\w-]+)\[\d+\]: (?P<text>.*)$")
LOGGED = ("smtpd", "cleanup", "qmgr", "smtp")


def message(subject: str) -> str:
    return MESSAGE.format(subject=subject)


# (name, chunks): each chunk is sent at once (several commands: pipelining) and is answered by so many replies.
SESSIONS = {
    "orcpt": [(f"EHLO {HELO}\n", 1), ("MAIL FROM:<a@example.org>\n", 1),
              ("RCPT TO:<bob@example.com> ORCPT=rfc822;bob@example.com\n", 1),
              ("RCPT TO:<carol@example.com> ORCPT=rfc822;other@example.net\n", 1), ("DATA\n", 1),
              (message("orcpt"), 1), ("QUIT\n", 1)],
    "rejected-data-rset-unknown": [(f"EHLO {HELO}\n", 1), ("MAIL FROM:<a@example.org>\n", 1),
                                   ("RCPT TO:<bob@example.com>\n", 1), ("DATA\n", 1), (message("reject-me"), 1),
                                   ("RSET\n", 1), ("FOO bar\n", 1), ("NOOP\n", 1), ("QUIT\n", 1)],
    "helo-rcpt-before-mail": [(f"HELO {HELO}\n", 1), ("RCPT TO:<bob@example.com>\n", 1),
                              ("MAIL FROM:<a@example.org>\n", 1), ("RSET\n", 1), ("QUIT\n", 1)],
    "pipelined": [(f"EHLO {HELO}\n", 1),
                  ("MAIL FROM:<a@example.org>\nRCPT TO:<bob@example.com>\nDATA\n", 3),
                  (message("reject-me") + "MAIL FROM:<b@example.org>\nRCPT TO:<carol@example.com>\nDATA\n", 4),
                  (message("pipelined") + "QUIT\n", 2)],
    "lost-after-connect": [],
    "lost-after-rcpt": [(f"EHLO {HELO}\n", 1), ("MAIL FROM:<a@example.org>\nRCPT TO:<bob@example.com>\n", 2)],
    "lost-in-data": [(f"EHLO {HELO}\n", 1), ("MAIL FROM:<a@example.org>\n", 1), ("RCPT TO:<bob@example.com>\n", 1),
                     ("DATA\n", 1), ("Subject: cut\nFrom: a@exa", 0)],
    "redirect": [(f"EHLO {HELO}\n", 1), ("MAIL FROM:<a@example.org>\n", 1),
                 ("RCPT TO:<bob@example.com> ORCPT=rfc822;bob@example.com\n", 1), ("RCPT TO:<Carol@example.com>\n", 1),
                 ("RCPT TO:<zed@a.example.org> NOTIFY=SUCCESS\n", 1), ("DATA\n", 1), (message("redirect-me"), 1),
                 ("QUIT\n", 1)],
    "redirect-to-itself": [(f"EHLO {HELO}\n", 1), ("MAIL FROM:<a@example.org>\n", 1),
                           ("RCPT TO:<NEW@example.net>\n", 1), ("DATA\n", 1), (message("redirect-me"), 1),
                           ("QUIT\n", 1)],
    "lost-in-body": [(f"EHLO {HELO}\n", 1), ("MAIL FROM:<a@example.org>\n", 1), ("RCPT TO:<bob@example.com>\n", 1),
                     ("DATA\n", 1), ("Message-ID: <cut@example.org>\nSubject: cut\n\nbody cut sh", 0)],
    "lost-in-the-header-after-message-id": [(f"EHLO {HELO}\n", 1), ("MAIL FROM:<a@example.org>\n", 1),
                                            ("RCPT TO:<bob@example.com>\n", 1), ("DATA\n", 1),
                                            ("Message-ID: <cut@example.org>\nSubj", 0)],
    "lost-right-after-message-id": [(f"EHLO {HELO}\n", 1), ("MAIL FROM:<a@example.org>\n", 1),
                                     ("RCPT TO:<bob@example.com>\n", 1), ("DATA\n", 1),
                                     ("Subject: cut\nMessage-ID: <cut@example.org>\n", 0)],
    "lost-in-body-with-resent-headers": [(f"EHLO {HELO}\n", 1), ("MAIL FROM:<a@example.org>\n", 1),
                                         ("RCPT TO:<bob@example.com>\n", 1), ("DATA\n", 1),
                                         ("Resent-Message-ID: <r@example.org>\nMessage-ID: <cut@example.org>\n"
                                          "Resent-From: r@example.org\n\nbody", 0)],
    "lost-in-body-without-message-id": [(f"EHLO {HELO}\n", 1), ("MAIL FROM:<a@example.org>\n", 1),
                                        ("RCPT TO:<bob@example.com>\n", 1), ("DATA\n", 1), ("Subject: cut\n\nbo", 0)],
    "resent-headers": [(f"EHLO {HELO}\n", 1), ("MAIL FROM:<a@example.org>\n", 1), ("RCPT TO:<bob@example.com>\n", 1),
                       ("DATA\n", 1), ("Resent-Message-ID: <r@example.org>\nResent-From: r@example.org\n"
                                       "Message-ID: <m@example.org>\nSubject: resent\n\nbody\n.\n", 1), ("QUIT\n", 1)],
    "lost-after-rset-and-noop": [(f"EHLO {HELO}\n", 1), ("MAIL FROM:<a@example.org>\n", 1), ("RSET\nNOOP\n", 2)],
    "lost-after-refused-data": [(f"EHLO {HELO}\n", 1), ("MAIL FROM:<a@example.org>\n", 1), ("DATA\n", 1)],
    "lost-after-message": [(f"EHLO {HELO}\n", 1), ("MAIL FROM:<a@example.org>\n", 1),
                           ("RCPT TO:<bob@example.com>\n", 1), ("DATA\n", 1), (message("lost"), 1)],
}
"""Sessions without QUIT end with the client hanging up: Postfix's `lost connection after CMD from CLIENT`, none
after END-OF-MESSAGE."""


def talk(port: int, chunks: list[tuple[str, int]]) -> None:
    """Send the session, reading each chunk's replies before the next chunk."""
    with socket.create_connection(("127.0.0.1", port), timeout=30) as sock, sock.makefile("rb") as replies:
        replies.readline()
        for text, count in chunks:
            sock.sendall(text.replace("\n", "\r\n").encode())
            for _ in range(count):
                while (line := replies.readline())[3:4] == b"-":
                    pass
                assert line, "connection closed early"


def normalised(log: str, services: tuple[str, ...] = LOGGED) -> list[str]:
    """`service: text` for each line of these services, with what differs by nature made alike."""
    lines = []
    for match in filter(None, map(LINE.match, log.splitlines())):
        if match["service"] in services and not match["text"].startswith(("warning: ", "daemon started")):
            text = QUEUE_ID.sub("QID", match["text"])
            text = re.sub(r"delay=[\d.]+, delays=[\d./]+", "delay=D", text)
            text = re.sub(r"size=\d+", "size=N", text)
            text = re.sub(r"<\d{14}\.QID@[^>]+>", "<TIME.QID@MYHOSTNAME>", text)
            lines.append(f"{match['service']}: {text}")
    return lines


def settled(log: Callable[[], str], sessions: int, messages: int) -> Callable[[], bool]:
    """The sessions are over and each queued message is gone from the queue."""
    return lambda: (log().count(" disconnect from ") >= sessions and log().count(": removed") >= messages)


@pytest.fixture
def pair(postfix_factory, filterd_factory, smtp_sink, tmp_path):
    """pair(**settings): a Postfix relay and a filterd relay with the same header_checks and settings, both
    relaying to one smtp-sink."""
    table = tmp_path / "header_checks.pcre"
    table.write_text(CHECKS)

    def start(**settings: str):
        postfix = postfix_factory.relay(smtp_sink.port, {"header_checks": f"pcre:{table}", **settings})
        port = free_port()
        filterd = filterd_factory({"filterd_plugins": "header_checks", "header_checks": f"pcre:{table}",
                                   "filterd_listeners": f"relay:127.0.0.1:{port}",
                                   "relayhost": f"[127.0.0.1]:{smtp_sink.port}",
                                   "smtp_dns_support_level": "disabled", "queue_run_delay": "1s", **settings},
                                  port=port)
        return postfix, filterd
    return start


def assert_same_lines(postfix, filterd, chunks: list[tuple[str, int]], services: tuple[str, ...] = LOGGED) -> None:
    """Send the session to both; each service's lines, in order, must be Postfix's."""
    messages = sum(text.count("\n.\n") - text.count("Subject: reject-me") for text, _ in chunks)
    for system, log in ((postfix, postfix.maillog), (filterd, filterd.log)):
        talk(system.port, chunks)
        wait_until(settled(log, 1, messages), 30, "the session logged and its mail delivered")
    expected, found = normalised(postfix.maillog()), normalised(filterd.log())
    for service in services:
        assert [x for x in found if x.startswith(service + ":")] == [x for x in expected if x.startswith(service + ":")]


@pytest.mark.parametrize("name", SESSIONS)
def test_relay_mode_logs_each_line_as_postfix(pair, name: str) -> None:
    assert_same_lines(*pair(), SESSIONS[name])


def test_a_recipient_refused_for_relaying_is_logged_as_postfix_logs_it(pair) -> None:
    postfix, filterd = pair(mynetworks="192.0.2.0/24")
    assert_same_lines(postfix, filterd, [(f"EHLO {HELO}\n", 1), ("MAIL FROM:<a@example.org>\n", 1),
                                         ("RCPT TO:<bob@example.com>\n", 1), ("QUIT\n", 1)])
    assert "NOQUEUE: reject: RCPT from " in filterd.log()


def test_the_milter_logs_proto_esmtp_for_an_ehlo_client_as_postfix_does(postfix_factory, filterd_factory, smtp_sink,
                                                                      tmp_path) -> None:
    table = tmp_path / "header_checks.pcre"
    table.write_text(CHECKS)
    port = free_port()
    filterd = filterd_factory({"filterd_plugins": "header_checks", "header_checks": f"pcre:{table}",
                               "filterd_listeners": f"milter:inet:127.0.0.1:{port}"}, port=port)
    with_milter = postfix_factory.relay(smtp_sink.port, {"smtpd_milters": f"inet:127.0.0.1:{port}"})
    with_checks = postfix_factory.relay(smtp_sink.port, {"header_checks": f"pcre:{table}"})
    chunks = SESSIONS["rejected-data-rset-unknown"]
    for postfix in (with_milter, with_checks):
        talk(postfix.port, chunks)
        wait_until(lambda: " disconnect from " in postfix.maillog(), 30, "the session over")
    [expected] = [x for x in normalised(with_checks.maillog(), ("cleanup",)) if ": reject: " in x]
    [found] = [x for x in normalised(filterd.log(), ("cleanup",)) if ": reject: " in x]
    assert found == expected
    assert f"from {CLIENT};" in found and f"proto=ESMTP helo=<{HELO}>" in found


@pytest.mark.parametrize("recipient", ["bob", "@a.example,@b.example:bob@example.com", "example.com!bob",
                                       "bob%example.com", "bob@example.com."])
def test_a_recipient_is_delivered_in_the_canonical_form_with_orig_to(pair, recipient: str) -> None:
    postfix, filterd = pair(myhostname="relay.example", mydestination="")
    assert_same_lines(postfix, filterd, [(f"EHLO {HELO}\n", 1), ("MAIL FROM:<a@example.org>\n", 1),
                                         (f"RCPT TO:<{recipient}>\n", 1), ("DATA\n", 1), (message("canonical"), 1),
                                         ("QUIT\n", 1)])


@pytest.mark.parametrize("recipient", ["bob%example.com@relay.example", "example.com!bob@relay.example",
                                       '"bob@example.com"@relay.example', '"bob%example.com"@relay.example'])
def test_a_sender_routed_recipient_from_a_trusted_client_is_resolved_as_postfix_resolves_it(pair, recipient: str):
    postfix, filterd = pair(myhostname="relay.example", mydestination="relay.example")
    assert_same_lines(postfix, filterd, [(f"EHLO {HELO}\n", 1), ("MAIL FROM:<a@example.org>\n", 1),
                                         (f"RCPT TO:<{recipient}>\n", 1), ("DATA\n", 1), (message("routed"), 1),
                                         ("QUIT\n", 1)])


def test_a_redirect_from_an_access_table_is_applied_by_the_queue_manager(pair, tmp_path) -> None:
    access = tmp_path / "access.pcre"
    access.write_text("/^carol@/ REDIRECT new@example.net\n/^bob@/ BCC copy@example.net\n")
    postfix, filterd = pair(smtpd_recipient_restrictions=f"check_recipient_access pcre:{access}")
    assert_same_lines(postfix, filterd, [(f"EHLO {HELO}\n", 1), ("MAIL FROM:<a@example.org>\n", 1),
                                         ("RCPT TO:<bob@example.com>\n", 1), ("RCPT TO:<carol@example.com>\n", 1),
                                         ("DATA\n", 1), (message("access"), 1), ("QUIT\n", 1)])
    assert "orig_to=<bob@example.com>" in filterd.log()


def test_virtual_aliases_are_delivered_with_orig_to_as_postfix_delivers_them(pair) -> None:
    """cleanup's expansion: each address the alias stands for delivered and logged with the original as orig_to=,
    an unlisted one of the alias domain refused at RCPT."""
    postfix, filterd = pair(virtual_alias_domains="virt.example", virtual_alias_maps=(
        "inline:{ { team@virt.example = bob@example.com, carol@example.com }, @other.example=@example.com }"))
    assert_same_lines(postfix, filterd, one_message("a@example.org", ["team@virt.example", "nobody@virt.example",
                                                                       "dave@other.example"], "aliases"))
    assert "orig_to=<team@virt.example>" in filterd.log()


@pytest.mark.parametrize("sender", ["alice", "example.org!alice", "alice@example.org."])
def test_the_sender_is_queued_in_the_canonical_form(pair, sender: str) -> None:
    postfix, filterd = pair(myhostname="relay.example", mydestination="")
    assert_same_lines(postfix, filterd, [(f"EHLO {HELO}\n", 1), (f"MAIL FROM:<{sender}>\n", 1),
                                         ("RCPT TO:<bob@example.com>\n", 1), ("DATA\n", 1), (message("sender"), 1),
                                         ("QUIT\n", 1)])


def test_a_message_without_message_id_from_a_client_whose_headers_are_not_rewritten(pair) -> None:
    postfix, filterd = pair(local_header_rewrite_clients="")
    assert_same_lines(postfix, filterd, [(f"EHLO {HELO}\n", 1), ("MAIL FROM:<a@example.org>\n", 1),
                                         ("RCPT TO:<bob@example.com>\n", 1), ("DATA\n", 1),
                                         ("Subject: no id\n\nbody\n.\n", 1), ("QUIT\n", 1)])
    assert ": message-id=<>" in filterd.log()


def one_message(sender: str, recipients: list[str], subject: str) -> list[tuple[str, int]]:
    """A session that sends one message from `sender` to each of `recipients` (those the server takes)."""
    return [(f"EHLO {HELO}\n", 1), (f"MAIL FROM:<{sender}>\n", 1), *((f"RCPT TO:<{rcpt}>\n", 1) for rcpt in recipients),
            ("DATA\n", 1), (message(subject), 1), ("QUIT\n", 1)]


def test_error_retry_and_discard_transports_are_postfix_s(pair) -> None:
    """transport_maps naming Postfix's error(8), its retry service and discard(8): smtpd refuses at RCPT what goes
    to error (550) or retry (450) with the next hop as the reason (its DSN status first when it has one); discard
    drops what it takes as sent, logged under its own name."""
    postfix, filterd = pair(transport_maps="inline:{ {err.example=error:5.1.2 Bad destination}, gone.example=error:, "
                                           "drop.example=discard:, {later.example=retry:4.4.7 Try again later}, "
                                           "quiet.example=discard:silently, {sender.example=error:5.1.1 No} }")
    recipients = ["a@err.example", "b@gone.example", "c@drop.example", "d@later.example", "e@quiet.example",
                  "bob@example.com"]
    assert_same_lines(postfix, filterd, one_message("s@sender.example", recipients, "nowhere"), (*LOGGED, "discard"))
    log = filterd.log()
    assert "550 5.1.2 <a@err.example>: Recipient address rejected: Bad destination;" in log
    assert "discard[" in log and "status=sent (silently)" in log


def test_address_statuses_are_mapped_to_the_address_refused_as_postfix_maps_them(pair) -> None:
    """smtpd_dsn_fix: an X.1.Y status refusing a sender becomes a sender's (5.1.1 -> 5.1.7), refusing a recipient a
    recipient's (5.1.7 -> 5.1.3), anything else 5.0.0, each change logged (`mapping DSN status ...`); a sender that
    transport_maps sends to error: is refused with smtpd_reject_unlisted_sender."""
    postfix, filterd = pair(
        smtpd_reject_unlisted_sender="yes", transport_maps="inline:{ {sender.example=error:5.1.1 No such sender} }",
        smtpd_helo_restrictions="check_helo_access inline:{ {bad.example=REJECT 5.1.2 Odd} }",
        smtpd_recipient_restrictions="check_recipient_access inline:{ {x@example.com=REJECT 5.1.7 Bad}, "
                                     "{y@example.com=550 5.1.9 Nine} }, check_sender_access inline:{ "
                                     "{z@example.org=REJECT 5.1.1 Unknown sender} }, permit")
    chunks = [(f"EHLO {HELO}\n", 1)]
    for helo, sender, rcpt in ((HELO, "s@sender.example", "bob@example.com"), (HELO, "a@example.org", "x@example.com"),
                               (HELO, "a@example.org", "y@example.com"), (HELO, "z@example.org", "bob@example.com"),
                               ("bad.example", "a@example.org", "bob@example.com")):
        chunks += [(f"EHLO {helo}\n", 1), (f"MAIL FROM:<{sender}>\n", 1), (f"RCPT TO:<{rcpt}>\n", 1), ("RSET\n", 1)]
    assert_same_lines(postfix, filterd, [*chunks, ("QUIT\n", 1)])
    assert "mapping DSN status 5.1.1 into Sender address status 5.1.7" in filterd.log()


def test_class_transports_are_postfix_s(pair) -> None:
    """default_transport = error: refuses at RCPT what is neither local nor in $relay_domains (a receive-only
    relay), relay_transport delivers $relay_domains and logs under relay, local_transport's error: refuses local
    recipients, each with its reason, as trivial-rewrite and smtpd's check_rcpt_maps decide."""
    postfix, filterd = pair(default_transport="error:5.7.1 Outbound mail disabled", relay_domains="relay.example",
                            mydestination="local.example", local_transport="error:5.1.1 No local delivery")
    recipients = ["a@elsewhere.example", "b@relay.example", "c@sub.relay.example", "d@local.example"]
    assert_same_lines(postfix, filterd, one_message("s@example.org", recipients, "classes"), (*LOGGED, "relay"))
    log = filterd.log()
    assert "550 5.7.1 <a@elsewhere.example>: Recipient address rejected: Outbound mail disabled;" in log
    assert "filterd/relay[" in log and "to=<b@relay.example>" in log


def test_sender_dependent_relayhost_is_postfix_s(pair) -> None:
    """sender_dependent_relayhost_maps sends s@example.org's mail to its own relayhost (here a port nobody listens on:
    deferred, as Postfix defers it) and the other senders' to relayhost."""
    dead = free_port()
    postfix, filterd = pair(sender_dependent_relayhost_maps=f"inline:{{ s@example.org=[127.0.0.1]:{dead} }}",
                            queue_run_delay="300s", minimal_backoff_time="300s", maximal_backoff_time="600s")
    chunks = [(f"EHLO {HELO}\n", 1)]
    for sender in ("s@example.org", "t@example.org"):
        chunks += [(f"MAIL FROM:<{sender}>\n", 1), ("RCPT TO:<bob@example.com>\n", 1), ("DATA\n", 1),
                   (message(f"from {sender}"), 1)]
    for system, log in ((postfix, postfix.maillog), (filterd, filterd.log)):
        talk(system.port, [*chunks, ("QUIT\n", 1)])
        wait_until(lambda: ": removed" in log() and "status=deferred" in log(), 30, "one sent, one deferred")
    expected, found = normalised(postfix.maillog()), normalised(filterd.log())
    smtp = sorted(x for x in found if x.startswith("smtp:"))
    assert smtp == sorted(x for x in expected if x.startswith("smtp:"))  # the two deliveries in either order
    assert any(f"connect to 127.0.0.1[127.0.0.1]:{dead}: Connection refused" in x for x in smtp)


def test_sender_dependent_default_transport_is_postfix_s(pair) -> None:
    """A sender whose default_transport is error: has its off-host recipients refused at RCPT (check_rcpt_maps
    resolves with the sender), the others' mail goes as before."""
    postfix, filterd = pair(sender_dependent_default_transport_maps="inline:{ {s@example.org=error:5.7.1 Not you} }")
    chunks = [(f"EHLO {HELO}\n", 1)]
    for sender in ("s@example.org", "t@example.org"):
        chunks += [(f"MAIL FROM:<{sender}>\n", 1), ("RCPT TO:<bob@example.com>\n", 1), ("RSET\n", 1)]
    assert_same_lines(postfix, filterd, [*chunks, ("QUIT\n", 1)])
    assert "550 5.7.1 <bob@example.com>: Recipient address rejected: Not you;" in filterd.log()


def test_a_dead_destination_s_mail_is_deferred_untried_as_postfix_s_qmgr_defers_it(postfix_factory, filterd_factory):
    """Twelve messages to a next hop that refuses connections: the first few are tried (smtp's `connect to` lines),
    then the destination is dead and the rest are deferred untried by the retry transport (error(8)), `delivery
    temporarily suspended: ...`, with relay=none, as Postfix's scheduler does (initial_destination_concurrency 5, one
    failed cohort)."""
    dead, port = free_port(), free_port()
    postfix = postfix_factory.relay(dead, {"initial_destination_concurrency": "5"})
    filterd = filterd_factory({"filterd_listeners": f"relay:127.0.0.1:{port}", "relayhost": f"[127.0.0.1]:{dead}",
                               "smtp_dns_support_level": "disabled"}, port=port)
    session = one_message("a@example.org", ["bob@example.com"], "dead")[1:-1] * 12
    suspended = {}
    for system, log in ((postfix, postfix.maillog), (filterd, filterd.log)):
        talk(system.port, [(f"EHLO {HELO}\n", 1), *session, ("QUIT\n", 1)])
        wait_until(lambda: log().count("status=deferred") >= 12, 30, "twelve deferrals")
        lines = [line for line in normalised(log(), ("error", "smtp")) if "status=deferred" in line]
        suspended[system] = [line for line in lines if "delivery temporarily suspended" in line]
        assert len(lines) == 12 and 1 <= len(suspended[system]) <= 9
    theirs = set(suspended[postfix])
    assert set(suspended[filterd]) == theirs == {
        f"error: QID: to=<bob@example.com>, relay=none, delay=D, dsn=4.4.1, status=deferred (delivery temporarily "
        f"suspended: connect to 127.0.0.1[127.0.0.1]:{dead}: Connection refused)"}
