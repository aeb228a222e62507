"""smtpd_delay_open_until_valid_rcpt against a real Postfix 3.7, yes and no: the queue id (and smtpd's client=
line) comes at the first valid recipient, or at MAIL, so a recipient refused first is logged with NOQUEUE or with
the queue id, the same as Postfix's lines."""

from __future__ import annotations

import re

import pytest

from tests.conftest import launched
from tests.fixtures.dialogue import last_lines
from tests.harness import wait_until
from tests.integration.test_restrictions_vs_postfix import pair

COMMANDS = ["MAIL FROM:<a@ok.example>", "RCPT TO:<b@foreign.example>", "RSET", "MAIL FROM:<a@ok.example>",
            "RCPT TO:<b@foreign.example>", "RCPT TO:<c@local.example>", "RCPT TO:<d@foreign.example>", "QUIT"]


@pytest.fixture(scope="module")
def servers():
    with launched("filterd-delay-open-") as launcher:
        yield {delay: pair(launcher, f"delay-{delay}", {"smtpd_relay_restrictions": "reject_unauth_destination",
                                                        "smtpd_delay_open_until_valid_rcpt": delay})
               for delay in ("yes", "no")}


def smtpd_lines(read) -> list[str]:
    """smtpd's lines between connect and disconnect, each queue id as QID1, QID2... in order of appearance."""
    lines = [re.sub(r"^.*?/smtpd\[\d+\]: ", "", line) for line in read().splitlines() if "/smtpd[" in line]
    lines = [line for line in lines if not line.startswith(("connect from", "disconnect from"))]
    ids: dict[str, str] = {}
    return [re.sub(r"^[0-9A-Za-z]{10,}(?=: )", lambda m: ids.setdefault(m.group(), f"QID{len(ids) + 1}"), line)
            for line in lines]


@pytest.mark.parametrize("delay", ["yes", "no"])
def test_the_queue_id_comes_when_postfix_s_does(servers, delay):
    postfix, filterd = servers[delay]
    assert last_lines(filterd.port, COMMANDS) == last_lines(postfix.port, COMMANDS)
    lines = {}
    for name, read in (("postfix", postfix.maillog), ("filterd", filterd.log)):
        wait_until(lambda: "disconnect from" in read(), 10, f"{name}'s disconnect line")
        lines[name] = smtpd_lines(read)
    assert lines["filterd"] == lines["postfix"]
    first = lines["postfix"][0]
    assert first.startswith("QID1: client=" if delay == "no" else "NOQUEUE: reject: RCPT")
