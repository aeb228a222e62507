"""Dovecot's auth protocol, client side, with bytes and lines alone: the lines are those Dovecot 2.3 sends."""

from __future__ import annotations

import pytest

from filterd.sasl.dovecot_protocol import CONT, FAIL, OK, AuthRequest, Handshake, ProtocolError, continue_request, \
    hello, is_valid_base64, offered, parse_reply

DOVECOT_HANDSHAKE = ("VERSION\t1\t2", "MECH\tPLAIN\tplaintext", "MECH\tLOGIN\tplaintext", "SPID\t15544", "CUID\t1",
                     "COOKIE\t97dc8bf9edb4d9092ccfb36b726c0293", "DONE")


def test_the_client_says_its_version_and_pid_first():
    assert hello(4242) == b"VERSION\t1\t1\nCPID\t4242\n"


def test_the_handshake_gives_the_mechanisms_with_their_flags():
    handshake = Handshake()
    for line in DOVECOT_HANDSHAKE[:-1]:
        handshake.feed_line(line)
        assert not handshake.done
    handshake.feed_line("DONE")
    assert handshake.done
    assert handshake.mechanisms == {"PLAIN": {"plaintext"}, "LOGIN": {"plaintext"}}


def test_another_major_version_is_refused_in_postfix_s_words():
    with pytest.raises(ProtocolError, match=r"^Protocol version mismatch \(2 vs. 1\)$"):
        Handshake().feed_line("VERSION\t2\t0")


def test_a_master_socket_without_mechanisms_is_refused_at_its_spid():
    handshake = Handshake()
    handshake.feed_line("VERSION\t1\t2")
    with pytest.raises(ProtocolError, match="wrong auth socket"):
        handshake.feed_line("SPID\t1")


def test_an_auth_request_is_postfix_s_line():
    request = AuthRequest(7, "PLAIN", "smtp", "127.0.0.1", "192.0.2.1", secured=True, initial_response="AGEAYg==")
    assert request.encode() == (b"AUTH\t7\tPLAIN\tservice=smtp\tnologin\tlip=127.0.0.1\trip=192.0.2.1\tsecured"
                                b"\tresp=AGEAYg==\n")


def test_an_auth_request_without_tls_or_initial_response_leaves_both_out():
    assert AuthRequest(1, "LOGIN", "smtp", "127.0.0.1", "127.0.0.1").encode() == \
        b"AUTH\t1\tLOGIN\tservice=smtp\tnologin\tlip=127.0.0.1\trip=127.0.0.1\n"


def test_a_response_to_a_challenge_is_passed_on_as_sent():
    assert continue_request(3, "YWxpY2U=") == b"CONT\t3\tYWxpY2U=\n"


@pytest.mark.parametrize(("line", "kind", "request_id", "challenge", "user", "reason"), [
    ("CONT\t3\tVXNlcm5hbWU6", CONT, 3, "VXNlcm5hbWU6", "", ""),
    ("CONT\t5\t", CONT, 5, "", "", ""),
    ("OK\t1\tuser=alice", OK, 1, "", "alice", ""),
    ("FAIL\t2\tuser=alice", FAIL, 2, "", "alice", ""),
    ("FAIL\t4\tcode=invalid_base64\treason=Invalid base64 data in initial response", FAIL, 4, "", "",
     "Invalid base64 data in initial response"),
    ("FAIL\t4\treason=bad\x01\xe9", FAIL, 4, "", "", "bad??"),
])
def test_replies(line, kind, request_id, challenge, user, reason):
    reply = parse_reply(line)
    assert (reply.kind, reply.request_id, reply.challenge, reply.user, reply.reason) == \
        (kind, request_id, challenge, user, reason)


def test_a_line_that_is_no_reply_is_ignored_as_postfix_ignores_it():
    assert parse_reply("NOTICE\tsomething") is None


def test_a_reply_without_a_request_id_is_a_protocol_error():
    with pytest.raises(ProtocolError):
        parse_reply("OK\tuser=alice")


@pytest.mark.parametrize(("text", "valid"), [("AGFsaWNlAHNlY3JldA==", True), ("", True), ("abc", True),
                                             ("@@@", False), ("YW Jj", False), ("YWJj\t", False)])
def test_base64_is_checked_for_its_alphabet_only_as_postfix_checks_it(text, valid):
    assert is_valid_base64(text) is valid


MECHANISMS = {"PLAIN": frozenset({"plaintext"}), "LOGIN": frozenset({"plaintext"}),
              "ANONYMOUS": frozenset({"anonymous"}), "CRAM-MD5": frozenset({"dictionary", "active"}),
              "SECRET": frozenset({"private"})}


@pytest.mark.parametrize(("options", "names"), [
    (["noanonymous"], ["PLAIN", "LOGIN", "CRAM-MD5"]),
    ([], ["PLAIN", "LOGIN", "ANONYMOUS", "CRAM-MD5"]),
    (["noanonymous", "noplaintext"], ["CRAM-MD5"]),
    (["NoDictionary"], ["PLAIN", "LOGIN", "ANONYMOUS"]),
    (["mutual_auth"], []),
])
def test_the_security_options_rule_out_mechanisms_by_their_flags(options, names):
    assert offered(MECHANISMS, options) == names
