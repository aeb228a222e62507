"""What the restrictions log besides a refusal, compared with a real Postfix 3.7 line by line: the WARN and INFO
lines of access tables (the table's text, empty when it has none) and warn_if_reject's reject_warning, at every
command that evaluates them, also when a later list refuses; HOLD and FILTER kept when a later one refuses."""

from __future__ import annotations

import re
import subprocess

import pytest

from filterd.queue.queuefile import QueueFile
from tests.integration.test_vrfy_etrn_vs_postfix import launcher, replies, servers, smtpd_lines  # noqa: F401

pytestmark = pytest.mark.integration

WARNINGS_CF = {
    "smtpd_client_restrictions": "check_client_access inline:{127.0.0.1=WARN}",
    "smtpd_helo_restrictions": "check_helo_access inline:{ { client.example = WARN helo looks odd } }, "
                               "warn_if_reject reject_non_fqdn_helo_hostname",
    "smtpd_sender_restrictions": "check_sender_access inline:{ { s@example.org = INFO noted } }",
    "smtpd_recipient_restrictions": "check_recipient_access inline:{ bad@relay.example=REJECT, "
                                    "{ warned@relay.example = WARN about the recipient }, info@relay.example=INFO }, "
                                    "permit",
    "smtpd_etrn_restrictions": "check_etrn_access inline:{ { example.com = WARN etrn } }",
    "fast_flush_domains": "example.com"}
WARNINGS = ["EHLO client.example", "MAIL FROM:<s@example.org>", "RCPT TO:<a@relay.example>",
            "RCPT TO:<bad@relay.example>", "RCPT TO:<warned@relay.example>", "RCPT TO:<info@relay.example>", "RSET",
            "VRFY <bad@relay.example>", "ETRN example.com", "EHLO client", "MAIL FROM:<other@example.org>",
            "RCPT TO:<bad@relay.example>", "RCPT TO:<a@relay.example>", "RSET", "ETRN example.com", "QUIT"]


AT_CONNECT_CF = {"smtpd_delay_reject": "no",
                 "smtpd_client_restrictions": "check_client_access inline:{127.0.0.1=WARN}, reject"}
AT_CONNECT = ["EHLO client.example", "MAIL FROM:<a@example.org>", "ETRN example.com", "VRFY a@b", "QUIT"]
"""Without smtpd_delay_reject: the client's WARN and its refusal at CONNECT, logged once (no from=: no MAIL yet)."""


AT_HELO_CF = {"smtpd_delay_reject": "no",
              "smtpd_helo_restrictions": "check_helo_access inline:{ { client = WARN odd name } }, "
                                         "reject_non_fqdn_helo_hostname",
              "smtpd_sender_restrictions": "check_sender_access inline:{ blocked.example=REJECT }"}
AT_HELO = ["EHLO client", "EHLO client.example", "EHLO client", "HELO other", "MAIL FROM:<a@blocked.example>",
           "QUIT"]
"""Without smtpd_delay_reject: EHLO and HELO refused at once, logged with the protocol as it was (proto=SMTP for a
first EHLO) and the name refused; a later refusal names the last name that was accepted."""


@pytest.mark.parametrize("settings, commands", [(WARNINGS_CF, WARNINGS), (AT_CONNECT_CF, AT_CONNECT),
                                                (AT_HELO_CF, AT_HELO)],
                         ids=["delayed", "at-connect", "at-helo"])
def test_warn_and_info_lines_are_postfix_s(launcher, settings, commands):  # noqa: F811
    postfix, filterd = servers(launcher, settings)
    assert replies(filterd.port, commands) == replies(postfix.port, commands)
    assert smtpd_lines(filterd.log_path) == smtpd_lines(postfix.maillog_path)


SAVED_CF = {"smtpd_recipient_restrictions": "check_recipient_access inline:{ { held@relay.example = HOLD on purpose }, "
                                            "{ routed@relay.example = FILTER smtp:[127.0.0.1]:10099 } }, "
                                            "check_recipient_access inline:{ held@relay.example=REJECT, "
                                            "routed@relay.example=REJECT }, permit"}
SAVED = ["EHLO client.example", "MAIL FROM:<s@example.org>", "RCPT TO:<held@relay.example>",
         "RCPT TO:<routed@relay.example>", "RCPT TO:<ok@relay.example>", "DATA",
         "Subject: saved\r\n\r\nbody\r\n.", "QUIT"]


def test_hold_and_filter_met_before_a_refused_recipient_stay_with_the_message(launcher):  # noqa: F811
    """As smtpd saves them for the transaction: logged where they are met, the recipient refused, and the message
    that a later recipient gets queued is held and routed through the filter."""
    postfix, filterd = servers(launcher, SAVED_CF)
    assert queued_as_alike(replies(filterd.port, SAVED)) == queued_as_alike(replies(postfix.port, SAVED))
    assert smtpd_lines(filterd.log_path) == smtpd_lines(postfix.maillog_path)
    held = [path for path in (postfix.directory / "queue" / "hold").rglob("*") if path.is_file()]
    assert len(held) == 1
    assert "smtp:[127.0.0.1]:10099" in postfix_record(postfix, held[0].name)
    [queued] = (filterd.directory / "queue" / "hold").iterdir()
    envelope = QueueFile.read(str(queued)).envelope
    assert envelope.hold_reason.endswith("on purpose") and envelope.filter == "smtp:[127.0.0.1]:10099"


def queued_as_alike(answers: list[list[str]]) -> list[list[str]]:
    return [[re.sub(r"queued as \S+", "queued as QID", line) for line in lines] for lines in answers]


def postfix_record(postfix, queue_id: str) -> str:
    return subprocess.run(["postcat", "-c", str(postfix.config_dir), "-q", queue_id], capture_output=True, text=True,
                          check=True).stdout


UNLISTED_CF = {"mydestination": "local.example", "relay_domains": "relay.example", "myorigin": "origin.example",
               "local_recipient_maps": "inline:{ user@local.example=1, alias=1 }",
               "relay_recipient_maps": "inline:{ user@relay.example=1, @sub.relay.example=1 }",
               "smtpd_sender_restrictions": "reject_unlisted_sender",
               "smtpd_recipient_restrictions": "warn_if_reject reject_unlisted_recipient, permit"}
UNLISTED = ["EHLO client.example", "MAIL FROM:<nobody@local.example>", "RCPT TO:<user@local.example>", "RSET",
            "MAIL FROM:<user@local.example>", "RCPT TO:<user@local.example>", "RCPT TO:<alias@local.example>",
            "RCPT TO:<nobody@local.example>", "RCPT TO:<Postmaster@local.example>",
            "RCPT TO:<MAILER-DAEMON@local.example>", "RCPT TO:<user@relay.example>", "RCPT TO:<other@relay.example>",
            "RCPT TO:<x@sub.relay.example>", "RCPT TO:<user@foreign.example>", "RCPT TO:<nobody>",
            'RCPT TO:<"no body"@local.example>', "VRFY nobody@local.example", "VRFY user@local.example", "QUIT"]
"""local_recipient_maps and relay_recipient_maps: reject_unlisted_sender, reject_unlisted_recipient after
warn_if_reject (a warning, so the implicit check of smtpd_reject_unlisted_recipient refuses after `permit`), the
local parts every local domain accepts, @domain keys, addresses of other domains, VRFY."""


def test_unlisted_senders_and_recipients_are_refused_as_postfix_refuses_them(launcher):  # noqa: F811
    postfix, filterd = servers(launcher, UNLISTED_CF)
    assert replies(filterd.port, UNLISTED) == replies(postfix.port, UNLISTED)
    assert smtpd_lines(filterd.log_path) == smtpd_lines(postfix.maillog_path)


IMPLICIT_SENDER_CF = {"mydestination": "local.example", "relay_domains": "relay.example",
                      "local_recipient_maps": "inline:{ user@local.example=1 }, pcre:{PATTERNS}",
                      "relay_recipient_maps": "inline:{ user@relay.example=1 }",
                      "smtpd_reject_unlisted_sender": "yes",
                      "smtpd_sender_restrictions": "check_sender_access inline:{ ok@local.example=OK, "
                                                   "held@local.example=HOLD, gone@local.example=REJECT }"}
IMPLICIT_SENDER = ["EHLO client.example", "MAIL FROM:<nobody@local.example>", "RCPT TO:<user@local.example>", "RSET",
                   "MAIL FROM:<ok@local.example>", "RCPT TO:<user@local.example>", "RSET",
                   "MAIL FROM:<gone@local.example>", "RCPT TO:<user@local.example>", "RSET",
                   "MAIL FROM:<alias@local.example>", "RCPT TO:<user@local.example>", "RSET",
                   "MAIL FROM:<pat@local.example>", "RCPT TO:<user@local.example>", "RSET",
                   "MAIL FROM:<other@relay.example>", "RCPT TO:<user@local.example>", "RSET",
                   "MAIL FROM:<>", "RCPT TO:<user@local.example>", "RCPT TO:<alias@local.example>", "RSET",
                   "MAIL FROM:<someone@foreign.example>", "RCPT TO:<user@local.example>", "QUIT"]
"""smtpd_reject_unlisted_sender: the sender's table check after the sender restrictions (an OK from them does not
skip it, a refusal does), none for the null sender; a pattern table is asked the whole address alone (no local part
`alias`, which a fixed-string table would be asked)."""


@pytest.mark.parametrize("delay", ["yes", "no"])
def test_the_implicit_sender_check_is_postfix_s(launcher, delay):  # noqa: F811
    patterns = launcher.directory(f"implicit-sender-{delay}") / "local_recipients"
    patterns.parent.mkdir(parents=True, exist_ok=True)
    patterns.write_text("/^alias$/ 1\n/^pat@/ 1\n")
    postfix, filterd = servers(launcher, {**IMPLICIT_SENDER_CF, "smtpd_delay_reject": delay, "local_recipient_maps":
                                          IMPLICIT_SENDER_CF["local_recipient_maps"].replace("{PATTERNS}", str(patterns))})
    ours = replies(filterd.port, IMPLICIT_SENDER)
    assert ours == replies(postfix.port, IMPLICIT_SENDER)
    assert smtpd_lines(filterd.log_path) == smtpd_lines(postfix.maillog_path)
    assert ["550 5.1.0 <nobody@local.example>: Sender address rejected: User unknown in local recipient table"] in (
        answer[1:] for answer in ours)
