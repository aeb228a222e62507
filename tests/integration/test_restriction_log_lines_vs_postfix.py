"""What the restrictions log besides a refusal, compared with a real Postfix 3.7 line by line: the WARN and INFO
lines of access tables (the table's text, empty when it has none) and warn_if_reject's reject_warning, at every
command that evaluates them, also when a later list refuses."""

from __future__ import annotations

import pytest

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
