"""`filterd pipe` without Postfix: every stage's plugins on stdin, the exit status FILTER_README's script gives,
and reinjection through a sendmail (a script that records its argv and stdin) or SMTP (smtp-sink)."""

from __future__ import annotations

import io
import sys
from pathlib import Path

from filterd.pipe.in_process import run as run_pipe
from filterd.loading import load

MESSAGE = b"From: alice@example.org\r\nSubject: %s\r\n\r\nhello\r\n"


def sendmail(tmp_path: Path, status: int = 0) -> Path:
    script = tmp_path / "sendmail"
    script.write_text(f"#!/bin/sh\nprintf '%s\\n' \"$@\" > {tmp_path}/argv\ncat > {tmp_path}/stdin\nexit {status}\n")
    script.chmod(0o755)
    return script


def run(tmp_path: Path, subject: str, reinjection: str = "sendmail", status: int = 0) -> tuple[int, str]:
    config = tmp_path / "main.cf"
    config.write_text(f"filterd_plugins = tests.fixtures.plugins.after_queue\nsendmail_path = "
                      f"{sendmail(tmp_path, status)}\nfilterd_pipe_reinjection = {reinjection}\n"
                      f"queue_directory = {tmp_path}\n")
    sys.path.insert(0, str(Path(__file__).resolve().parents[2]))
    loaded = load(str(config))
    from filterd.assembly import make_chain

    out = io.StringIO()
    code = run_pipe(make_chain(loaded.config, loaded.plugins), loaded.config, "alice@example.org",
                    ["bob@example.net", "x;rm -rf /@example.net"], io.BytesIO(MESSAGE % subject.encode()), out)
    return code, out.getvalue()


def test_an_accepted_message_is_reinjected_through_sendmail_with_the_after_queue_edits(tmp_path):
    assert run(tmp_path, "fine") == (0, "")
    assert (tmp_path / "argv").read_text().splitlines() == ["-G", "-i", "-f", "alice@example.org", "--",
                                                            "bob@example.net", "x;rm -rf /@example.net"]
    reinjected = (tmp_path / "stdin").read_bytes()
    assert b"\r" not in reinjected and b"X-After-Queue: checked " in reinjected and reinjected.endswith(b"hello\n")


def test_a_rejection_exits_69_with_the_reason_on_stdout(tmp_path):
    assert run(tmp_path, "AQ-REJECT") == (69, "5.7.1 Refused after queue\n")
    assert not (tmp_path / "argv").exists()


def test_a_discarded_message_exits_0_and_is_not_reinjected(tmp_path):
    assert run(tmp_path, "AQ-DISCARD") == (0, "")
    assert not (tmp_path / "argv").exists()


def test_a_failed_sendmail_exits_75(tmp_path):
    code, said = run(tmp_path, "fine", status=75)
    assert code == 75 and said.startswith("4.3.0 reinjection failed")


def test_smtp_reinjection_that_nobody_answers_exits_75(tmp_path):
    from tests.harness import free_port

    code, said = run(tmp_path, "fine", reinjection=f"smtp:[127.0.0.1]:{free_port()}")
    assert code == 75 and "reinjection to 127.0.0.1" in said

