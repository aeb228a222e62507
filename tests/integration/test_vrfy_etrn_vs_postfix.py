"""VRFY, ETRN and EHLO sent to a real Postfix 3.7 and to filterd (relay mode) with the same main.cf: every reply
equal line by line (host names made alike), and smtpd's log lines too (the `Illegal address syntax` and ETRN
warnings, `NOQUEUE: reject: VRFY from ...`, `discarding EHLO keywords: ...`, the `disconnect from` counts)."""

from __future__ import annotations

import re
import socket
from pathlib import Path

import pytest

from tests.conftest import Launcher, require_programs
from tests.harness import FilterdProcess, Postfix, free_port, make_workdir, read_text, smtpd_listener, wait_until

pytestmark = pytest.mark.integration

COMMON = {"smtpd_error_sleep_time": "0", "smtpd_hard_error_limit": "100", "mynetworks": "127.0.0.0/8"}
HOSTS = re.compile(r"\b(?:postfix|filterd)\.test\b")
LINE = re.compile(r"^\w{3} [ \d]\d \d\d:\d\d:\d\d \S+ [^/\s]+/smtpd\[\d+\]: (?P<text>.*)$")
QUEUE_ID = re.compile(r"^(?:[0-9A-F]{10,12}|[0-9B-DF-HJ-NP-TV-Zb-df-hj-np-tv-z]{15,}): ")

SYNTAX = ["VRFY", "VRFY <postmaster>", "ETRN example.com", "EHLO client.example", "VRFY", "VRFY SMTPUTF8",
          "VRFY a@b SMTPUTF8", "VRFY a@b smtputf8", "VRFY postmaster", "VRFY <user@remote.example>",
          "VRFY user@remote.example", "VRFY <user@127.0.0.1>", "VRFY John Doe <jd@example.com>", "VRFY a b",
          "VRFY  a   b@x  ", "VRFY <>", 'VRFY "quoted local"@example.com', "VRFY <a@b> <c@d>", "VRFY <a@[1.2.3.4]>",
          "VRFY @route:a@b", "VRFY u@bücher.example", "VRFY u@bücher.example SMTPUTF8", "VRFY a <b c",
          "MAIL FROM:<s@example.org>", "VRFY x@y", "ETRN", "ETRN example.com", "RSET", "ETRN", "ETRN a b",
          "ETRN example.com", "ETRN @example.com", "ETRN #example.com", "ETRN [1.2.3.4]", "ETRN [IPv6:::1]",
          "ETRN [1.2.3]", "ETRN bad_domain!", "ETRN -bad.com", "ETRN 1.2.3.4", "ETRN .example.com", "ETRN ex_ample.com",
          "ETRN example.com.", *["FOO"] * 60, f"ETRN {'a' * 63}.{'b' * 63}.{'c' * 63}.example", "QUIT"]
"""Syntax: VRFY's and ETRN's refusals, before EHLO, inside a transaction; from mynetworks (nothing is refused)."""

STRANGER = ["EHLO client.example", "VRFY <user@remote.example>", "VRFY postmaster", "VRFY postmaster@remote.example",
            'VRFY "postmaster"', "VRFY user@relay.example", "VRFY user@sub.relay.example",
            "MAIL FROM:<s@example.org>", "VRFY <user@remote.example>", "RCPT TO:<a@relay.example>",
            "VRFY <user@remote.example>", "VRFY a@b SMTPUTF8", "MAIL FROM:<s@example.org> SMTPUTF8",
            "RCPT TO:<b@relay.example> NOTIFY=NEVER", "RSET", "MAIL FROM:<s@example.org> RET=HDRS", "RSET",
            "ETRN relay.example", "ETRN sub.relay.example", "ETRN flush.example", "ETRN not.flush.example",
            "ETRN other.example", "ETRN [192.0.2.1]", "ETRN dot.example", "ETRN a.dot.example", "ETRN FLUSH.Example", "STARTTLS", "AUTH PLAIN", "QUIT"]
"""A client outside mynetworks: the relay restrictions at VRFY, fast_flush_domains at ETRN, and what discarded
keywords (DSN, SMTPUTF8) turn off."""
STRANGER_CF = {"mynetworks": "10.0.0.0/8", "relay_domains": "relay.example",
               "fast_flush_domains": "$relay_domains, flush.example, !not.flush.example, [192.0.2.1], .dot.example",
               "smtpd_discard_ehlo_keywords": "dsn, smtputf8 Starttls"}

NO_SMTPUTF8 = [*SYNTAX[:-1], "EHLO client.example", "MAIL FROM:<s@example.org> SMTPUTF8",
               "MAIL FROM:<s@bücher.example>", "MAIL FROM:<s@example.org>", "RCPT TO:<u@bücher.example>",
               "RCPT TO:<ü@example.com>", "VRFY u@bücher.example SMTPUTF8", "QUIT"]
"""smtputf8_enable = no: no SMTPUTF8 in EHLO, taken nowhere, VRFY's syntax reply without it."""

DELAYED = ["EHLO client", "VRFY <a@relay.example>", "VRFY postmaster", "ETRN relay.example", "ETRN other.example",
           "HELO client.example", "ETRN relay.example", "VRFY <a@relay.example>",
           "MAIL FROM:<s>", "VRFY <a@relay.example>", "RSET", "MAIL FROM:<s@example.org>", "VRFY <a@relay.example>",
           "VRFY <a@other.example>", "QUIT"]
"""smtpd_delay_reject: the HELO restrictions at VRFY and ETRN, the sender's only inside a transaction."""
DELAYED_CF = {"smtpd_helo_restrictions": "reject_non_fqdn_helo_hostname",
              "smtpd_sender_restrictions": "reject_non_fqdn_sender", "relay_domains": "relay.example",
              "mynetworks": "10.0.0.0/8"}

CLIENT = ["ETRN example.com", "EHLO client.example", "VRFY a@b", "ETRN example.com", "ETRN other.example", "QUIT"]
"""smtpd_delay_reject: the client restrictions at ETRN (before fast_flush_domains) and at VRFY."""
CLIENT_CF = {"smtpd_client_restrictions": "check_client_access inline:{127.0.0.1=REJECT}",
             "fast_flush_domains": "example.com"}

ETRN_LIST = ["ETRN example.com", "VRFY a@b", "MAIL FROM:<s@example.org>", "RCPT TO:<a@b>", "RSET",
             "EHLO client.example", "ETRN example.com", "ETRN sub.example.com", "ETRN Example.COM",
             "ETRN other.example", "ETRN ok.example", "ETRN @ok.example", "ETRN #deferred.example",
             "ETRN maybe.example", "ETRN [192.0.2.1]", "ETRN unlisted.example", "ETRN classy.example",
             "ETRN held.example", "ETRN gone.example", "QUIT"]
"""smtpd_etrn_restrictions: check_etrn_access about the domain (and its parents) and `reject` naming it, before
fast_flush_domains; the HELO restrictions apply (at ETRN, VRFY and RCPT) only once there is a HELO name."""
ETRN_LIST_CF = {"smtpd_helo_restrictions": "check_helo_access inline:{client.example=OK}, defer",
                "smtpd_restriction_classes": "classy", "classy": "reject_unauth_pipelining, defer",
                "smtpd_etrn_restrictions": "check_etrn_access inline:{ { other.example = 450 4.7.9 Not now }, "
                                           "ok.example=OK, "
                                           "deferred.example=DEFER, maybe.example=DEFER_IF_PERMIT, "
                                           "{ example.com = REJECT no flush for you }, classy.example=classy, "
                                           "held.example=HOLD, { gone.example = DISCARD gone } }, "
                                           "reject",
                "fast_flush_domains": "example.com, ok.example"}
ETRN_NOW = ["ETRN ok.example", "EHLO client.example", "ETRN ok.example", "ETRN other.example", "QUIT"]
"""smtpd_delay_reject = no: the ETRN list alone (the HELO list answered EHLO)."""
ETRN_NOW_CF = {"smtpd_delay_reject": "no", "smtpd_helo_restrictions": "reject_non_fqdn_helo_hostname",
               "smtpd_etrn_restrictions": "check_etrn_access inline:{ok.example=OK}, defer",
               "fast_flush_domains": "ok.example"}

FLOOD = ["EHLO client.example", *["VRFY postmaster", "NOOP", "RSET", "ETRN example.com", "HELO client.example",
                                   "MAIL FROM:<s@example.org>", "VRFY a b"] * 4]
"""smtpd_junk_command_limit: past it each HELO, EHLO, NOOP, RSET, VRFY and ETRN is an error too, up to the 421."""
FLOOD_CF = {"smtpd_junk_command_limit": "3", "smtpd_hard_error_limit": "12"}

DISABLED = ["EHLO client.example", "VRFY postmaster", "VRFY", "ETRN example.com", "HELO client.example",
            "VRFY x@y", "QUIT"]
DISABLED_CF = {"disable_vrfy_command": "yes", "smtpd_discard_ehlo_keywords": "silent-discard pipelining etrn",
               "message_size_limit": "0"}


@pytest.fixture(scope="module")
def launcher():
    require_programs()
    launcher = Launcher(make_workdir("filterd-vrfy-"))
    try:
        yield launcher
    finally:
        launcher.stop_all()


def servers(launcher: Launcher, settings: dict[str, str]) -> tuple[Postfix, FilterdProcess]:
    """A Postfix and a filterd relay with the same main.cf."""
    postfix = launcher.launch(Postfix(launcher.directory("postfix"), [smtpd_listener(free_port())],
                                      {**COMMON, **settings}))
    port = free_port()
    filterd = launcher.launch(FilterdProcess(launcher.directory("filterd"), {
        **COMMON, **settings, "filterd_listeners": f"relay:127.0.0.1:{port}", "smtp_dns_support_level": "disabled"},
        port=port))
    return postfix, filterd


def replies(port: int, commands: list[str]) -> list[list[str]]:
    """Each command's reply (its lines, host names made alike), one command at a time."""
    answers = []
    with socket.create_connection(("127.0.0.1", port), timeout=30) as sock, sock.makefile("rb") as incoming:
        read_reply(incoming)
        for command in commands:
            sock.sendall(command.encode() + b"\r\n")
            answers.append([f">>> {command}", *read_reply(incoming)])
            if answers[-1][-1].startswith(("221 ", "421 ")):
                break
    return answers


def read_reply(incoming) -> list[str]:
    lines = []
    while True:
        line = incoming.readline().decode("utf-8", "replace").rstrip("\r\n")
        assert line, f"connection closed after {lines}"
        lines.append(HOSTS.sub("HOST", line))
        if line[3:4] != "-":
            return lines


def smtpd_lines(path: Path) -> list[str]:
    """smtpd's log lines, queue ids made alike, once the session is over."""
    wait_until(lambda: "disconnect from" in read_text(path), 10, f"the end of the session in {path}")
    lines = [match["text"] for match in map(LINE.match, read_text(path).splitlines()) if match]
    return [QUEUE_ID.sub("QID: ", line) for line in lines]


@pytest.mark.parametrize("commands, settings", [(SYNTAX, {}), (STRANGER, STRANGER_CF), (DELAYED, DELAYED_CF),
                                                (CLIENT, CLIENT_CF), (ETRN_LIST, ETRN_LIST_CF),
                                                (ETRN_NOW, ETRN_NOW_CF), (FLOOD, FLOOD_CF), (DISABLED, DISABLED_CF),
                                                (NO_SMTPUTF8, {"smtputf8_enable": "no"})],
                         ids=["syntax", "stranger", "delayed", "client", "etrn", "etrn-now", "flood", "disabled",
                              "smtputf8-off"])
def test_replies_and_log_lines_are_postfix_s(launcher, commands, settings):
    postfix, filterd = servers(launcher, settings)
    expected = replies(postfix.port, commands)
    assert replies(filterd.port, commands) == expected
    assert smtpd_lines(filterd.log_path) == smtpd_lines(postfix.maillog_path)


def test_the_address_maps_discard_for_one_client_as_postfix_s_do(launcher):
    table = launcher.root / "ehlo_discards.cidr"
    table.write_text("192.0.2.0/24 vrfy\n127.0.0.1/32 size, 8bitmime VRFY etrn\n")
    table.chmod(0o644)
    settings = {"smtpd_discard_ehlo_keyword_address_maps": f"cidr:{table}", "smtpd_discard_ehlo_keywords": "dsn"}
    postfix, filterd = servers(launcher, settings)
    commands = ["EHLO client.example", "MAIL FROM:<s@example.org> RET=FULL", "QUIT"]
    expected = replies(postfix.port, commands)
    assert expected[0][1:] == ["250-HOST", "250-PIPELINING", "250-ENHANCEDSTATUSCODES", "250-DSN", "250-SMTPUTF8",
                               "250 CHUNKING"]
    assert replies(filterd.port, commands) == expected
    assert smtpd_lines(filterd.log_path) == smtpd_lines(postfix.maillog_path)
