"""The sender_checks example: mail_from, rcpt and data, configured through `settings`."""

import pytest
import sender_checks

from filterd import Action, ConfigError
from filterd.testing import make_message, run_plugin

RECIPIENTS = ["a@example.net", "b@example.net", "c@example.net"]


def test_a_blocked_sender_domain_is_refused_at_mail_from():
    outcome = run_plugin(sender_checks, message=make_message(), sender="x@spam.example",
                         settings={"sender_checks_blocked_domains": "spam.example, junk.example"})
    assert outcome.verdict.reply() == (554, "5.7.1", "<x@spam.example>: Sender address rejected: Access denied")


def test_recipients_past_the_limit_are_deferred_one_by_one():
    outcome = run_plugin(sender_checks, message=make_message(), recipients=RECIPIENTS,
                         settings={"sender_checks_recipient_limit": "2"})
    assert outcome.accepted and outcome.envelope.recipients == RECIPIENTS[:2]
    assert outcome.rejected_recipients["c@example.net"].reply() == (452, "4.5.3", "Error: too many recipients")


def test_a_bounce_to_several_recipients_is_refused_at_data():
    outcome = run_plugin(sender_checks, message=make_message(), sender="", recipients=RECIPIENTS)
    assert outcome.action is Action.REJECT
    assert outcome.verdict.text == "<DATA>: Data command rejected: Multi-recipient bounce"


def test_a_limit_below_one_is_refused_at_its_main_cf_line():
    with pytest.raises(ConfigError, match="^<test>:1: sender_checks_recipient_limit: must be at least 1$"):
        run_plugin(sender_checks, message=make_message(), settings={"sender_checks_recipient_limit": "0"})
