"""smtpd_client_port_logging = yes against a real Postfix 3.7: the client is NAME[ADDR]:PORT in every smtpd line
(connect, client=, reject, disconnect) and in the replies that name it, as in Postfix."""

from __future__ import annotations

import re

import pytest

from tests.conftest import launched
from tests.fixtures.dialogue import last_lines
from tests.harness import wait_until
from tests.integration.test_restrictions_vs_postfix import pair

COMMANDS = ["MAIL FROM:<a@ok.example>", "RCPT TO:<b@foreign.example>", "RCPT TO:<c@local.example>",
            "RCPT TO:<blocked@local.example>", "QUIT"]


@pytest.fixture(scope="module")
def servers():
    with launched("filterd-port-logging-") as launcher:
        table = launcher.root / "recipient_access"
        table.write_text("/^blocked@/ REJECT\n")
        yield pair(launcher, "ports", {"smtpd_client_port_logging": "yes",
                                       "smtpd_relay_restrictions": "reject_unauth_destination",
                                       "smtpd_recipient_restrictions": f"check_recipient_access regexp:{table}"})


def ported(text: str) -> str:
    return re.sub(r"\]:\d+", "]:PORT", text)


def test_the_client_port_is_logged_as_postfix_logs_it(servers):
    postfix, filterd = servers
    seen = {}
    for name, server, read in (("postfix", postfix, postfix.maillog), ("filterd", filterd, filterd.log)):
        replies = [ported(reply) for reply in last_lines(server.port, COMMANDS)]
        wait_until(lambda: "disconnect from" in read(), 10, f"{name}'s disconnect line")
        lines = [ported(re.sub(r"^.*?/smtpd\[\d+\]: ([0-9A-Za-z]{10,}(?=: ))?", lambda m: "QID" if m.group(1) else "",
                               line)) for line in read().splitlines() if "/smtpd[" in line]
        seen[name] = replies, lines
    assert seen["filterd"] == seen["postfix"]
    assert "connect from localhost[127.0.0.1]:PORT" in seen["postfix"][1]
