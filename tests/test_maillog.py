"""Log lines in Postfix's format, to a file, to stderr and to syslog."""

import logging
import os
import re
import socket

from filterd import maillog


def test_file_lines_look_like_postfix(tmp_path):
    path = tmp_path / "maillog"
    maillog.setup(str(path), "filterd", "mx.example.org")
    maillog.info("smtpd", "%s: client=%s", "4ABCD", "localhost[127.0.0.1]")
    maillog.warning("smtpd", "something odd")
    lines = path.read_text().splitlines()
    assert re.fullmatch(rf"\w{{3}} [ \d]\d \d\d:\d\d:\d\d mx filterd/smtpd\[{os.getpid()}\]: 4ABCD: client=localhost\[127\.0\.0\.1\]",
                        lines[0])
    assert lines[1].endswith(f"filterd/smtpd[{os.getpid()}]: warning: something odd")


def test_a_file_moved_away_by_logrotate_is_reopened_within_a_second(tmp_path, monkeypatch):
    path = tmp_path / "maillog"
    maillog.setup(str(path), "filterd", "mx.example.org")
    clock = [1000.0]
    monkeypatch.setattr(maillog.time, "monotonic", lambda: clock[0])
    maillog.info("smtpd", "first")
    path.rename(tmp_path / "maillog.1")
    maillog.info("smtpd", "same second")
    clock[0] += 1.0
    maillog.info("smtpd", "a second later")
    assert "same second" in (tmp_path / "maillog.1").read_text()
    assert path.read_text().endswith("a second later\n")


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


def test_what_is_logged_before_setup_reaches_the_log_set_up_afterwards(tmp_path):
    """main.cf and its tables are read before the log is known: their warnings still reach maillog_file."""
    maillog.log.addHandler(maillog._early)
    maillog.warning("cleanup", "regexp map /t, line 1: ignoring unrecognized request")
    maillog.warning("cleanup", "dropped")
    maillog.discard_early(lambda record: record.getMessage() == "dropped")
    maillog.setup(str(tmp_path / "maillog"), "filterd", "mx.example.org")
    maillog.info("master", "daemon started")
    lines = (tmp_path / "maillog").read_text().splitlines()
    assert [line.split("]: ", 1)[1] for line in lines] == [
        "warning: regexp map /t, line 1: ignoring unrecognized request", "daemon started"]
    assert "filterd/cleanup[" in lines[0]


def test_a_tool_writes_its_name_and_severity_as_postfix_commands_do(capsys):
    maillog.setup_tool("postmap")
    maillog.warning("postmap", "regexp map /t, line 1: ignoring unrecognized request")
    maillog.fatal("postmap", "open /t: No such file or directory")
    assert capsys.readouterr().err == ("postmap: warning: regexp map /t, line 1: ignoring unrecognized request\n"
                                       "postmap: fatal: open /t: No such file or directory\n")


def test_reset_gives_the_log_a_new_process_has(tmp_path):
    """What is logged after reset waits for the next setup, as what a new process logs before its setup does."""
    maillog.setup(str(tmp_path / "first"), "filterd", "mx.example.org")
    maillog.reset()
    maillog.warning("cleanup", "a table's warning before setup")
    maillog.setup(str(tmp_path / "second"), "filterd", "mx.example.org")
    assert "a table's warning before setup" not in (tmp_path / "first").read_text()
    assert (tmp_path / "second").read_text().endswith("filterd/cleanup[%d]: warning: a table's warning before setup\n"
                                                      % os.getpid())
