"""The EHLO reply's keywords in Postfix 3.7's order, and smtpd_discard_ehlo_keywords: what it takes away and the
line Postfix logs for it."""

from __future__ import annotations

from dataclasses import replace

import pytest

from filterd.smtp.ehlo import XFORWARD, Offer, discard_notice, discards, ehlo_lines
from filterd.tables import open_table
from tests.fixtures.smtp_session import SETTINGS, run_session

EVERYTHING = Offer(10240000, vrfy=True, starttls=True, auth=("AUTH PLAIN LOGIN", "AUTH=PLAIN LOGIN"), xforward=True)


def test_the_default_reply_is_postfix_s():
    assert ehlo_lines("mx.example", Offer(10240000), frozenset()) == [
        "mx.example", "PIPELINING", "SIZE 10240000", "VRFY", "ETRN", "ENHANCEDSTATUSCODES", "8BITMIME", "DSN",
        "SMTPUTF8", "CHUNKING"]


def test_every_keyword_comes_where_ehlo_cmd_puts_it():
    assert ehlo_lines("mx.example", EVERYTHING, frozenset()) == [
        "mx.example", "PIPELINING", "SIZE 10240000", "VRFY", "ETRN", "STARTTLS", "AUTH PLAIN LOGIN",
        "AUTH=PLAIN LOGIN", XFORWARD, "ENHANCEDSTATUSCODES", "8BITMIME", "DSN", "SMTPUTF8", "CHUNKING"]


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


def replies(out: bytes) -> list[bytes]:
    """The last line of each reply after the greeting and EHLO."""
    return [line for line in out.split(b"\r\n") if line[3:4] == b" "][2:]


def test_a_discarded_keyword_turns_its_command_and_parameters_off():
    settings = replace(SETTINGS, ehlo_discards=discards("dsn smtputf8 auth starttls"))
    out, _, ended = run_session(b"EHLO c\r\nMAIL FROM:<a@example.org> RET=FULL\r\nMAIL FROM:<a@example.org> SMTPUTF8\r\n"
                                b"MAIL FROM:<a@example.org>\r\nRCPT TO:<b@example.net> NOTIFY=NEVER\r\nSTARTTLS\r\n"
                                b"AUTH PLAIN\r\nQUIT\r\n", settings=settings)
    ehlo = out.split(b"\r\n501 ")[0]
    assert ehlo.endswith(b"250-8BITMIME\r\n250 CHUNKING")
    assert b"250-DSN" not in ehlo and b"SMTPUTF8" not in ehlo and b"STARTTLS" not in ehlo and ended
    assert replies(out) == [b"501 5.7.1 DSN support is disabled", b"555 5.5.4 Unsupported option: SMTPUTF8",
                            b"250 2.1.0 Ok", b"501 5.7.1 DSN support is disabled",
                            b"502 5.5.1 Error: command not implemented", b"503 5.5.1 Error: authentication not enabled",
                            b"221 2.0.0 Bye"]


def test_the_address_maps_decide_for_the_client_s_address():
    settings = replace(SETTINGS, ehlo_discards=discards("vrfy"),
                       ehlo_discard_maps=(open_table("cidr:{{127.0.0.0/8 etrn}}"),))
    assert settings.discarded("127.0.0.1") == frozenset({"ETRN"})
    assert settings.discarded("192.0.2.1") == frozenset({"VRFY"})
