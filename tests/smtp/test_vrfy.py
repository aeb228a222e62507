"""VRFY's argument read as Postfix 3.7's vrfy_cmd() reads it: the words, a trailing SMTPUTF8, the address taken
from the whole argument, and the 252 that echoes it (replies checked against a real Postfix in
tests/integration/test_vrfy_etrn_vs_postfix.py)."""

from __future__ import annotations

from dataclasses import replace

import pytest

from filterd.addresses import AddressRules
from filterd.registry import hookimpl
from filterd.smtp.vrfy import DISABLED, Request, read_request
from filterd.verdict import Verdict
from tests.fixtures.smtp_session import SETTINGS, run_session

RULES = AddressRules(("mx.example",), "mx.example", "example")


@pytest.mark.parametrize("argument", [None, "", "   ", "SMTPUTF8", "smtputf8"])
def test_no_address_is_a_syntax_error(argument):
    assert read_request(argument, RULES) is None


@pytest.mark.parametrize("argument, shown, address", [
    ("<user@remote.example>", "<user@remote.example>", "user@remote.example"),
    ("user@remote.example", "user@remote.example", "user@remote.example"),
    ("postmaster", "postmaster", "postmaster"),
    ("John Doe <jd@example.com>", "John Doe <jd@example.com>", "jd@example.com"),
    ('"quoted local"@example.com', '"quoted local"@example.com', "quoted local@example.com"),
    ("<a@[192.0.2.1]>", "<a@[192.0.2.1]>", "a@[192.0.2.1]"),
    ("@route:a@b", "@route:a@b", "a@b"),
    ("  a@b   SMTPUTF8  ", "a@b", "a@b"),
])
def test_the_address_is_taken_from_the_whole_argument_and_the_argument_echoed(argument, shown, address):
    request = read_request(argument, RULES)
    assert (request.shown, request.address) == (shown, address)
    assert request.verified() == f"252 2.0.0 {shown}"


@pytest.mark.parametrize("argument, shown", [
    ("a b", "a b"), (" a   b@x ", "a b@x"), ("<>", "<>"), ("<a@b> <c@d>", "<a@b> <c@d>"),
    ("<user@127.0.0.1>", "<user@127.0.0.1>"),
])
def test_no_single_address_is_malformed(argument, shown):
    assert read_request(argument, RULES) == Request(shown, None)


def test_smtputf8_is_a_word_of_the_address_when_it_is_not_offered():
    assert read_request("a@b SMTPUTF8", RULES, smtputf8_offered=False) == Request("a@b SMTPUTF8", None)
    assert read_request("a@b smtputf8", RULES) == Request("a@b", "a@b", smtputf8=True)


def test_a_non_ascii_domain_resolves_only_with_smtputf8():
    assert read_request("u@bücher.example", RULES).address is None
    assert read_request("u@bücher.example SMTPUTF8", RULES).address == "u@bücher.example"


def test_the_log_shows_control_characters_and_broken_utf8_as_question_marks():
    assert Request("a\tb\udcffc@d", None).printable() == "a?b?c@d"


class Verifier:
    """Refuses <unknown@...> as a recipient table would; says nothing of the rest."""

    @hookimpl
    def vrfy(self, recipient):
        return Verdict.reject("5.1.1 <unknown@example.net>: Recipient address rejected: User unknown", 550) \
            if recipient.startswith("unknown@") else None


def last_lines(out: bytes) -> list[bytes]:
    return [line for line in out.split(b"\r\n") if line[3:4] == b" "][1:]


def test_a_session_asks_the_chain_and_counts_vrfy_as_postfix_does(filterd_log):
    out, _, ended = run_session(b"VRFY unknown@example.net\r\nVRFY <known@example.net>\r\nVRFY\r\nQUIT\r\n",
                                plugins=[Verifier()])
    assert last_lines(out) == [b"550 5.1.1 <unknown@example.net>: Recipient address rejected: User unknown",
                               b"252 2.0.0 <known@example.net>", b"501 5.5.4 Syntax: VRFY address [SMTPUTF8]",
                               b"221 2.0.0 Bye"] and ended
    assert "NOQUEUE: reject: VRFY from unknown[127.0.0.1]: 550 5.1.1" in filterd_log.text
    assert "vrfy=1/3 quit=1 commands=2/4" in filterd_log.text


def test_disable_vrfy_command_refuses_it_before_anything_else():
    settings = replace(SETTINGS, disable_vrfy_command=True)
    out, _, _ = run_session(b"EHLO c\r\nVRFY\r\nVRFY a@b\r\nQUIT\r\n", plugins=[Verifier()], settings=settings)
    assert b"VRFY\r\n" not in out
    assert last_lines(out)[1:3] == [DISABLED.encode()] * 2
