"""RFC 3461 parameters checked as Postfix's smtpd checks them (the replies are Postfix's)."""

from __future__ import annotations

import pytest

from filterd.smtp.dsn import refusal
from tests.fixtures.smtp_session import run_session


@pytest.mark.parametrize("options", [["RET=FULL"], ["RET=hdrs"], ["ENVID=a+2Bb=c"], ["ENVID="], ["NOTIFY=NEVER"],
                                     ["NOTIFY=success,FAILURE,DELAY"], ["ORCPT=rfc822;a+40b.example"],
                                     ["ORCPT=rfc822;"], ["RET=FULL", "ENVID=x"], ["NOTIFY=DELAY", "ORCPT=x;y"]])
def test_well_formed_parameters_pass(options):
    assert refusal(options) is None


@pytest.mark.parametrize("options, reply", [
    (["RET=x"], "501 5.5.4 Bad RET parameter syntax"), (["RET=FULL", "RET=HDRS"], "501 5.5.4 Bad RET parameter syntax"),
    (["ENVID=a+2"], "501 5.5.4 Bad ENVID parameter syntax"), (["ENVID=a+0Ab"], "501 5.5.4 Bad ENVID parameter syntax"),
    (["ENVID=\u00e9"], "501 5.5.4 Bad ENVID parameter syntax"),
    (["NOTIFY=NEVER,DELAY"], "501 5.5.4 Error: Bad NOTIFY parameter syntax"),
    (["NOTIFY="], "501 5.5.4 Error: Bad NOTIFY parameter syntax"),
    (["NOTIFY=SOMETIMES"], "501 5.5.4 Error: Bad NOTIFY parameter syntax"),
    (["ORCPT=junk"], "501 5.5.4 Error: Bad ORCPT parameter syntax"),
    (["ORCPT=;a@b"], "501 5.5.4 Error: Bad ORCPT parameter syntax"),
    (["ORCPT=rfc822;a+4"], "501 5.5.4 Error: Bad ORCPT parameter syntax"),
])
def test_malformed_or_repeated_parameters_get_postfix_s_reply(options, reply):
    """Found by fuzzing sessions: NOTIFY=SOMETIMES, ORCPT=junk and the like were queued and passed to the next
    hop as given, which refuses them; Postfix's smtpd refuses them at once."""
    assert refusal(options) == reply


def test_a_session_refuses_malformed_dsn_parameters_and_goes_on():
    out, delivered, ended = run_session(b"EHLO c\r\nMAIL FROM:<a@example.org> RET=ALL\r\n"
                                        b"MAIL FROM:<a@example.org> RET=HDRS ENVID=q+2B1\r\n"
                                        b"RCPT TO:<b@example.net> ORCPT=junk\r\n"
                                        b"RCPT TO:<b@example.net> NOTIFY=NEVER\r\n"
                                        b"DATA\r\nSubject: x\r\n\r\nbody\r\n.\r\nQUIT\r\n")
    replies = [line for line in out.split(b"\r\n") if line[3:4] == b" "][2:]
    assert replies == [b"501 5.5.4 Bad RET parameter syntax", b"250 2.1.0 Ok",
                       b"501 5.5.4 Error: Bad ORCPT parameter syntax", b"250 2.1.5 Ok",
                       b"354 End data with <CR><LF>.<CR><LF>", b"250 2.0.0 Ok: queued", b"221 2.0.0 Bye"]
    assert ended and [recipients for _, recipients, _ in delivered] == [["b@example.net"]]
