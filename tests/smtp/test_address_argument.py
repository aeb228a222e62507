"""MAIL and RCPT arguments read as Postfix 3.7's smtpd was seen to read them, with strings alone."""

from __future__ import annotations

import pytest

from filterd.addresses import AddressRules
from filterd.smtp import address_argument
from filterd.smtp.address_argument import envelope_address, smtpd_tokens, split_words

RULES = AddressRules(("local.example",), "mx.local.example", "mx.local.example")


def rcpt(argument: str, smtputf8: bool = False):
    return envelope_address(argument, RULES, sender=False, smtputf8=smtputf8)


@pytest.mark.parametrize("argument, address", [
    ("<user@local.example>", "user@local.example"),
    ("user@local.example", "user@local.example"),
    ("<<user@local.example>>", "user@local.example"),
    ("<postmaster>", "postmaster"),
    ("<Postmaster>", "Postmaster"),
    ("<user@local.example.>", "user@local.example."),
    ("<@local.example>", '""@local.example'),
    ("<@route.example:user@local.example>", "user@local.example"),
    ("<user@[127.0.0.1]>", "user@[127.0.0.1]"),
    ('<"user name"@local.example>', '"user name"@local.example'),
    ('<"user\\@foreign.example"@local.example>', '"user@foreign.example"@local.example'),
    ("<user%foreign.example@local.example>", "user%foreign.example@local.example"),
    ("<.user@local.example>", '".user"@local.example'),
    ("<üser@local.example>", "üser@local.example"),
])
def test_accepted_forms_in_external_form(argument, address):
    assert rcpt(argument) == (address, "")


@pytest.mark.parametrize("argument", [
    "<>", '<"">', '<"user@local.example>', '<user"@local.example>', "<user@local.example", "<user name@local.example>",
    "<user@>", "<user@@local.example>", "<user@local..example>", "<user@.local.example>", "<user@local.example..>",
    "<user@bücher.example>", "<user%foo..example@local.example>", "<user@1.2.3.4>",
])
def test_malformed_recipients(argument):
    assert rcpt(argument) is None


def test_an_idn_domain_needs_smtputf8():
    assert rcpt("<user@bücher.example>", smtputf8=True) == ("user@bücher.example", "")


def test_the_null_sender_and_no_address():
    assert envelope_address("<>", RULES, sender=True, smtputf8=False) == ("<>", "")
    assert envelope_address("<> SIZE=10", RULES, sender=True, smtputf8=False) == ("<>", "SIZE=10")
    assert rcpt("") == ("", "")


def test_parameters_follow_the_address():
    assert rcpt('<"a b"@local.example>  NOTIFY=NEVER  FOO') == ('"a b"@local.example', "NOTIFY=NEVER FOO")


@pytest.mark.parametrize("text, words", [
    ('<a b> c', ["<a b>", "c"]), ('"a b"@x y', ['"a b"@x', "y"]), ("<a<b>c> d", ["<a<b>c>", "d"]),
    ('<"a>b"@x>', ['<"a>b"@x>']), ("a\\ b", ["a\\ b"]), ("<a", None), ('"a', None), ("", []),
])
def test_split_words(text, words):
    assert split_words(text) == words


@pytest.mark.parametrize("argument", [
    "<user@local.example>", "<a.b+c@foreign.example>", "<user@local.example.>", "<user@a_b.example>",
    "<x@1.2.3.4>", "<x@a-.example>", "<a..b@local.example>", "<x@local.example..>", f"<x@{'a' * 64}.example>",
])
def test_the_fast_path_agrees_with_the_full_reading(argument, monkeypatch):
    fast = rcpt(argument)
    monkeypatch.setattr(address_argument, "_simple", lambda word: None)
    assert rcpt(argument) == fast


@pytest.mark.parametrize("text, words", [
    ("a <b c> d", ["a", "<b c>", "d"]),
    ('"x y"@z w', ['"x y"@z', "w"]),
    ("a <b c", ["a", "<b c"]),
    ("a<b c", ["a<b c"]),
])
def test_words_are_split_as_smtpd_token_splits_them_an_open_quote_running_to_the_end(text, words):
    assert smtpd_tokens(text) == words
