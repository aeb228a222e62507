"""Restriction lists read as main.cf writes them: words, arguments, inline tables kept whole."""

from __future__ import annotations

import pytest

from filterd.policies.restrictions.lists import parse, words
from filterd.policies.restrictions.names import restriction
from filterd.policies.restrictions.reply_filter import AddressPattern


def test_words_split_on_commas_and_whitespace_outside_braces():
    assert words("permit_mynetworks,reject_unauth_destination\n  check_client_access inline:{ {a=b c}, d=e }, x") \
        == ["permit_mynetworks", "reject_unauth_destination", "check_client_access", "inline:{ {a=b c}, d=e }", "x"]


def test_a_restriction_takes_its_argument_from_the_next_word():
    items = parse("check_client_access inline:{ 192.0.2.1=OK } Reject_RBL_Client zen.example=127.0.0.2")
    assert [(item.name, item.word) for item in items] == [("check_client_access", "inline:{ 192.0.2.1=OK }"),
                                                          ("reject_rbl_client", "zen.example=127.0.0.2")]
    assert items[1].argument == ("zen.example", AddressPattern.parse("127.0.0.2"))


def test_an_argument_that_cannot_be_read_is_named():
    with pytest.raises(ValueError, match="check_client_access nosuchtype:/x: "):
        parse("check_client_access nosuchtype:/x")


def test_a_name_is_registered_once():
    with pytest.raises(ValueError, match="restriction permit is registered twice"):
        restriction("permit")(lambda check: None)
