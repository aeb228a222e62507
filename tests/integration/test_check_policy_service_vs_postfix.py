"""check_policy_service in filterd's relay and in a real Postfix configured alike, both asking the same filterd
policy listener (whose chain refuses, defers, holds or tags by the recipient): the same replies, codes and texts,
and the same NOQUEUE log line."""

from __future__ import annotations

import pytest

from tests.harness import FilterdProcess, free_port
from tests.integration.test_restrictions_vs_postfix import pair, reject_line, session

PLUGIN = "tests.fixtures.plugins.policy_decisions"
CASES = [("client.example", "<a@ok.example>", f"<{local}@local.example>") for local in
         ("user", "bad", "later", "hold", "tag")] + [
        ("client.example", "<spammer@ok.example>", "<user@local.example>"),
        ("bad.helo.example", "<a@ok.example>", "<user@local.example>"),
        ("client.example", "<a@ok.example>", "<user@foreign.example>")]


@pytest.fixture
def servers(mta_launcher):
    """(Postfix, filterd relay), both with check_policy_service asking one filterd policy listener."""
    port = free_port()
    mta_launcher.launch(FilterdProcess(mta_launcher.directory("policy"), {
        "filterd_listeners": f"policy:127.0.0.1:{port}", "filterd_plugins": PLUGIN}, port=port))
    restrictions = f"reject_unauth_destination, check_policy_service inet:127.0.0.1:{port}"
    return pair(mta_launcher, "check", {"smtpd_recipient_restrictions": restrictions})


def test_replies_and_the_reject_line_are_postfix_s(servers):
    postfix, filterd = servers
    for helo, sender, recipient in CASES:
        assert session(filterd.port, helo, sender, recipient) == session(postfix.port, helo, sender, recipient)
    replies = [session(server.port, "client.example", "<a@ok.example>", "<bad@local.example>")[2] for server in servers]
    assert replies == ["550 5.1.1 <bad@local.example>: Recipient address rejected: No such user"] * 2
    assert reject_line(filterd.log(), "bad@local.example") == reject_line(postfix.maillog(), "bad@local.example")
