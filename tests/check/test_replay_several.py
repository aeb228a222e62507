"""`filterd check` on several messages through one chain: the client options, an mbox, a Maildir, several files,
one session or one per message, a stateful plugin, the summary and the exit status."""

from __future__ import annotations

import io
import os
import subprocess
import sys
from pathlib import Path

import pytest

from filterd.check import message_files
from filterd.cli import main

pytestmark = pytest.mark.usefixtures("restore_filterd_logger")
ROOT = Path(__file__).resolve().parents[2]
RATE = "tests.fixtures.plugins.third_message"
MBOX = ("From alice@example.org Mon Dec  1 10:00:00 2026\nSubject: one\n\nbody\n\n"
        "From bob@example.org Mon Dec  1 10:00:01 2026\nSubject: two\n\n>From the start\n\n"
        "From MAILER-DAEMON Mon Dec  1 10:00:02 2026\nSubject: three\n\nbody\n\n"
        "From carol@example.org Mon Dec  1 10:00:03 2026\nSubject: four\n\nbody\n")
SUMMARY = "4 messages: 2 accepted, 2 rejected, 0 deferred, 0 discarded, 0 held"


def config(directory: Path, *lines: str) -> Path:
    directory.mkdir(exist_ok=True)
    (directory / "main.cf").write_text("\n".join(["myhostname = mx.example.com", *lines]) + "\n")
    return directory


def write(path: Path, text: str) -> str:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text)
    return str(path)


def run(capsys, *argv: str) -> tuple[int, str, str]:
    status = main(list(argv))
    captured = capsys.readouterr()
    return status, captured.out, captured.err


def headings(out: str) -> list[str]:
    return [line for line in out.splitlines() if line.startswith("==> ")]


def results(out: str) -> list[str]:
    return [line for line in out.splitlines() if line.startswith("result: ")]


@pytest.fixture
def rated(tmp_path) -> Path:
    return config(tmp_path / "conf", f"filterd_plugins = {RATE}")


# --- the client ---------------------------------------------------------------------------------

def test_the_client_options_are_the_session_plugins_see(tmp_path, rated, capsys):
    message = write(tmp_path / "m.eml", "Subject: x\n\nbody\n")
    argv = ["check", "-c", str(rated), "-a", "192.0.2.7", "-n", "mail.example.org", "-H", "helo.example",
            "-p", "SMTP", message, message, message]
    status, out, err = run(capsys, *argv)
    assert ("Received: from helo.example (mail.example.org [192.0.2.7])\n"
            "\tby mx.example.com (filterd) with SMTP id") in out
    assert results(out)[-1] == "result: reject 550 5.7.1 Too many messages from 192.0.2.7"
    assert ("reject: MAIL from mail.example.org[192.0.2.7]: 550 5.7.1 Too many messages from 192.0.2.7; "
            "from=<sender@example.org> proto=SMTP helo=<helo.example>") in err


def test_an_address_without_a_name_is_an_unknown_client(tmp_path, rated, capsys):
    status, out, _ = run(capsys, "check", "-c", str(rated), "-a", "192.0.2.8", write(tmp_path / "m.eml", "\n"))
    assert "Received: from localhost (unknown [192.0.2.8])\n\tby mx.example.com (filterd) with ESMTP id" in out


def test_without_client_options_the_client_is_localhost_saying_ehlo(tmp_path, rated, capsys):
    status, out, _ = run(capsys, "check", "-c", str(rated), write(tmp_path / "m.eml", "\n"))
    assert "Received: from localhost (localhost [127.0.0.1])\n\tby mx.example.com (filterd) with ESMTP id" in out


@pytest.mark.parametrize("option, value, error", [
    ("-a", "192.0.2.300", "-a 192.0.2.300: bad client address syntax"),
    ("-a", "mail.example.org", "-a mail.example.org: bad client address syntax"),
    ("-p", "LMTP", "-p LMTP: the protocol is SMTP or ESMTP"),
])
def test_a_bad_client_option_is_a_fatal_error(tmp_path, rated, capsys, option, value, error):
    assert run(capsys, "check", "-c", str(rated), option, value, write(tmp_path / "m.eml", "\n")) == (
        1, "", f"filterd: fatal: {error}\n")


# --- an mbox, one chain -------------------------------------------------------------------------

def test_an_mbox_goes_through_one_chain_that_keeps_its_state(tmp_path, rated, capsys):
    status, out, _ = run(capsys, "check", "-c", str(rated), write(tmp_path / "INBOX", MBOX))
    assert status == 3
    inbox = tmp_path / "INBOX"
    assert headings(out) == [
        f"==> {inbox} #1 (From alice@example.org) <==", f"==> {inbox} #2 (From bob@example.org) <==",
        f"==> {inbox} #3 (From MAILER-DAEMON) <==", f"==> {inbox} #4 (From carol@example.org) <=="]
    assert results(out) == ["result: accept", "result: accept"] + 2 * [
        "result: reject 550 5.7.1 Too many messages from 127.0.0.1"]
    assert out.endswith(f"\n\n{SUMMARY}\n")


def test_the_mbox_from_line_gives_the_sender_and_the_message_is_unquoted(tmp_path, rated, capsys):
    _, out, err = run(capsys, "check", "-c", str(rated), write(tmp_path / "INBOX", MBOX))
    assert "Subject: two\nX-Session-Message: 1\n\nFrom the start\n\n==> " in out
    assert "Too many messages from 127.0.0.1; from=<> proto=ESMTP" in err
    assert "Too many messages from 127.0.0.1; from=<carol@example.org> proto=ESMTP" in err


def test_f_overrides_the_mbox_senders(tmp_path, rated, capsys):
    inbox = write(tmp_path / "INBOX", MBOX)
    _, _, err = run(capsys, "check", "-c", str(rated), "-f", "<>", "-r", "x@example.net", inbox)
    assert err.count("from=<> proto=ESMTP") == 2
    assert "carol" not in err


def test_each_message_has_a_session_of_its_own(tmp_path, rated, capsys):
    _, out, _ = run(capsys, "check", "-c", str(rated), write(tmp_path / "INBOX", MBOX))
    assert out.count("\nX-Session-Message: 1\n") == 2
    assert [line.split()[:2] for line in out.splitlines() if line.startswith("disconnect")] == 4 * [
        ["disconnect", RATE]]


def test_with_session_every_message_is_in_one_session(tmp_path, rated, capsys):
    status, out, _ = run(capsys, "check", "-c", str(rated), "--session", write(tmp_path / "INBOX", MBOX))
    assert status == 3
    assert "\nX-Session-Message: 1\n" in out and "\nX-Session-Message: 2\n" in out
    assert out.endswith(f"\n\n==> end of session <==\ndisconnect      {RATE} DUNNO\n\n{SUMMARY}\n")
    assert out.count("disconnect ") == 1


def test_q_prints_a_line_per_message_and_the_summary(tmp_path, rated, capsys):
    status, out, _ = run(capsys, "check", "-c", str(rated), "-q", write(tmp_path / "INBOX", MBOX))
    inbox = tmp_path / "INBOX"
    refused = "reject 550 5.7.1 Too many messages from 127.0.0.1"
    assert (status, out) == (3, f"{inbox} #1 (From alice@example.org): accept\n"
                                f"{inbox} #2 (From bob@example.org): accept\n"
                                f"{inbox} #3 (From MAILER-DAEMON): {refused}\n"
                                f"{inbox} #4 (From carol@example.org): {refused}\n"
                                f"{SUMMARY}\n")


# --- directories and several files --------------------------------------------------------------

def test_a_maildir_is_read_in_name_order_whatever_the_listing_order(tmp_path, rated, capsys, monkeypatch):
    maildir = tmp_path / "Maildir"
    for sub, name in [("new", "1700000003.M3P1.mx"), ("cur", "1700000001.M1P1.mx:2,S"),
                      ("cur", "1700000002.M2P1.mx:2,")]:
        write(maildir / sub / name, f"Subject: {name}\n\nbody\n")
    (maildir / "tmp").mkdir()
    real = os.listdir
    monkeypatch.setattr(message_files.os, "listdir", lambda path: sorted(real(path), reverse=True))
    status, out, _ = run(capsys, "check", "-c", str(rated), "-q", str(maildir))
    assert (status, out.splitlines()) == (3, [
        f"{maildir}/cur/1700000001.M1P1.mx:2,S: accept", f"{maildir}/cur/1700000002.M2P1.mx:2,: accept",
        f"{maildir}/new/1700000003.M3P1.mx: reject 550 5.7.1 Too many messages from 127.0.0.1",
        "3 messages: 2 accepted, 1 rejected, 0 deferred, 0 discarded, 0 held"])


def test_several_files_are_read_in_the_order_given_with_a_heading_each(tmp_path, rated, capsys):
    second, first = write(tmp_path / "b.eml", "Subject: b\n\n"), write(tmp_path / "a.eml", "Subject: a\n\n")
    status, out, _ = run(capsys, "check", "-c", str(rated), second, first)
    assert (status, headings(out)) == (0, [f"==> {second} <==", f"==> {first} <=="])
    assert out.endswith("\n\n2 messages: 2 accepted, 0 rejected, 0 deferred, 0 discarded, 0 held\n")


def test_held_messages_are_counted_apart_and_exit_0(tmp_path, capsys):
    write(tmp_path / "hc.pcre", "/^Subject: hold/ HOLD review\n/^Subject: drop/ DISCARD\n")
    conf = config(tmp_path / "conf", "filterd_plugins = header_checks", f"header_checks = pcre:{tmp_path}/hc.pcre")
    held, plain = write(tmp_path / "1", "Subject: hold me\n\n"), write(tmp_path / "2", "Subject: hi\n\n")
    assert run(capsys, "check", "-c", str(conf), "-q", held, plain)[:2] == (0, (
        f"{held}: accept, hold (review)\n{plain}: accept\n"
        "2 messages: 1 accepted, 0 rejected, 0 deferred, 0 discarded, 1 held\n"))
    dropped = write(tmp_path / "3", "Subject: drop it\n\n")
    status, out, _ = run(capsys, "check", "-c", str(conf), "-q", plain, dropped)
    assert (status, out.splitlines()[-1]) == (3, "2 messages: 1 accepted, 0 rejected, 0 deferred, 1 discarded, 0 held")


def test_a_deferral_is_counted_as_deferred(tmp_path, capsys, monkeypatch):
    monkeypatch.setattr(sys, "stdin", io.TextIOWrapper(io.BytesIO(b"Subject: hi\n\n")))
    conf = config(tmp_path / "conf", "filterd_plugins = tests.fixtures.plugins.reject_subject")
    deferred = write(tmp_path / "m", "Subject: DEFERME\n\n")
    status, out, _ = run(capsys, "check", "-c", str(conf), "-q", deferred, "-")
    assert (status, out) == (3, f"{deferred}: defer 451 4.7.1 Try again later\n(standard input): accept\n"
                                "2 messages: 1 accepted, 0 rejected, 1 deferred, 0 discarded, 0 held\n")


def test_a_file_that_cannot_be_read_stops_the_run_after_the_messages_before_it(tmp_path, rated, capsys):
    good = write(tmp_path / "a.eml", "Subject: a\n\n")
    status, out, err = run(capsys, "check", "-c", str(rated), "-q", good, str(tmp_path / "nosuch"))
    assert (status, out, err) == (
        1, f"{good}: accept\n", f"filterd: fatal: open {tmp_path}/nosuch: No such file or directory\n")


def test_an_empty_directory_is_no_message(tmp_path, rated, capsys):
    (tmp_path / "empty").mkdir()
    assert run(capsys, "check", "-c", str(rated), str(tmp_path / "empty")) == (
        0, "\n0 messages: 0 accepted, 0 rejected, 0 deferred, 0 discarded, 0 held\n", "")


# --- as a user types it --------------------------------------------------------------------------

def test_python_m_filterd_check_replays_an_mbox(tmp_path, rated):
    inbox = write(tmp_path / "INBOX", MBOX)
    done = subprocess.run([sys.executable, "-m", "filterd", "-c", str(rated), "check", "-q", "-a", "192.0.2.9", inbox],
                          cwd=ROOT, capture_output=True, text=True, timeout=60, stdin=subprocess.DEVNULL)
    assert (done.returncode, done.stdout.splitlines()[-2:]) == (3, [
        f"{inbox} #4 (From carol@example.org): reject 550 5.7.1 Too many messages from 192.0.2.9", SUMMARY])
    assert "reject: MAIL from unknown[192.0.2.9]" in done.stderr
