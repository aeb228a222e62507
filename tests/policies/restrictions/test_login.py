"""Who may send as whom: smtpd_sender_login_maps and the login mismatch restrictions."""

from __future__ import annotations

from .checks import settings, verdict_at_rcpt

MAPS = "inline:{ alice@local.example=alice, {@shared.example=alice bob}, {carol@local.example=carol, dave} }"


def mismatch(restriction: str = "reject_sender_login_mismatch"):
    return settings(smtpd_sender_restrictions=restriction, smtpd_sender_login_maps=MAPS)


def test_a_logged_in_client_sends_only_as_what_it_owns():
    assert verdict_at_rcpt(mismatch(), sender="alice@local.example", sasl_username="alice") is None
    assert verdict_at_rcpt(mismatch(), sender="x@shared.example", sasl_username="Bob") is None
    assert verdict_at_rcpt(mismatch(), sender="carol@local.example", sasl_username="dave") is None
    assert verdict_at_rcpt(mismatch(), sender="alice@local.example", sasl_username="bob").reply() == (
        553, "5.7.1", "<alice@local.example>: Sender address rejected: not owned by user bob")
    assert verdict_at_rcpt(mismatch(), sender="x@elsewhere.example", sasl_username="bob") is not None


def test_a_client_that_did_not_log_in_may_not_use_an_owned_address():
    assert verdict_at_rcpt(mismatch(), sender="alice@local.example").reply() == (
        553, "5.7.1", "<alice@local.example>: Sender address rejected: not logged in")
    assert verdict_at_rcpt(mismatch(), sender="x@elsewhere.example") is None


def test_the_variants_apply_one_half_each():
    authenticated = mismatch("reject_authenticated_sender_login_mismatch")
    assert verdict_at_rcpt(authenticated, sender="alice@local.example") is None
    assert verdict_at_rcpt(authenticated, sender="alice@local.example", sasl_username="bob") is not None
    unauthenticated = mismatch("reject_unauthenticated_sender_login_mismatch")
    assert verdict_at_rcpt(unauthenticated, sender="alice@local.example", sasl_username="bob") is None
    assert verdict_at_rcpt(unauthenticated, sender="alice@local.example") is not None
    known = mismatch("reject_known_sender_login_mismatch")
    assert verdict_at_rcpt(known, sender="x@elsewhere.example", sasl_username="bob") is None
    assert verdict_at_rcpt(known, sender="alice@local.example", sasl_username="bob") is not None


def test_check_sasl_access_looks_the_login_name_up_when_sasl_is_on():
    table = "check_sasl_access inline:{ {alice=REJECT not today} }"
    enabled = settings(smtpd_recipient_restrictions=table + ", permit", smtpd_sasl_auth_enable="yes")
    assert verdict_at_rcpt(enabled, sasl_username="alice").reply() == (
        554, "5.7.1", "<alice>: SASL login name rejected: not today")
    assert verdict_at_rcpt(enabled, sasl_username="bob") is None
    assert verdict_at_rcpt(enabled) is None
    assert verdict_at_rcpt(settings(smtpd_recipient_restrictions=table + ", permit"), sasl_username="alice") is None
