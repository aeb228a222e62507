"""replies.translate: aiosmtpd's canned replies in Postfix's words, filterd's own replies untouched."""

from __future__ import annotations

import re

import pytest

from filterd.smtp import replies
from filterd.smtp.replies import format_reply, translate

ENHANCED = re.compile(r"^[245]\d\d [245]\.\d{1,3}\.\d{1,3} ")

# (what aiosmtpd 1.4 sends, what Postfix sends in the same situation)
AIOSMTPD_TO_POSTFIX = [
    ("250 OK", "250 2.0.0 Ok"),
    ("221 Bye", "221 2.0.0 Bye"),
    ("500 Command line too long", "500 5.5.2 Error: command line too long"),
    ("500 Error: bad syntax", "500 5.5.2 Error: bad syntax"),
    ("500 Error: strict ASCII mode", "500 5.5.2 Error: bad syntax"),
    ('500 Error: command "FOO" not recognized', "500 5.5.2 Error: command not recognized"),
    ("502 5.5.1 Too many unrecognized commands, goodbye.", "421 4.7.0 Error: too many errors"),
    ("501 Syntax: HELO hostname", "501 5.5.4 Syntax: HELO hostname"),
    ("501 Syntax: EHLO hostname", "501 5.5.4 Syntax: EHLO hostname"),
    ("501 Syntax: MAIL FROM: <address>", "501 5.5.4 Syntax: MAIL FROM:<address>"),
    ("501 Syntax: MAIL FROM: <address> [SP <mail-parameters>]", "501 5.5.4 Syntax: MAIL FROM:<address>"),
    ("501 Syntax: RCPT TO: <address> [SP <mail-parameters>]", "501 5.5.4 Syntax: RCPT TO:<address>"),
    ("501 Syntax: QUIT", "501 5.5.4 Syntax: QUIT"),
    ("501 Syntax: RSET", "501 5.5.4 Syntax: RSET"),
    ("503 Error: nested MAIL command", "503 5.5.1 Error: nested MAIL command"),
    ("503 Error: need MAIL command", "503 5.5.1 Error: need MAIL command"),
    ("503 Error: need RCPT command", "503 5.5.1 Error: need RCPT command"),
    ("552 Error: message size exceeds fixed maximum message size", "552 5.3.4 Message size exceeds fixed limit"),
    ("555 MAIL FROM parameters not recognized or not implemented", "555 5.5.4 Unsupported option"),
    ("555 RCPT TO parameters not recognized or not implemented", "555 5.5.4 Unsupported option"),
    ("501 Error: BODY can only be one of 7BIT, 8BITMIME", "501 5.5.4 Invalid BODY keyword"),
    ("501 Error: SMTPUTF8 takes no arguments", "501 5.5.4 Bad SMTPUTF8 syntax"),
    ("502 EXPN not implemented", "502 5.5.1 EXPN command is disabled"),
]


@pytest.mark.parametrize("aiosmtpd, postfix", AIOSMTPD_TO_POSTFIX)
def test_aiosmtpd_reply_becomes_postfix_reply(aiosmtpd, postfix):
    assert translate(aiosmtpd) == postfix


@pytest.mark.parametrize("aiosmtpd", [a for a, _ in AIOSMTPD_TO_POSTFIX])
def test_translated_reply_has_an_enhanced_status_code(aiosmtpd):
    assert ENHANCED.match(translate(aiosmtpd))


@pytest.mark.parametrize("aiosmtpd, postfix", [
    ("500 Error: command 'AUTH' not recognized", "503 5.5.1 Error: authentication not enabled"),
    ("503 Error: send HELO first", "503 5.5.1 Error: send HELO/EHLO first"),
    ("454 TLS not available", "502 5.5.1 Error: command not implemented"),
])
def test_less_common_aiosmtpd_replies(aiosmtpd, postfix):
    assert translate(aiosmtpd) == postfix


@pytest.mark.parametrize("own", [
    replies.OK, replies.MAIL_OK, replies.RCPT_OK, replies.DATA_GO, replies.BYE, replies.TOO_MANY_RCPTS,
    replies.TOO_BIG, replies.SIZE_TOO_BIG, replies.NO_RCPTS, replies.NEED_RCPT, replies.BAD_SYNTAX,
    replies.NEXTHOP_DOWN, replies.NEXTHOP_TIMEOUT, replies.BARE_LF.format(code=550, host="mx.example.org"),
    replies.TOO_MANY_ERRORS.format(host="mx.example.org"), replies.TIMEOUT.format(host="mx.example.org"),
    "550 5.7.1 Access denied", "451 4.7.1 Service unavailable - try again later",
    "250 2.0.0 Ok: queued as 4RfGhj1xYzz5Q9", "501 5.5.4 Syntax: HELO hostname",
])
def test_filterd_replies_pass_unchanged(own):
    assert translate(own) == own


@pytest.mark.parametrize("aiosmtpd", [a for a, _ in AIOSMTPD_TO_POSTFIX])
def test_translation_is_idempotent(aiosmtpd):
    once = translate(aiosmtpd)
    assert translate(once) == once


def test_only_exact_canned_text_is_translated():
    assert translate("250 OK queued") == "250 OK queued"
    assert translate("221 Bye now") == "221 Bye now"
    assert translate("550 5.7.1 Error: bad syntax") == "550 5.7.1 Error: bad syntax"


def test_plugin_reply_text_is_never_rewritten():
    text = format_reply(550, "5.7.1", "Syntax: not what you think")
    assert translate(text) == "550 5.7.1 Syntax: not what you think"


def test_format_reply_joins_code_status_and_text():
    assert format_reply(451, "4.3.0", "try later") == "451 4.3.0 try later"


@pytest.mark.parametrize(("reply", "softened"), [
    ("550 5.7.1 Access denied", "450 4.7.1 Access denied"),
    ("554-5.7.1 first\r\n554 5.7.1 second", "454-4.7.1 first\r\n454 4.7.1 second"),
    ("552 Message size exceeds fixed limit", "452 Message size exceeds fixed limit"),
    ("250 2.0.0 Ok", "250 2.0.0 Ok"),
    ("421 4.4.2 Error: timeout exceeded", "421 4.4.2 Error: timeout exceeded"),
])
def test_soft_bounce_makes_every_5xx_reply_4xx(reply, softened):
    assert replies.soften(reply) == softened


def test_a_malformed_address_gets_postfix_s_reply_for_its_command():
    assert translate("553 5.1.3 Error: malformed address", "MAIL") == "501 5.1.7 Bad sender address syntax"
    assert translate("553 5.1.3 Error: malformed address", "RCPT") == "501 5.1.3 Bad recipient address syntax"


def test_every_translation_is_found_under_the_code_it_starts_with():
    assert all(pattern.pattern[0] == "^" and pattern.pattern[1:4].isdigit() for pattern, _ in replies._TRANSLATIONS)
    assert sum(map(len, replies._BY_CODE.values())) == len(replies._TRANSLATIONS)
