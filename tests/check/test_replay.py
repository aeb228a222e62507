"""`filterd check` end to end through filterd.cli.main: main.cf, a plugin module, the report, the exit status."""

from __future__ import annotations

import io
import sys

import pytest

from filterd.cli import main

PLUGIN = "checkplug_mod"

PLUGIN_SOURCE = '''\
from filterd import Verdict, hookimpl

TAG = None


@hookimpl
def parameters():
    return {"checkplug_tag": "default-tag", "checkplug_reject_word": "spam", "checkplug_changes": ""}


@hookimpl
def configure(config):
    global TAG, WORD, CHANGES
    TAG = config.get("checkplug_tag")
    WORD = config.get("checkplug_reject_word")
    CHANGES = config.list("checkplug_changes")


@hookimpl
def changes():
    return set(CHANGES) if CHANGES else None


@hookimpl
def header(header):
    if header.name == "Subject" and WORD in header.value:
        return "REJECT 5.7.1 subject contains " + WORD


@hookimpl
def end_of_message(message):
    return Verdict.add_header("X-Checked", TAG)
'''

GOOD = b"From: a@example.org\nSubject: hello\n\nbody line\n"
SPAM = b"From: a@example.org\nSubject: buy spam now\n\nbody line\n"


pytestmark = pytest.mark.usefixtures("restore_filterd_logger")


@pytest.fixture
def plugin_dir(tmp_path, monkeypatch):
    (tmp_path / f"{PLUGIN}.py").write_text(PLUGIN_SOURCE)
    monkeypatch.syspath_prepend(str(tmp_path))
    monkeypatch.delitem(sys.modules, PLUGIN, raising=False)
    yield tmp_path
    sys.modules.pop(PLUGIN, None)


def write_conf(directory, *lines: str):
    conf = directory / "main.cf"
    conf.write_text("\n".join(["myhostname = mx.example.com", f"filterd_plugins = {PLUGIN}", *lines]) + "\n")
    return conf


def check(conf, message: bytes, directory, *extra: str) -> int:
    path = directory / "message.eml"
    path.write_bytes(message)
    return main(["check", "-c", str(conf), "-f", "sender@example.org", "-r", "rcpt@example.net", *extra, str(path)])


def report_lines(out: str) -> list[str]:
    return [" ".join(line.split()) for line in out.split("\n\n", 1)[0].splitlines()]


def test_accepted_message_exits_0_and_shows_each_verdict(plugin_dir, capsys):
    assert check(write_conf(plugin_dir), GOOD, plugin_dir) == 0
    assert report_lines(capsys.readouterr().out) == [
        f"header {PLUGIN} DUNNO",  # the Received: header filterd adds
        f"header {PLUGIN} DUNNO",
        f"header {PLUGIN} DUNNO",
        f"end_of_message {PLUGIN} DUNNO; add header X-Checked: default-tag",
        "result: accept",
    ]


def test_accepted_message_is_printed_as_it_would_leave(plugin_dir, capsys):
    check(write_conf(plugin_dir), GOOD, plugin_dir)
    message = capsys.readouterr().out.split("\n\n", 1)[1]
    assert message.startswith("Received: from localhost")
    assert "by mx.example.com (filterd)" in message
    assert "for <rcpt@example.net>" in message
    assert message.endswith("From: a@example.org\nSubject: hello\nX-Checked: default-tag\n\nbody line\n")


def test_rejected_message_exits_3_and_stops_the_chain(plugin_dir, capsys):
    assert check(write_conf(plugin_dir), SPAM, plugin_dir) == 3
    out = capsys.readouterr().out
    assert report_lines(out)[-2:] == [
        f"header {PLUGIN} REJECT 550 5.7.1 subject contains spam",
        "result: reject 550 5.7.1 subject contains spam",
    ]
    assert "end_of_message" not in out
    assert "X-Checked" not in out


def test_plugin_parameters_from_main_cf_reach_configure(plugin_dir, capsys):
    conf = write_conf(plugin_dir, "checkplug_tag = from-main-cf", "checkplug_reject_word = hello")
    assert check(conf, SPAM, plugin_dir) == 0
    assert check(conf, GOOD, plugin_dir) == 3
    out = capsys.readouterr().out
    assert "X-Checked: from-main-cf" in out
    assert "result: reject 550 5.7.1 subject contains hello" in out


def test_plugin_parameter_can_use_dollar_expansion(plugin_dir, capsys):
    conf = write_conf(plugin_dir, "checkplug_tag = checked by $myhostname")
    check(conf, GOOD, plugin_dir)
    assert "X-Checked: checked by mx.example.com" in capsys.readouterr().out


def test_misspelt_parameter_fails_naming_file_line_and_suggestion(plugin_dir, capsys):
    conf = write_conf(plugin_dir, "checkplug_tga = x")
    assert check(conf, GOOD, plugin_dir) == 1
    err = capsys.readouterr().err
    assert f"{conf}:3:" in err
    assert 'unknown parameter "checkplug_tga"' in err
    assert 'did you mean "checkplug_tag"' in err


def test_an_undeclared_change_shows_as_a_plugin_error(plugin_dir, capsys):
    assert check(write_conf(plugin_dir, "checkplug_changes = prepend"), GOOD, plugin_dir) == 3
    assert report_lines(capsys.readouterr().out)[-2:] == [
        f"end_of_message {PLUGIN} error (undeclared change: add_header (the changes hook declares prepend)) "
        "-> DEFER 451 4.7.1 Service unavailable - try again later",
        "result: defer 451 4.7.1 Service unavailable - try again later",
    ]
    assert check(write_conf(plugin_dir, "checkplug_changes = add_header"), GOOD, plugin_dir) == 0


def test_a_misspelt_change_fails_at_start_up_naming_the_plugin(plugin_dir, capsys):
    assert check(write_conf(plugin_dir, "checkplug_changes = add_heder"), GOOD, plugin_dir) == 1
    assert (f"filterd: fatal: plugin {PLUGIN}: the changes hook declares an unknown change 'add_heder' "
            "(did you mean add_header?)") in capsys.readouterr().err


def test_misspelt_core_parameter_is_an_error(plugin_dir, capsys):
    conf = write_conf(plugin_dir, "# a comment", "mesage_size_limit = 1000")
    assert check(conf, GOOD, plugin_dir) == 1
    err = capsys.readouterr().err
    assert f"{conf}:4:" in err
    assert 'did you mean "message_size_limit"' in err


def test_unknown_plugin_fails_with_a_clear_message(tmp_path, capsys):
    conf = tmp_path / "main.cf"
    conf.write_text("filterd_plugins = no_such_filterd_plugin\n")
    assert check(conf, GOOD, tmp_path) == 1
    captured = capsys.readouterr()
    assert captured.out == ""
    assert captured.err == (f'filterd: fatal: {conf}:1: filterd_plugins: plugin "no_such_filterd_plugin" not found; '
                            f"looked in the filterd entry points, {tmp_path}/plugins (no such directory) and sys.path\n")


def test_config_directory_is_accepted(plugin_dir, capsys):
    write_conf(plugin_dir)
    assert check(plugin_dir, GOOD, plugin_dir) == 0
    assert "result: accept" in capsys.readouterr().out


def test_message_from_standard_input(plugin_dir, capsys, monkeypatch):
    conf = write_conf(plugin_dir)
    monkeypatch.setattr(sys, "stdin", io.TextIOWrapper(io.BytesIO(SPAM)))
    assert main(["check", "-c", str(conf), "-"]) == 3
    assert "result: reject" in capsys.readouterr().out


def test_reject_is_logged_in_postfix_format(plugin_dir, capsys):
    check(write_conf(plugin_dir), SPAM, plugin_dir)
    err = capsys.readouterr().err
    assert "filterd/cleanup[" in err or "filterd/check[" in err
    assert "reject: header Subject: buy spam now from localhost[127.0.0.1]; from=<sender@example.org>" in err
