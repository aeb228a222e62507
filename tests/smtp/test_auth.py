"""SMTP AUTH's decisions that need no Dovecot: what EHLO announces, the checks before the dialogue in Postfix's
order, MAIL FROM's AUTH=, and the reader of over-long responses. The dialogues themselves run against a real
Dovecot in tests/integration/test_sasl_vs_postfix.py."""

from __future__ import annotations

import asyncio

import pytest

from filterd.model import Session
from filterd.sasl.dovecot_client import DovecotAuth, socket_address
from filterd.smtp.auth import ALREADY, IN_TRANSACTION, MULTIPLE_AUTH_SENDERS, NOT_ENABLED, SYNTAX, SaslSession, \
    SaslSettings, take_auth_sender
from filterd.smtp.reader import read_limited_line

DOVECOT = {"PLAIN": frozenset({"plaintext"}), "LOGIN": frozenset({"plaintext"}),
           "ANONYMOUS": frozenset({"anonymous"})}


def sasl(tls: bool = False, **settings) -> SaslSession:
    session = SaslSession(SaslSettings(DovecotAuth("inet:127.0.0.1:1"), **settings), Session(tls=tls), "smtpd")
    session.mechanisms = DOVECOT
    return session


def test_ehlo_announces_dovecot_s_mechanisms_less_anonymous():
    assert sasl().ehlo_lines() == ["AUTH PLAIN LOGIN"]


def test_broken_clients_also_get_the_draft_s_form():
    assert sasl(broken_clients=True).ehlo_lines() == ["AUTH PLAIN LOGIN", "AUTH=PLAIN LOGIN"]


def test_tls_auth_only_announces_nothing_before_tls_and_everything_after():
    assert sasl(tls_auth_only=True).ehlo_lines() == []
    assert sasl(tls=True, tls_auth_only=True).ehlo_lines() == ["AUTH PLAIN LOGIN"]


def test_the_tls_security_options_apply_once_encrypted():
    settings = {"security_options": ("noanonymous", "noplaintext"), "tls_security_options": ("noanonymous",)}
    assert sasl(**settings).ehlo_lines() == []
    assert sasl(tls=True, **settings).ehlo_lines() == ["AUTH PLAIN LOGIN"]


@pytest.mark.parametrize(("arg", "logged_in", "in_transaction", "auth_only", "reply"), [
    ("PLAIN", "", False, True, NOT_ENABLED),
    ("PLAIN", "alice", True, False, ALREADY),
    ("PLAIN", "", True, False, IN_TRANSACTION),
    (None, "", True, False, IN_TRANSACTION),
    (None, "", False, False, SYNTAX),
    ("PLAIN a b", "", False, False, SYNTAX),
    ("PLAIN AGFsaWNlAHNlY3JldA==", "", False, False, None),
    ("FOO", "", False, False, None),
])
def test_the_checks_before_the_dialogue_in_postfix_s_order(arg, logged_in, in_transaction, auth_only, reply):
    session = sasl(tls_auth_only=auth_only)
    session.session.sasl_username = logged_in
    assert session.refusal(arg, in_transaction) == reply


def test_starting_tls_forgets_the_login():
    session = sasl()
    session.session.sasl_username, session.session.sasl_method, session.last_user = "alice", "PLAIN", "alice"
    session.reset()
    assert (session.session.sasl_username, session.session.sasl_method, session.last_user) == ("", "", "")


@pytest.mark.parametrize(("words", "rest", "sender", "refusal"), [
    (["SIZE=10", "AUTH=<a@example.org>"], ["SIZE=10"], "<a@example.org>", None),
    (["auth=a+2Bb@example.org"], [], "a+2Bb@example.org", None),
    (["AUTH=<>", "BODY=8BITMIME"], ["BODY=8BITMIME"], "", None),
    (["AUTH=<a@example.org>", "AUTH=<>"], [], "<a@example.org>", MULTIPLE_AUTH_SENDERS),
    ([], [], "", None),
])
def test_mail_from_s_auth_parameter(words, rest, sender, refusal):
    session = Session(sasl_sender="<stale@example.org>")
    assert take_auth_sender(words, session) == (rest, refusal)
    assert session.sasl_sender == sender


@pytest.mark.parametrize(("path", "address"), [("inet:127.0.0.1:12345", ("127.0.0.1", 12345)),
                                               ("inet:[::1]:12345", ("::1", 12345)),
                                               ("private/auth", "/var/spool/filterd/private/auth"),
                                               ("/run/dovecot/auth-client", "/run/dovecot/auth-client")])
def test_smtpd_sasl_path_as_postfix_reads_it(path, address):
    assert socket_address(path, "/var/spool/filterd") == address


def read_line(data: bytes, limit: int, buffer: int = 16) -> tuple[tuple[str, int], bytes]:
    async def read():
        reader = asyncio.StreamReader(limit=buffer)
        reader.feed_data(data)
        reader.feed_eof()
        return await read_limited_line(reader, limit), await reader.read()
    return asyncio.run(read())


@pytest.mark.parametrize(("data", "line", "length"), [
    (b"YWxpY2U=\r\nNEXT", "YWxpY2U=", 8),
    (b"*\r\n", "*", 1),
    (b"\r\n", "", 0),
    (b"A" * 40 + b"\r\nNEXT", "A" * 21, 40),
    (b"A" * 20 + b"\r\nNEXT", "A" * 20, 20),
])
def test_a_response_is_read_whole_past_the_buffer_and_kept_up_to_the_limit(data, line, length):
    assert read_line(data, 20) == ((line, length), b"NEXT" if b"NEXT" in data else b"")
