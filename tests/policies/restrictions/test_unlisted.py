"""reject_unlisted_recipient and reject_unlisted_sender with bytes alone: which keys list an address, which local
parts are always valid, and the replies (tests/integration/test_restriction_log_lines_vs_postfix.py compares them
with Postfix's)."""

from __future__ import annotations

from filterd import open_tables
from policies.restrictions.unlisted import listed

TABLE = open_tables("inline:{ user@local.example=1, alias=1, @any.example=1 }")


def test_an_address_is_listed_by_its_full_form_its_local_part_in_a_local_domain_or_its_domain():
    assert listed(TABLE, "user@local.example", local_domain=True)
    assert listed(TABLE, "alias@local.example", local_domain=True)
    assert not listed(TABLE, "alias@relay.example", local_domain=False)
    assert listed(TABLE, "whoever@any.example", local_domain=False)
    assert not listed(TABLE, "nobody@local.example", local_domain=True)


def test_keys_are_case_folded():
    assert listed(TABLE, "User@Local.Example", local_domain=True)


def test_an_address_status_is_mapped_to_the_address_refused():
    from policies.restrictions.replies import dsn_fix

    assert dsn_fix("5.1.1", "Sender address") == "5.1.7"
    assert dsn_fix("4.1.2", "Sender address") == "4.1.8"
    assert dsn_fix("5.1.7", "Recipient address") == "5.1.3"
    assert dsn_fix("5.1.10", "Recipient address") == "5.1.0"
    assert dsn_fix("5.1.1", "Client host") == "5.0.0"
    assert dsn_fix("5.7.1", "Sender address") == "5.7.1"
