"""MAIL FROM and RCPT TO address forms against a real Postfix 3.7, with strict_rfc821_envelopes off and on: the
same replies, and the same `Illegal address syntax from NAME[ADDR] in MAIL command: WORD` warnings."""

from __future__ import annotations

import re

import pytest

from tests.conftest import launched
from tests.fixtures.dialogue import last_lines
from tests.harness import wait_until
from tests.integration.test_restrictions_vs_postfix import pair

FORMS = ["<a@local.example>", "a@local.example", " <a@local.example>", "Name <a@local.example>",
         "<a@local.example (comment)>", "<(comment)a@local.example>", "<@route.example:a@local.example>", "<>",
         "<a@[300.1.1.1]>", "<a b@local.example>", "<@local.example>", '<"a b"@local.example>', "<a@local.example",
         "<a@local.example>, <b@local.example>", "<a@x..example>", "<a\x01@local.example>"]
SETTINGS = {"smtpd_recipient_restrictions": "", "smtpd_relay_restrictions": "reject_unauth_destination",
            "smtpd_banner": "$myhostname ESMTP"}


@pytest.fixture(scope="module")
def servers():
    with launched("filterd-envelope-syntax-") as launcher:
        yield {strict: pair(launcher, f"strict-{strict}", {**SETTINGS, "strict_rfc821_envelopes": strict})
               for strict in ("no", "yes")}


def converse(port: int, form: str) -> list[str]:
    """MAIL with the form, then RCPT with it after a plain MAIL: the two replies."""
    found = last_lines(port, [f"MAIL FROM:{form}", "RSET", "MAIL FROM:<s@local.example>", f"RCPT TO:{form}", "QUIT"])
    return [found[0], found[3]]


def warnings(read, before: int) -> list[str]:
    return [re.sub(r"^.*?: warning: ", "", line) for line in read().splitlines()[before:]
            if "Illegal address syntax" in line]


@pytest.mark.parametrize("strict", ["no", "yes"])
def test_replies_and_warnings_are_postfix_s(servers, strict):
    postfix, filterd = servers[strict]
    seen = {}
    for name, server, read in (("postfix", postfix, postfix.maillog), ("filterd", filterd, filterd.log)):
        before = len(read().splitlines())
        replies = [converse(server.port, form) for form in FORMS]
        wait_until(lambda: read().count("disconnect from") >= len(FORMS), 10, f"{name}'s sessions")
        seen[name] = replies, warnings(read, before)
    assert seen["filterd"][0] == seen["postfix"][0]
    assert seen["filterd"][1] == seen["postfix"][1]
    refused = [form for form, replies in zip(FORMS, seen["postfix"][0]) if replies[0].startswith("501")]
    assert ("a@local.example" in refused) == (strict == "yes")
