"""smtpd_client_message_rate_limit and smtpd_client_recipient_rate_limit against a real Postfix 3.7 configured
alike (anvil counting for both): the same session gets the same replies (a MAIL or RCPT over the limit refused
450, a nested MAIL and a malformed one not counted) and the same warnings, in the same places in smtpd's log."""

from __future__ import annotations

import re

import pytest

from tests.fixtures.dialogue import last_lines
from tests.harness import wait_until
from tests.integration.test_restrictions_vs_postfix import pair

LIMITS = {"smtpd_client_message_rate_limit": "2", "smtpd_client_recipient_rate_limit": "3",
          "smtpd_client_event_limit_exceptions": "", "smtpd_recipient_restrictions": "",
          "smtpd_relay_restrictions": "reject_unauth_destination", "smtpd_banner": "$myhostname ESMTP"}
SESSION = [
    "EHLO client.example", "MAIL FROM:<a@ok.example>", "MAIL FROM:<a@ok.example>", "RCPT TO:<b1@local.example>",
    "RCPT TO:<b2@local.example>", "RSET", "MAIL FROM:", "RCPT TO:<b3@local.example>", "MAIL FROM:<a@ok.example>",
    "RCPT TO:<b3@local.example>", "RCPT TO:<b4@local.example>", "RSET", "MAIL FROM:<a@ok.example>", "QUIT"]


def converse(port: int) -> list[str]:
    return last_lines(port, SESSION, ehlo=None)


@pytest.fixture
def servers(mta_launcher):
    return pair(mta_launcher, "rates", LIMITS)


def test_mail_and_rcpt_over_their_rates_are_refused_as_postfix_refuses_them(servers):
    postfix, filterd = servers
    replies = {"postfix": converse(postfix.port), "filterd": converse(filterd.port)}
    assert replies["filterd"] == replies["postfix"]
    assert replies["postfix"][9:13] == ["250 2.1.5 Ok", "450 4.7.1 Error: too many recipients from 127.0.0.1",
                                        "250 2.0.0 Ok", "450 4.7.1 Error: too much mail from 127.0.0.1"]
    logs = {}
    for name, read in (("postfix", postfix.maillog), ("filterd", filterd.log)):
        wait_until(lambda: "disconnect from" in read(), 10, f"{name}'s disconnect line")
        logs[name] = [re.sub(r"^.*?/smtpd\[\d+\]: |for service \S+$", "", line) for line in read().splitlines()
                      if "/smtpd[" in line and re.search(r"limit exceeded|disconnect from", line)]
    assert logs["filterd"] == logs["postfix"]
    assert logs["postfix"][:2] == ["warning: Recipient address rate limit exceeded: 4 from localhost[127.0.0.1] ",
                                   "warning: Message delivery request rate limit exceeded: 3 from localhost[127.0.0.1] "]
