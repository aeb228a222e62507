"""Log lines in Postfix's format, to a file, to stderr and to syslog."""

import logging
import os
import re
import socket

import pytest

from filterd import maillog


@pytest.fixture(autouse=True)
def restore_logger():
    handlers, level, propagate = list(maillog.log.handlers), maillog.log.level, maillog.log.propagate
    yield
    for handler in list(maillog.log.handlers):
        maillog.log.removeHandler(handler)
        handler.close()
    for handler in handlers:
        maillog.log.addHandler(handler)
    maillog.log.setLevel(level)
    maillog.log.propagate = propagate


def test_file_lines_look_like_postfix(tmp_path):
    path = tmp_path / "maillog"
    maillog.setup(str(path), "filterd", "mx.example.org")
    maillog.info("smtpd", "%s: client=%s", "4ABCD", "localhost[127.0.0.1]")
    maillog.warning("smtpd", "something odd")
    lines = path.read_text().splitlines()
    assert re.fullmatch(rf"\w{{3}} [ \d]\d \d\d:\d\d:\d\d mx filterd/smtpd\[{os.getpid()}\]: 4ABCD: client=localhost\[127\.0\.0\.1\]",
                        lines[0])
    assert lines[1].endswith(f"filterd/smtpd[{os.getpid()}]: warning: something odd")


def test_stderr_in_the_foreground(capsys):
    maillog.setup("", "filterd", "mx.example.org", foreground=True)
    maillog.error("master", "cannot bind")
    assert f"filterd/master[{os.getpid()}]: error: cannot bind" in capsys.readouterr().err


def test_syslog_gets_the_program_name_and_facility(tmp_path, monkeypatch):
    address = str(tmp_path / "log.sock")
    server = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
    server.bind(address)
    server.settimeout(5)
    monkeypatch.setattr(maillog, "SYSLOG_SOCKET", address)
    try:
        maillog.setup("", "filterd", "mx.example.org", facility="mail", foreground=False)
        maillog.info("smtpd", "4ABCD: removed")
        datagram = server.recv(4096).decode()
    finally:
        server.close()
    mail_info = (logging.handlers.SysLogHandler.LOG_MAIL << 3) | logging.handlers.SysLogHandler.LOG_INFO
    assert datagram.rstrip("\x00") == f"<{mail_info}>filterd/smtpd[{os.getpid()}]: 4ABCD: removed"
