"""The client_checks example: connect and helo."""

import client_checks

from filterd import Action
from filterd.testing import make_message, run_plugin


def test_a_client_without_a_name_is_told_to_try_later():
    outcome = run_plugin(client_checks, message=make_message(), client_name="unknown", client_address="192.0.2.7",
                         helo="mail.example.org")
    assert outcome.action is Action.DEFER
    assert outcome.verdict.reply() == (450, "4.7.25", "Client host rejected: cannot find your hostname, [192.0.2.7]")


def test_a_bare_helo_name_is_refused():
    outcome = run_plugin(client_checks, message=make_message(), helo="mail")
    assert outcome.verdict.reply() == (504, "5.5.2", "<mail>: Helo command rejected: need fully-qualified hostname")


def test_a_named_client_with_a_domain_or_an_address_literal_passes():
    assert run_plugin(client_checks, message=make_message(), helo="mail.example.org").accepted
    assert run_plugin(client_checks, message=make_message(), helo="[192.0.2.7]").accepted
