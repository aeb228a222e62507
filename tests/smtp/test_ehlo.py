"""The EHLO reply's keywords in Postfix 3.7's order, and smtpd_discard_ehlo_keywords: what it takes away and the
line Postfix logs for it."""

from __future__ import annotations

import pytest

from filterd.smtp.ehlo import XFORWARD, Offer, discard_notice, discards, ehlo_lines

EVERYTHING = Offer(10240000, vrfy=True, starttls=True, auth=("AUTH PLAIN LOGIN", "AUTH=PLAIN LOGIN"), xforward=True)


def test_the_default_reply_is_postfix_s_without_chunking():
    assert ehlo_lines("mx.example", Offer(10240000), frozenset()) == [
        "mx.example", "PIPELINING", "SIZE 10240000", "VRFY", "ETRN", "ENHANCEDSTATUSCODES", "8BITMIME", "DSN",
        "SMTPUTF8"]


def test_every_keyword_comes_where_ehlo_cmd_puts_it():
    assert ehlo_lines("mx.example", EVERYTHING, frozenset()) == [
        "mx.example", "PIPELINING", "SIZE 10240000", "VRFY", "ETRN", "STARTTLS", "AUTH PLAIN LOGIN",
        "AUTH=PLAIN LOGIN", XFORWARD, "ENHANCEDSTATUSCODES", "8BITMIME", "DSN", "SMTPUTF8"]


def test_no_size_limit_is_a_bare_size_and_disable_vrfy_command_hides_vrfy():
    assert ehlo_lines("mx", Offer(0, vrfy=False), frozenset())[1:4] == ["PIPELINING", "SIZE", "ETRN"]


@pytest.mark.parametrize("words, left_out", [
    ("vrfy etrn", {"VRFY", "ETRN"}),
    ("Pipelining, SIZE,starttls", {"PIPELINING", "SIZE 10240000", "STARTTLS"}),
    ("auth", {"AUTH PLAIN LOGIN", "AUTH=PLAIN LOGIN"}),
    ("xforward enhancedstatuscodes 8bitmime dsn smtputf8", {XFORWARD, "ENHANCEDSTATUSCODES", "8BITMIME", "DSN",
                                                            "SMTPUTF8"}),
    ("ehlo_mask_smtputf8 nosuchkeyword", {"SMTPUTF8"}),
    ("silent-discard", set()),
])
def test_discarded_keywords_are_left_out(words, left_out):
    full = ehlo_lines("mx.example", EVERYTHING, frozenset())
    assert ehlo_lines("mx.example", EVERYTHING, discards(words)) == [line for line in full if line not in left_out]


@pytest.mark.parametrize("words, notice", [
    ("", None),
    ("nosuchkeyword", None),
    ("chunking, smtputf8 vrfy 8bitmime", "discarding EHLO keywords: 8BITMIME VRFY EHLO_MASK_SMTPUTF8 CHUNKING"),
    ("silent-discard vrfy", None),
    ("enhancedstatuscodes vrfy", None),
    ("starttls auth etrn", "discarding EHLO keywords: AUTH ETRN STARTTLS"),
])
def test_the_log_line_names_the_discarded_keywords_as_str_ehlo_mask_does(words, notice):
    assert discard_notice(discards(words)) == notice
