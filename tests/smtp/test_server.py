"""The SMTP front end's glue to aiosmtpd, without sockets."""

import asyncio
from dataclasses import replace

from aiosmtpd.smtp import SMTP

from filterd.chain import Chain
from filterd.model import Session
from filterd.nexthop.sink import SinkNextHop
from filterd.registry import Plugins
from filterd.smtp.handler import SmtpHandler
from filterd.smtp import server as server_module
from filterd.smtp.server import SmtpServer
from filterd.smtp.xforward import apply_xforward
from filterd.smtp.settings import SmtpSettings
from tests.fixtures.smtp_session import SETTINGS, run_session, session_writes


def make_server(loop):
    handler = SmtpHandler(SmtpSettings(), Chain(Plugins.load([])), lambda: SinkNextHop("/nonexistent"))
    return SmtpServer(handler, loop)


def test_fast_init_sets_every_attribute_aiosmtpd_sets():
    loop = asyncio.new_event_loop()
    try:
        ours, theirs = make_server(loop), SMTP(object(), loop=loop)
        assert set(vars(theirs)) - set(vars(ours)) == set()
    finally:
        loop.close()


def test_every_smtp_command_is_dispatched_and_counted():
    loop = asyncio.new_event_loop()
    try:
        server = make_server(loop)
        assert {"EHLO", "HELO", "MAIL", "RCPT", "DATA", "RSET", "QUIT", "NOOP", "XFORWARD"} <= set(server._smtp_methods)
        assert server._handle_hooks["MAIL"] == server.handler.handle_MAIL
    finally:
        loop.close()


def test_xforward_attributes_are_decoded():
    session = Session()
    apply_xforward(session, "NAME=mail.example ADDR=192.0.2.1 PORT=4321 HELO=he+2Blo PROTO=ESMTP IDENT=[UNAVAILABLE]")
    assert (session.client_name, session.client_address, session.client_port, session.helo, session.protocol) == \
        ("mail.example", "192.0.2.1", 4321, "he+lo", "ESMTP")
    assert (session.forwarded_ident, session.forwarded_source) == ("", "")
    apply_xforward(session, "IDENT=4ABC+2B1 SOURCE=local")
    assert (session.forwarded_ident, session.forwarded_source) == ("4ABC+1", "LOCAL")


def test_an_xforward_name_stands_for_the_names_looked_up():
    session = Session(client_name="unknown", reverse_client_name="forged.example", client_name_status="FORGED",
                      reverse_client_name_status="OK")
    apply_xforward(session, "NAME=mail.example")
    assert (session.reverse_name, session.name_status, session.reverse_name_status) == ("mail.example", "OK", "OK")


def test_help_is_an_unknown_command_as_in_postfix():
    """Found by fuzzing sessions: HELP got aiosmtpd's "250 Supported commands: AUTH ..." (no enhanced status, and
    commands filterd does not offer); Postfix's smtpd has no HELP and answers it as any unknown command."""
    out, _, ended = run_session(b"HELP\r\nHELP MAIL\r\nQUIT\r\n")
    assert ended and out.split(b"\r\n")[1:4] == [b"500 5.5.2 Error: command not recognized"] * 2 + [b"221 2.0.0 Bye"]


def test_a_malformed_xforward_gets_postfix_s_reply_and_changes_nothing():
    """Found by fuzzing sessions: XFORWARD PORT=² (a digit to str.isdigit, not to int) raised ValueError, answered
    451 with a traceback in the log; Postfix refuses a bad PORT, an unknown attribute or one without a value."""
    out, _, ended = run_session(b"XFORWARD PORT=\xc2\xb2\r\nXFORWARD NAME=a.example PORT=123456\r\n"
                                b"XFORWARD FOO=bar\r\nXFORWARD NAME=\r\nXFORWARD PORT=[UNAVAILABLE] NAME=b.example\r\n"
                                b"QUIT\r\n")
    assert ended and out.split(b"\r\n")[1:7] == [
        "501 5.5.4 Bad PORT syntax: \u00b2".encode(), b"501 5.5.4 Bad PORT syntax: 123456",
        b"501 5.5.4 Bad XFORWARD attribute name: FOO", b"501 5.5.4 Syntax: XFORWARD attribute=value...",
        b"250 2.0.0 Ok", b"221 2.0.0 Bye"]


def test_a_client_that_half_closes_still_gets_every_reply():
    """Found by fuzzing sessions: the end of input right after pipelined commands cancelled the session (aiosmtpd's
    eof_received), so a message could reach the next hop while its client never saw the 250."""
    out, delivered, ended = run_session(b"MAIL FROM:<a@example.org>\r\nRCPT TO:<b@example.net>\r\nDATA\r\n"
                                        b"Subject: x\r\n\r\nbody\r\n.\r\nNOOP\r\nRSET")
    assert ended and out.split(b"\r\n")[1:] == [b"250 2.1.0 Ok", b"250 2.1.5 Ok",
                                               b"354 End data with <CR><LF>.<CR><LF>", b"250 2.0.0 Ok: queued",
                                               b"250 2.0.0 Ok", b""]
    assert len(delivered) == 1


def test_an_address_the_email_parser_cannot_take_is_malformed():
    """Found by fuzzing sessions: MAIL FROM:< raised IndexError in the email package's parser, answered 451 with a
    traceback logged."""
    out, _, ended = run_session(b"MAIL FROM:<\r\nMAIL FROM:<a@example.org>\r\nRCPT TO:<\r\nQUIT\r\n")
    assert ended and out.split(b"\r\n")[1:5] == [b"501 5.1.7 Bad sender address syntax", b"250 2.1.0 Ok",
                                                b"501 5.1.3 Bad recipient address syntax", b"221 2.0.0 Bye"]


def test_a_pipelined_group_gets_its_replies_in_one_write():
    """As Postfix's smtpd, which flushes its output only before it waits for input: the replies to MAIL and RCPT
    are held while the next pipelined command is already read, and go with DATA's 354 (one send, not three)."""
    writes = session_writes(b"EHLO client.example\r\nMAIL FROM:<a@example.org>\r\nRCPT TO:<b@example.net>\r\n"
                            b"RCPT TO:<c@example.net>\r\nDATA\r\n", cuts=[21])
    assert writes[2] == (b"250 2.1.0 Ok\r\n250 2.1.5 Ok\r\n250 2.1.5 Ok\r\n"
                         b"354 End data with <CR><LF>.<CR><LF>\r\n")


def test_a_reply_is_not_held_when_the_client_waits_for_it():
    writes = session_writes(b"MAIL FROM:<a@example.org>\r\nRCPT TO:<b@example.net>\r\n",
                            cuts=[len(b"MAIL FROM:<a@example.org>\r\n")])
    assert writes[1:3] == [b"250 2.1.0 Ok\r\n", b"250 2.1.5 Ok\r\n"]


def test_commands_sent_before_the_greeting_are_logged_once_as_postfix_logs_them(monkeypatch):
    logged = []
    monkeypatch.setattr(server_module.maillog, "info", lambda service, text, *args: logged.append(text % args))
    run_session(b"EHLO early.example\r\nNOOP\r\nQUIT\r\n")
    assert [line for line in logged if "pipelining" in line] == [
        "improper command pipelining after CONNECT from unknown[127.0.0.1]: EHLO early.example\\r\\nNOOP\\r\\n"
        "QUIT\\r\\n"]


def test_junk_commands_past_the_limit_count_as_errors_until_a_message_is_delivered():
    """smtpd_junk_command_limit 2: the 4th NOOP/RSET/VRFY/HELO is an error; with smtpd_hard_error_limit 3 the 6th ends
    the session, unless a delivered message started the count again (checked against Postfix in
    tests/integration/test_vrfy_etrn_vs_postfix.py)."""
    settings = replace(SETTINGS, junk_command_limit=2, hard_error_limit=3)
    message = b"MAIL FROM:<a@example.org>\r\nRCPT TO:<b@example.net>\r\nDATA\r\nSubject: x\r\n\r\nx\r\n.\r\n"
    out, _, ended = run_session(b"NOOP\r\nRSET\r\nVRFY a@b\r\nHELO c\r\nNOOP\r\n" + message + b"NOOP\r\n" * 5
                                + b"QUIT\r\n", settings=settings)
    assert ended and out.endswith(b"250 2.0.0 Ok\r\n" * 5 + b"221 2.0.0 Bye\r\n")
    out, _, ended = run_session(b"NOOP\r\nRSET\r\nVRFY a@b\r\nHELO c\r\nNOOP\r\nNOOP\r\nNOOP\r\n", settings=settings)
    assert ended and out.endswith(b"250 2.0.0 Ok\r\n421 4.7.0 mx.example Error: too many errors\r\n")
    assert out.count(b"\r\n") == 8
