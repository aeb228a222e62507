"""smtpd_command_filter and smtpd_noop_commands against a real Postfix 3.7 configured alike: a command line the
filter maps runs in its new form (once, even when the new form would match again), with Postfix's `replacing
command` line; a no-op command gets 250 and is left out of the session's command counts; the same replies and
the same smtpd log lines."""

from __future__ import annotations

import re

import pytest

from tests.conftest import launched
from tests.fixtures.dialogue import last_lines
from tests.harness import wait_until
from tests.integration.test_restrictions_vs_postfix import pair

FILTER = r"""/^(RCPT\s+TO:\s*<[^>]*>)\s+NOTIFY=BOGUS(.*)$/ $1$2
/^EHLO\s+broken\.example$/ EHLO fixed.example
/^FOO$/ XYZZY
/^(NOOP)(.*)$/ $1 again$2
"""
SESSION = ["EHLO broken.example", "XYZZY", "frob anything at all", "  FOO", "MAIL FROM:<a@ok.example>",
           "RCPT TO:<b@local.example> NOTIFY=BOGUS", "RCPT TO:<c@local.example> NOTIFY=ALSO", "NOOP", "QUIT"]


@pytest.fixture(scope="module")
def servers():
    with launched("filterd-command-filter-") as launcher:
        table = launcher.root / "command_filter"
        table.write_text(FILTER)
        yield pair(launcher, "filter", {"smtpd_recipient_restrictions": "",
                                        "smtpd_relay_restrictions": "reject_unauth_destination",
                                        "smtpd_banner": "$myhostname ESMTP", "smtpd_noop_commands": "XYZZY, frob",
                                        "smtpd_command_filter": f"regexp:{table}"})


def converse(port: int) -> list[str]:
    return last_lines(port, SESSION, ehlo=None)


def test_filtered_and_no_op_commands_are_postfix_s(servers):
    postfix, filterd = servers
    seen = {}
    for name, server, read in (("postfix", postfix, postfix.maillog), ("filterd", filterd, filterd.log)):
        replies = converse(server.port)
        wait_until(lambda: "disconnect from" in read(), 10, f"{name}'s disconnect line")
        seen[name] = replies, [re.sub(r"^.*?/smtpd\[\d+\]: ", "", line) for line in read().splitlines()
                               if "/smtpd[" in line and re.search(r"replacing|disconnect from", line)]
    assert seen["filterd"] == seen["postfix"]
    replies, lines = seen["postfix"]
    assert replies[1:6] == ["250 2.0.0 Ok"] * 3 + ["250 2.1.0 Ok", "250 2.1.5 Ok"]
    assert lines[0] == 'localhost[127.0.0.1]: replacing command "EHLO broken.example" with "EHLO fixed.example"'
