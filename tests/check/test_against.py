"""`filterd check --against`: the same messages through two real configurations, header_checks and body_checks
rules in one that the other lacks; only what differs is printed, and the exit status says whether anything did."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

from filterd.check.against import BODY_DIFF_LIMIT, Fingerprint, differences, printable, tally
from filterd.cli import main

pytestmark = pytest.mark.usefixtures("restore_filterd_logger")
ROOT = Path(__file__).resolve().parents[2]
MBOX = ("From alice@example.org Mon Dec  1 10:00:00 2026\nSubject: hi\nX-Mailer: bulk\n\nbody\n\n"
        "From bob@example.org Mon Dec  1 10:00:01 2026\nSubject: buy viagra\n\nbody\n\n"
        "From carol@example.org Mon Dec  1 10:00:02 2026\nSubject: hello\n\nbody\n\n"
        "From dave@example.org Mon Dec  1 10:00:03 2026\nSubject: links\n\nfirst\nclick here\nlast\n")
HEADER_CHECKS = "/^X-Mailer: bulk/ PREPEND X-Bulk: yes\n"
NEW_RULES = "/^Subject: .*viagra/ REJECT 5.7.1 No pills\n/^Subject: hello/ PREPEND X-Hello: yes\n"


def config(directory: Path, *lines: str) -> str:
    directory.mkdir(exist_ok=True)
    (directory / "main.cf").write_text("\n".join(["myhostname = mx.example.com", *lines]) + "\n")
    return str(directory)


def header_checks(directory: Path, rules: str, *lines: str) -> str:
    directory.mkdir(exist_ok=True)
    (directory / "header_checks").write_text(rules)
    return config(directory, "filterd_plugins = header_checks", f"header_checks = pcre:{directory}/header_checks",
                  *lines)


@pytest.fixture
def inbox(tmp_path) -> str:
    (tmp_path / "INBOX").write_text(MBOX)
    return str(tmp_path / "INBOX")


@pytest.fixture
def current(tmp_path) -> str:
    return header_checks(tmp_path / "current", HEADER_CHECKS)


@pytest.fixture
def new(tmp_path) -> str:
    (tmp_path / "new").mkdir()
    (tmp_path / "new" / "body_checks").write_text("/^click here/ REPLACE [link removed]\n")
    return header_checks(tmp_path / "new", HEADER_CHECKS + NEW_RULES, f"body_checks = pcre:{tmp_path}/new/body_checks")


def against(capsys, conf: str, other: str, *argv: str) -> tuple[int, str, str]:
    status = main(["check", "-c", conf, "--against", other, *argv])
    captured = capsys.readouterr()
    return status, captured.out, captured.err


def test_only_the_messages_that_differ_are_printed_as_a_diff(current, new, inbox, capsys):
    status, out, _ = against(capsys, current, new, inbox)
    assert (status, out) == (4, f"--- {current}/main.cf\n+++ {new}/main.cf\n"
                                f"==> {inbox} #2 (From bob@example.org) <==\n"
                                "-result: accept\n"
                                "+result: reject 550 5.7.1 No pills\n"
                                f"==> {inbox} #3 (From carol@example.org) <==\n"
                                " result: accept\n"
                                "+X-Hello: yes\n"
                                f"==> {inbox} #4 (From dave@example.org) <==\n"
                                " result: accept\n"
                                "@@ body -2 +2 @@\n"
                                "-click here\n"
                                "+[link removed]\n"
                                "3 of 4 messages differ\n")


def test_the_same_configuration_twice_differs_in_nothing(current, inbox, capsys):
    """Each message has the same queue id and arrival time on both sides, so the Received: headers agree too."""
    assert against(capsys, current, current, inbox)[:2] == (0, "0 of 4 messages differ\n")


def test_v_prints_the_messages_that_do_not_differ_too(current, new, inbox, capsys):
    status, out, _ = against(capsys, current, new, "-v", inbox)
    assert status == 4
    assert out.startswith(f"--- {current}/main.cf\n+++ {new}/main.cf\n"
                          f"==> {inbox} #1 (From alice@example.org) <==\n result: accept\n"
                          f"==> {inbox} #2 (From bob@example.org) <==\n-result: accept\n")


def test_each_configuration_keeps_its_own_plugin_state(tmp_path, inbox, capsys):
    """A rate limit counts each configuration's messages apart: in one process, one side would see eight."""
    rated = config(tmp_path / "rated", "filterd_plugins = tests.fixtures.plugins.third_message")
    assert against(capsys, rated, rated, inbox)[:2] == (0, "0 of 4 messages differ\n")
    status, out, _ = against(capsys, config(tmp_path / "plain"), rated, "--session", inbox)
    assert status == 4
    assert out.endswith(f"==> {inbox} #4 (From dave@example.org) <==\n"
                        "-result: accept\n+result: reject 550 5.7.1 Too many messages from 127.0.0.1\n"
                        "4 of 4 messages differ\n")
    assert f"==> {inbox} #1 (From alice@example.org) <==\n result: accept\n+X-Session-Message: 1\n" in out
    assert f"==> {inbox} #2 (From bob@example.org) <==\n result: accept\n+X-Session-Message: 2\n" in out


def test_envelope_edits_are_compared(tmp_path, capsys):
    (tmp_path / "m.eml").write_text("Subject: REWRITE please\n\nbody\n")
    rewriting = config(tmp_path / "rewriting", "filterd_plugins = tests.fixtures.plugins.envelope_edits")
    status, out, _ = against(capsys, config(tmp_path / "plain"), rewriting, str(tmp_path / "m.eml"))
    assert (status, out.splitlines()[2:]) == (4, [
        f"==> {tmp_path}/m.eml <==", " result: accept", "-from=<sender@example.org>", "-to=<recipient@example.net>",
        "+from=<bounces@example.org>", "+to=<added@example.net>", "1 of 1 message differs"])


def test_an_error_in_the_other_configuration_is_fatal(tmp_path, current, inbox, capsys):
    assert against(capsys, current, str(tmp_path / "nowhere"), inbox) == (
        1, "", f"filterd: fatal: open {tmp_path}/nowhere: No such file or directory\n")
    other = config(tmp_path / "misspelt", "mesage_size_limit = 1")
    status, out, err = against(capsys, current, other, inbox)
    assert (status, out) == (1, "")
    assert err.startswith(f"filterd: fatal: {other}/main.cf:2: ") and 'did you mean "message_size_limit"' in err


def test_python_m_filterd_check_against(current, new, inbox):
    done = subprocess.run([sys.executable, "-m", "filterd", "-c", current, "check", "--against", new, inbox],
                          cwd=ROOT, capture_output=True, text=True, timeout=60, stdin=subprocess.DEVNULL)
    assert (done.returncode, done.stdout.splitlines()[-1]) == (4, "3 of 4 messages differ")


# --- the diff itself --------------------------------------------------------------------------------

def leaving(*headers: str, body: bytes = b"", fate: str = "result: accept") -> Fingerprint:
    return Fingerprint((fate,), True, ("from=<a@example.org>", "to=<b@example.net>"), headers, body)


def test_where_a_side_refuses_only_the_fates_are_compared():
    refused = Fingerprint(("result: reject 550 5.7.1 no", "recipient <c@example.net> refused: REJECT"))
    assert differences(leaving("Subject: x"), refused) == [
        "-result: accept", "+result: reject 550 5.7.1 no", "+recipient <c@example.net> refused: REJECT"]


def test_a_fate_that_differs_where_both_leave_comes_with_the_edits():
    held = leaving("X-Held: yes", "Subject: x", fate="result: accept, hold (r)")
    assert differences(leaving("Subject: x"), held) == [
        "-result: accept", "+result: accept, hold (r)", "+X-Held: yes"]


def test_a_long_body_diff_is_cut_short():
    old = b"".join(b"line %d\r\n" % n for n in range(100))
    diff = differences(leaving(body=old), leaving(body=old.replace(b"line", b"LINE")))
    assert diff[:3] == [" result: accept", "@@ body -1,100 +1,100 @@", "-line 0"]
    assert diff[-1] == f" ... {201 - BODY_DIFF_LIMIT} more body diff lines"
    assert len(diff) == 1 + BODY_DIFF_LIMIT + 1


def test_a_folded_header_keeps_its_sign_on_each_line_and_bytes_that_are_not_utf8_are_shown_as_such():
    assert printable("+Subject: one\n\ttwo") == "+Subject: one\n+\ttwo"
    assert printable("-Subject: caf\udce9") == "-Subject: caf\ufffd"


def test_the_tally_counts_messages():
    assert [tally(0, 1), tally(1, 1), tally(1, 120), tally(3, 120)] == [
        "0 of 1 message differ", "1 of 1 message differs", "1 of 120 messages differs", "3 of 120 messages differ"]
