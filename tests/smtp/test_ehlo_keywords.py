"""smtpd_discard_ehlo_keywords read as Postfix's ehlo_mask() reads it, and the EHLO lines and log text it gives."""

from __future__ import annotations

from filterd.smtp.ehlo_keywords import DiscardedKeywords

LINES = ["mx.example", "PIPELINING", "SIZE 10240000", "AUTH PLAIN LOGIN", "AUTH=PLAIN LOGIN", "ENHANCEDSTATUSCODES",
         "8BITMIME", "DSN", "SMTPUTF8", "CHUNKING"]


def test_nothing_discarded_by_default():
    assert DiscardedKeywords.parse("").offered(LINES) == LINES
    assert DiscardedKeywords.parse("").log_text() is None


def test_names_in_any_case_separated_by_commas_or_spaces():
    discarded = DiscardedKeywords.parse("chunking, Size\tdsn")
    assert discarded.offered(LINES) == ["mx.example", "PIPELINING", "AUTH PLAIN LOGIN", "AUTH=PLAIN LOGIN",
                                        "ENHANCEDSTATUSCODES", "8BITMIME", "SMTPUTF8"]
    assert "chunking" in discarded and "PIPELINING" not in discarded


def test_auth_goes_with_its_broken_client_form():
    assert DiscardedKeywords.parse("auth").offered(LINES)[3:5] == ["ENHANCEDSTATUSCODES", "8BITMIME"]


def test_unknown_names_are_ignored():
    assert DiscardedKeywords.parse("nosuch mx.example").offered(LINES) == LINES


def test_the_log_text_names_the_keywords_in_postfix_s_order():
    assert DiscardedKeywords.parse("chunking pipelining 8bitmime").log_text() == "8BITMIME PIPELINING CHUNKING"


def test_silent_discard_and_enhancedstatuscodes_log_nothing():
    assert DiscardedKeywords.parse("chunking, silent-discard").log_text() is None
    assert DiscardedKeywords.parse("chunking, silent-discard").offered(LINES)[-1] == "SMTPUTF8"
    assert DiscardedKeywords.parse("chunking enhancedstatuscodes").log_text() is None
