"""`filterd check` shows every symbol with the plugin that added it, the score, and an observed plugin's refusal
as the reject_warning it is (not enforced)."""

from __future__ import annotations

import pytest

from filterd.cli import main

SENDER_PLUGIN = '''
from filterd import Verdict, hookimpl


@hookimpl
def mail_from(sender):
    return Verdict.symbol("SENDER_UNKNOWN", 2.5, "no such domain")
'''
NEW_FILTER = '''
from filterd import Verdict, hookimpl


@hookimpl
def end_of_message():
    return Verdict.reject("5.7.1 looks bad").with_symbol("NEW_FILTER", 7)
'''

pytestmark = pytest.mark.usefixtures("restore_filterd_logger")


@pytest.fixture
def config(tmp_path):
    plugins = tmp_path / "plugins"
    plugins.mkdir()
    (plugins / "senders.py").write_text(SENDER_PLUGIN)
    (plugins / "newfilter.py").write_text(NEW_FILTER)
    (tmp_path / "main.cf").write_text(
        "myhostname = mx.example.com\nfilterd_plugins = senders, newfilter\nfilterd_observe_plugins = newfilter\n"
        "filterd_score_add_header = 2\n")
    (tmp_path / "message.eml").write_bytes(b"From: a@example.org\nSubject: hi\n\nbody\n")
    return tmp_path


def test_check_shows_each_symbol_who_added_it_and_the_score(config, capsys):
    assert main(["check", "-c", str(config), str(config / "message.eml")]) == 0
    report, message = capsys.readouterr().out.split("\n\n", 1)
    lines = [" ".join(line.split()) for line in report.splitlines()]
    assert lines == [
        "mail_from senders DUNNO; symbol SENDER_UNKNOWN(2.5)",
        "end_of_message newfilter REJECT 550 5.7.1 looks bad; symbol NEW_FILTER(7) (observed: reject_warning, not "
        "enforced)",
        "symbol SENDER_UNKNOWN 2.5 from senders at mail_from: no such domain",
        "symbol NEW_FILTER 7 from newfilter at end_of_message, observed: not counted",
        "score: 2.5",
        "result: accept",
    ]
    assert ("X-Filterd-Score: add_header [2.5 / 15]; SENDER_UNKNOWN(2.5)[senders], NEW_FILTER(7)[newfilter, observed]"
            "\nX-Spam: Yes\n") in message
