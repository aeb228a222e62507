"""The restrictions plugin in the chain (filterd.testing): which event refuses what, postmaster, kept actions."""

from __future__ import annotations

import filterd.policies.restrictions as restrictions
from filterd.policies.restrictions.names import restriction
from filterd.testing import make_message, run_plugin
from filterd.verdict import Action

LOCAL = {"mydestination": "local.example", "mynetworks": "192.0.2.0/24"}


def run(recipients=("user@local.example",), sender="a@sender.example", **settings):
    return run_plugin(restrictions, message=make_message(), settings={**LOCAL, **settings}, sender=sender,
                      recipients=list(recipients), client_address="198.51.100.1")


def test_each_recipient_is_judged_and_postmaster_always_passes():
    outcome = run(["user@local.example", "user@example.net", "Postmaster"])
    assert outcome.accepted and outcome.envelope.recipients == ["user@local.example", "Postmaster"]
    assert outcome.rejected_recipients["user@example.net"].reply() == (
        454, "4.7.1", "<user@example.net>: Relay access denied")


def test_sender_restrictions_refuse_at_rcpt_with_smtpd_delay_reject_and_at_mail_without():
    sender_list = {"smtpd_sender_restrictions": "check_sender_access inline:{ sender.example=REJECT }"}
    delayed = run(**sender_list)
    assert delayed.rejected_recipients["user@local.example"].code == 554
    at_mail = run(**sender_list, smtpd_delay_reject="no")
    assert at_mail.rejected_recipients == {} and at_mail.verdict.code == 554


def test_data_restrictions_refuse_data():
    refused = run(smtpd_data_restrictions="reject")
    assert refused.verdict.reply() == (554, "5.7.1", "<DATA>: Data command rejected: Access denied")


def test_end_of_data_restrictions_refuse_the_message_once_it_is_in():
    refused = run(smtpd_end_of_data_restrictions="reject")
    assert refused.verdict.reply() == (554, "5.7.1", "<END-OF-MESSAGE>: End-of-data rejected: Access denied")
    bounce = run(["a@local.example", "b@local.example"], sender="",
                 smtpd_end_of_data_restrictions="reject_multi_recipient_bounce")
    assert bounce.verdict.reply() == (550, "5.5.3", "<END-OF-MESSAGE>: End-of-data rejected: Multi-recipient bounce")
    assert run(sender="", smtpd_end_of_data_restrictions="reject_multi_recipient_bounce").accepted


def test_kept_actions_apply_to_the_message():
    outcome = run(smtpd_recipient_restrictions="check_recipient_access inline:{ {user@local.example=PREPEND "
                                               "X-Seen: yes}, local.example=HOLD }, "
                                               "check_sender_access inline:{ sender.example=HOLD }")
    assert outcome.action is Action.HOLD and outcome.message["X-Seen"] == "yes"


def test_discard_accepts_and_drops():
    outcome = run(smtpd_recipient_restrictions="check_recipient_access inline:{ local.example=DISCARD }")
    assert outcome.action is Action.DISCARD


SEEN: list[tuple[str, str | None]] = []


@restriction("test_record_protocol_state")
def record(check):
    """A restriction of the tests' own, registered as any other: it notes where it was asked."""
    SEEN.append((check.protocol_state, check.recipient))


def test_a_new_restriction_is_one_registered_function_told_the_command_at_hand():
    SEEN.clear()
    each = "test_record_protocol_state"
    run(smtpd_delay_reject="no", smtpd_client_restrictions=each, smtpd_helo_restrictions=each,
        smtpd_sender_restrictions=each, smtpd_recipient_restrictions=f"{each}, reject_unauth_destination",
        smtpd_data_restrictions=each, smtpd_end_of_data_restrictions=each)
    assert SEEN == [("CONNECT", None), ("EHLO", None), ("MAIL", None), ("RCPT", "user@local.example"),
                    ("DATA", "user@local.example"), ("END-OF-MESSAGE", "user@local.example")]
    SEEN.clear()
    run(["a@local.example", "b@local.example"], smtpd_data_restrictions=each, smtpd_end_of_data_restrictions=each)
    assert SEEN == [("DATA", None), ("END-OF-MESSAGE", None)]
