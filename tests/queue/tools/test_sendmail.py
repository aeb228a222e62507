"""filterd sendmail: options, the cleanup of local submissions, and the queue file it leaves in maildrop."""

from __future__ import annotations

import io
import os
import pwd

import pytest

from filterd.content import Header
from filterd.queue.queuefile import QueueFile
from filterd.queue.tools import submission
from filterd.queue.tools.console import ToolError
from filterd.queue.tools.sendmail import full_name, parse_options

USER = pwd.getpwuid(os.getuid())


def lines(text: bytes, dot_ends_input: bool = True) -> list[bytes]:
    return list(submission.input_lines(io.BytesIO(text), dot_ends_input))


def test_options_as_postfixs_sendmail_takes_them():
    options = parse_options(["-oi", "-fbounce@example.org", "-F", "Full Name", "-t", "-N", "success,delay",
                             "-R", "hdrs", "-V", "ENV1", "-B", "8BITMIME", "-odb", "-bm", "a@example.net", "b"])
    assert options.recipients == ["a@example.net", "b"]
    assert (options.sender, options.full_name, options.extract, options.dot_ends_input) == \
        ("bounce@example.org", "Full Name", True, False)
    assert (options.notify, options.ret, options.envid, options.body_type) == ("success,delay", "hdrs", "ENV1",
                                                                               "8BITMIME")
    assert parse_options(["-i", "-r", "x", "--", "-strange"]).recipients == ["-strange"]
    assert parse_options(["-C", "/etc/x/main.cf"]).config == "/etc/x/main.cf"


@pytest.mark.parametrize("argv", [["-bs"], ["-Z"], ["-f"]])
def test_unsupported_or_incomplete_options_are_usage_errors(argv):
    with pytest.raises(ToolError) as error:
        parse_options(argv)
    assert error.value.status == 64


def test_a_lone_dot_ends_the_input_unless_told_otherwise():
    text = b"From alice Thu Nov 26 11:30:58 2026\nSubject: x\r\n\nbody\n.\nafter\n"
    assert lines(text) == [b"Subject: x\r\n", b"\r\n", b"body\r\n"]
    assert lines(text, dot_ends_input=False)[-2:] == [b".\r\n", b"after\r\n"]


def test_headers_are_split_from_the_body_which_starts_with_the_blank_line():
    headers, body = submission.split_headers(iter(lines(b"Subject: a\n long\nTo: b\n\nline\n")))
    assert [h.raw for h in headers] == [b"Subject: a\r\n long\r\n", b"To: b\r\n"]
    assert list(body) == [b"\r\n", b"line\r\n"]
    headers, body = submission.split_headers(iter(lines(b"no header here\nsecond\n")))
    assert headers == [] and list(body) == [b"\r\n", b"no header here\r\n", b"second\r\n"]
    headers, body = submission.split_headers(iter(lines(b"Subject: only\n")))
    assert len(headers) == 1 and list(body) == [b"\r\n"]


def test_recipients_from_the_headers():
    headers = [Header.make("To", "A <a@example.net>, b@example.net"), Header.make("Cc", "undisclosed-recipients:;"),
               Header.make("Bcc", "hidden"), Header.make("Subject", "c@example.net")]
    assert submission.header_recipients(headers) == ["a@example.net", "b@example.net", "hidden"]
    resent = headers + [Header.make("Resent-To", "new@example.net")]
    assert submission.header_recipients(resent) == ["new@example.net"]


@pytest.mark.parametrize("given, wire", [("root", "root@origin.test"), ("<>", ""), ("<a@b.example>", "a@b.example"),
                                         ('"john doe"@x.example', '"john doe"@x.example'),
                                         ("john doe@x.example", '"john doe"@x.example')])
def test_addresses_are_qualified_and_quoted_as_on_the_wire(given, wire):
    assert submission.qualify(given, "origin.test") == wire


def test_received_first_dropped_headers_gone_missing_ones_added_in_postfixs_order():
    identity = submission.Identity("root@filterd.test", "Doe, John", 0, "filterd.test")
    headers = [Header.make("Subject", "x"), Header.make("Bcc", "hidden"), Header.make("Return-Path", "<x>"),
               Header.make("Content-Length", "12")]
    date = "Thu, 26 Nov 2026 11:32:35 +0000"
    assert submission.local_headers(headers, identity, "4jZvXz4SnYzJ9C5", date).decode() == (
        "Received: by filterd.test (filterd, from userid 0)\r\n"
        "\tid 4jZvXz4SnYzJ9C5; Thu, 26 Nov 2026 11:32:35 +0000\r\n"
        "Subject: x\r\n"
        "Message-Id: <4jZvXz4SnYzJ9C5@filterd.test>\r\n"
        "Date: Thu, 26 Nov 2026 11:32:35 +0000\r\n"
        'From: "Doe, John" <root@filterd.test>\r\n')
    present = [Header.make("From", "me@x.example"), Header.make("Date", "yesterday"),
               Header.make("Message-ID", "<1@x>")]
    assert submission.missing_headers(present, identity, "Q", date) == []


def passwd(login: str, gecos: str) -> pwd.struct_passwd:
    return pwd.struct_passwd((login, "x", 1000, 1000, gecos, f"/home/{login}", "/bin/sh"))


@pytest.mark.parametrize("user, environ, name", [
    (passwd("jdoe", "John Doe,Room 1,555-1234,"), {}, "John Doe"),
    (passwd("jdoe", "& Doe; Room 1"), {}, "Jdoe Doe"),
    (passwd("jdoe", "100% Doe"), {}, "100"),
    (passwd("jdoe", ""), {}, ""),
    (passwd("jdoe", "John Doe"), {"NAME": "Johnny"}, "Johnny"),
])
def test_the_full_name_is_postfixs_from_name_or_the_gecos_field(user, environ, name):
    assert full_name(user, environ) == name


def maildrop_file(spool) -> QueueFile:
    [queue_id] = spool.ids("maildrop")
    return QueueFile.read(str(spool.path("maildrop", queue_id)))


def test_a_submission_becomes_a_complete_queue_file_in_maildrop(spool, tools, maillog, monkeypatch):
    monkeypatch.setenv("NAME", "Alice Q. Example")
    result = tools("sendmail", "-f", "alice", "bob", "carol@example.net", stdin=b"Subject: hi\n\nhello\n.\nlost\n")
    assert (result.status, result.out, result.err) == (0, "", "")
    qf = maildrop_file(spool)
    env = qf.envelope
    assert env.sender == "alice@filterd.test"
    assert [(r.address, r.orcpt) for r in env.recipients] == [("bob@filterd.test", "bob"), ("carol@example.net", "")]
    content = b"".join(qf.content())
    assert env.size == len(content) and content.endswith(b"\r\n\r\nhello\r\n")
    assert content.startswith(f"Received: by filterd.test (filterd, from userid {USER.pw_uid})\r\n"
                              f"\tid {env.queue_id}; ".encode())
    assert f"Message-Id: <{env.queue_id}@filterd.test>\r\n".encode() in content
    assert b'From: "Alice Q. Example" <alice@filterd.test>\r\n' in content
    assert env.message_id == f"<{env.queue_id}@filterd.test>" and env.protocol == "local"
    assert maillog() == ""


def test_extracted_recipients_and_no_bcc_in_the_content(spool, tools):
    message = b"From: me@example.org\nTo: a@example.net\nBcc: secret@example.net\nMessage-ID: <m1@x>\n\nhi\n"
    assert tools("sendmail", "-t", "-i", "-N", "success,failure", stdin=message).status == 0
    qf = maildrop_file(spool)
    assert [r.address for r in qf.envelope.recipients] == ["a@example.net", "secret@example.net"]
    assert {r.notify for r in qf.envelope.recipients} == {"SUCCESS,FAILURE"}
    content = b"".join(qf.content())
    assert b"secret" not in content and content.count(b"From:") == 1 and qf.envelope.message_id == "<m1@x>"
    assert qf.envelope.sender == f"{USER.pw_name}@filterd.test"


def test_utf8_turns_smtputf8_on(spool, tools):
    assert tools("sendmail", "jörg@example.net", stdin="Subject: grüße\n\nx\n".encode()).status == 0
    assert maildrop_file(spool).envelope.smtputf8


def test_no_recipients_is_fatal_as_in_postfix(spool, tools):
    who = f"{USER.pw_name}({USER.pw_uid})"
    result = tools("sendmail", stdin=b"Subject: x\n\nbody\n")
    assert (result.status, result.err) == (75, f"sendmail: fatal: {who}: Recipient addresses must be specified "
                                                "on the command line or via the -t option\n")
    result = tools("sendmail", "-t", stdin=b"Subject: x\n\nbody\n")
    assert result.err == f"sendmail: fatal: {who}: No recipient addresses found in message header\n"
    assert spool.ids("maildrop") == []


def test_a_message_over_message_size_limit_is_refused_and_nothing_is_queued(spool, tools, main_cf):
    main_cf.write_text(main_cf.read_text() + "message_size_limit = 2000\n")
    result = tools("sendmail", "x@example.net", stdin=b"Subject: big\n\n" + b"a" * 70 * 40 + b"\n")
    assert result.status == 75 and result.err.endswith(": message file too big\n")
    assert os.listdir(spool.root / "maildrop") == []
