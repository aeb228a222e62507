"""Evaluating restriction lists as smtpd_check.c does: a permit ends its list only, a refusal ends everything,
other actions are kept, defer_if_permit waits for the end, warn_if_reject turns the next reject into a warning."""

from __future__ import annotations

from filterd.verdict import Action

from .checks import settings, verdict_at_rcpt


def test_a_permit_ends_its_own_list_only():
    permit_then_reject = settings(smtpd_client_restrictions="permit, reject",
                                  smtpd_recipient_restrictions="reject")
    refused = verdict_at_rcpt(permit_then_reject, client="192.0.2.1")
    assert refused.reply() == (554, "5.7.1", "<b@local.example>: Recipient address rejected: Access denied")


def test_the_first_refusal_ends_the_evaluation_and_names_its_list():
    rejecting = settings(smtpd_helo_restrictions="defer, reject", smtpd_recipient_restrictions="reject")
    refused = verdict_at_rcpt(rejecting, helo="mx.client.example")
    assert (refused.action, refused.reply()) == (
        Action.DEFER, (450, "4.3.2", "<mx.client.example>: Helo command rejected: Try again later"))


def test_each_list_names_what_it_is_about():
    for name, expected in [("smtpd_client_restrictions", "<unknown[198.51.100.1]>: Client host"),
                           ("smtpd_sender_restrictions", "<a@sender.example>: Sender address"),
                           ("smtpd_recipient_restrictions", "<b@local.example>: Recipient address")]:
        assert verdict_at_rcpt(settings(**{name: "reject"})).text == f"{expected} rejected: Access denied"


def test_defer_if_permit_defers_unless_a_later_restriction_rejects():
    deferring = settings(smtpd_sender_restrictions="defer_if_permit")
    assert verdict_at_rcpt(deferring, recipient="b@local.example").reply() == (
        450, "4.7.0", "<a@sender.example>: Sender address rejected: defer_if_permit requested")
    assert verdict_at_rcpt(deferring, recipient="b@example.net").code == 454


def test_warn_if_reject_turns_the_next_reject_into_a_warning():
    warned = verdict_at_rcpt(settings(smtpd_recipient_restrictions="warn_if_reject reject, permit"))
    assert warned.action is Action.WARN
    assert warned.reply() == (554, "5.7.1", "<b@local.example>: Recipient address rejected: Access denied")


def test_warn_if_reject_covers_the_list_a_table_result_opens_and_a_deferral_kept_for_later():
    nested = settings(smtpd_recipient_restrictions="warn_if_reject check_recipient_access inline:{ "
                                                   "{b@local.example=reject_non_fqdn_recipient defer_if_permit reject} }, "
                                                   "permit")
    warned = verdict_at_rcpt(nested)
    assert warned.action is Action.WARN
    assert [verdict.reply()[:2] for verdict in (*warned.earlier, warned)] == [(450, "4.7.0"), (554, "5.7.1")]
    after = settings(smtpd_recipient_restrictions="warn_if_reject check_recipient_access inline:{ "
                                                  "{b@local.example=permit_mynetworks} }, reject")
    assert verdict_at_rcpt(after).action is Action.REJECT


def test_no_restriction_no_answer():
    assert verdict_at_rcpt(settings()) is None


def test_the_generic_refusals_name_addresses_unquoted():
    rejecting = settings(smtpd_sender_restrictions="reject")
    assert verdict_at_rcpt(rejecting, sender='"a b"@sender.example').text == \
        "<a b@sender.example>: Sender address rejected: Access denied"


def test_a_restriction_class_is_a_list_of_its_own_usable_in_lists_and_table_results():
    classed = settings(smtpd_restriction_classes="strict, lenient", strict="reject_non_fqdn_sender, lenient",
                       lenient="permit_mynetworks, reject", smtpd_recipient_restrictions="strict",
                       smtpd_sender_restrictions="check_sender_access inline:{ ok.example=lenient }")
    assert verdict_at_rcpt(classed, sender="a@nodot").code == 504
    assert verdict_at_rcpt(classed, sender="a@ok.example").text == \
        "<a@ok.example>: Sender address rejected: Access denied"
    assert verdict_at_rcpt(classed, sender="a@ok.example", client="192.0.2.1") is None


def test_a_refusal_carries_the_warnings_and_saved_actions_met_before_it():
    warned = settings(smtpd_client_restrictions="check_client_access inline:{198.51.100.1=WARN}",
                      smtpd_helo_restrictions="warn_if_reject reject",
                      smtpd_recipient_restrictions="check_recipient_access inline:{b@local.example=HOLD}, reject")
    refused = verdict_at_rcpt(warned, helo="client.example")
    assert refused.action is Action.REJECT
    assert [(verdict.action, verdict.code) for verdict in refused.earlier] == [(Action.WARN, None),
                                                                               (Action.WARN, 554),
                                                                               (Action.HOLD, None)]
