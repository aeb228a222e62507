"""smtpd_relay_before_recipient_restrictions against a real Postfix 3.7, yes and no, and its default by
compatibility_level (no below 3.6): a recipient both lists refuse gets the refusal of the list evaluated first, the
same as Postfix's."""

from __future__ import annotations

import pytest

from tests.conftest import launched
from tests.fixtures.dialogue import last_lines
from tests.integration.test_restrictions_vs_postfix import pair

COMMANDS = ["MAIL FROM:<a@ok.example>", "RCPT TO:<blocked@foreign.example>", "RCPT TO:<blocked@local.example>",
            "RCPT TO:<user@local.example>", "QUIT"]


@pytest.fixture(scope="module")
def servers():
    with launched("filterd-relay-order-") as launcher:
        table = launcher.root / "recipient_access"
        table.write_text("/^blocked@/ REJECT blocked here\n")
        lists = {"smtpd_relay_restrictions": "reject_unauth_destination",
                 "smtpd_recipient_restrictions": f"check_recipient_access regexp:{table}"}
        orders = {"yes": {"smtpd_relay_before_recipient_restrictions": "yes"},
                  "no": {"smtpd_relay_before_recipient_restrictions": "no"},
                  "level-2": {"compatibility_level": "2"}, "level-3.6": {"compatibility_level": "3.6"}}
        yield {order: pair(launcher, f"order-{order}", {**lists, **settings}) for order, settings in orders.items()}


@pytest.mark.parametrize(("order", "refusal"), [("yes", "Relay access denied"),
                                                ("no", "Recipient address rejected: blocked here"),
                                                ("level-2", "Recipient address rejected: blocked here"),
                                                ("level-3.6", "Relay access denied")])
def test_the_first_list_s_refusal_is_postfix_s(servers, order, refusal):
    postfix, filterd = servers[order]
    replies = last_lines(postfix.port, COMMANDS)
    assert last_lines(filterd.port, COMMANDS) == replies
    assert replies[1] == f"554 5.7.1 <blocked@foreign.example>: {refusal}"
    assert replies[2:4] == ["554 5.7.1 <blocked@local.example>: Recipient address rejected: blocked here",
                            "250 2.1.5 Ok"]
