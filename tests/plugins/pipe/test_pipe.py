"""The pipe plugin on its own: argv templates without a shell, pipe(8)'s exit statuses, filter and check modes,
the time limit, and the output turned into edits (real commands: sed, sh, cat)."""

from __future__ import annotations

import pytest

from filterd import ConfigError
from filterd.plugins import pipe
from filterd.plugins.pipe import argv, command, exits
from filterd.testing import run_queue

MESSAGE = b"From: a@example.org\r\nSubject: hi\r\nX-Folded: one\r\n two\r\n\r\nbody line\r\n"


def run(cmd: str, **settings: str):
    return run_queue(pipe, message=MESSAGE, sender="s@example.org", recipients=["r1@example.net", "r2@example.net"],
                     settings={"filterd_pipe_command": cmd, **{f"filterd_pipe_{k}": v for k, v in settings.items()}})


def test_macros_expand_inside_words_and_recipient_words_repeat():
    words = argv.parse("cmd -f ${sender} --to=${recipient} $(queue_id) -- $user")
    assert argv.expand(words, {"sender": "s@x", "queue_id": "Q1"}, ["a@d1", "b;rm@d2"]) == [
        "cmd", "-f", "s@x", "--to=a@d1", "--to=b;rm@d2", "Q1", "--", "a", "b;rm"]


def test_an_unknown_macro_is_a_configuration_error():
    with pytest.raises(ConfigError, match="unknown macro name: nosuch"):
        run("cat ${nosuch}")


def test_exit_statuses_are_read_as_pipe_8_reads_them():
    assert exits.failure(75, "busy") == ("4.3.0", "temporary failure. Command output: busy")
    assert exits.failure(69, "") == ("5.3.0", "service unavailable")
    assert exits.failure(1, "x") == ("5.3.0", "Command died with status 1. Command output: x")
    assert exits.failure(-9, "") == ("4.3.0", "Command died with signal 9")
    assert exits.failure(None, "", timed_out=True) == ("4.3.0", "Command time limit exceeded")


def test_crlf_becomes_lf_across_chunk_boundaries():
    assert b"".join(command.lf_lines([b"a\r", b"\nb\r\n", b"c\r"])) == b"a\nb\nc\r"


def test_filter_mode_makes_the_output_the_message():
    outcome = run("sed -e s/body/BODY/ -e 1iX-Piped:yes")
    assert outcome.accepted
    assert outcome.message.as_bytes() == (b"X-Piped: yes\r\nFrom: a@example.org\r\nSubject: hi\r\n"
                                          b"X-Folded: one\r\n two\r\n\r\nBODY line\r\n")


def test_headers_the_command_kept_stay_as_they_were():
    outcome = run("sed -e '4aX-Added: after the folded header'")
    added = b"one\r\n two\r\nX-Added: after the folded header\r\n"
    assert outcome.message.as_bytes() == MESSAGE.replace(b"one\r\n two\r\n", added)


def test_check_mode_passes_the_message_unchanged_and_logs_stderr():
    outcome = run("sh -c 'cat >/dev/null; echo looked >&2'", mode="check")
    assert outcome.accepted and outcome.message.as_bytes() == MESSAGE
    [call] = outcome.trace
    assert [note.text for note in call.verdict.earlier] == ["pipe: sh: looked"]


def test_exit_75_defers_69_bounces_or_defers_as_configured():
    assert run("sh -c 'exit 75'").verdict.reply() == (451, "4.3.0", "temporary failure")
    assert run("sh -c 'exit 69'").verdict.reply() == (550, "5.3.0", "service unavailable")
    assert run("sh -c 'exit 69'", failure_action="defer").verdict.reply() == (451, "4.3.0", "service unavailable")


def test_no_output_in_filter_mode_defers():
    assert run("true").verdict.reply() == (451, "4.3.0", "Command produced no output")


def test_a_command_past_its_time_limit_is_killed_and_the_message_deferred():
    assert run("sleep 60", time_limit="1s").verdict.reply() == (451, "4.3.0", "Command time limit exceeded")


def test_the_time_limit_must_be_below_plugin_timeout():
    with pytest.raises(ConfigError, match="plugin_timeout"):
        run("cat", time_limit="1h")


def test_a_message_the_command_wrote_back_unchanged_needs_no_edit():
    outcome = run("cat")
    assert outcome.accepted and outcome.message.as_bytes() == MESSAGE
    [call] = outcome.trace
    assert call.verdict.edits == ()
