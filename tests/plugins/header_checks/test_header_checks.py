"""The header_checks plugin on messages in memory (filterd.testing.run_plugin): actions, tables, log lines."""

from __future__ import annotations

import logging
from pathlib import Path

import pytest

from filterd import Action, Envelope, Header
from filterd.config import ConfigError
from filterd.plugins import header_checks
from filterd.testing import load_plugins, run_plugin
from tests.plugins.header_checks.corpus import pcre_settings

MESSAGE = "From: a@example.org\nTo: b@example.net\nSubject: {subject}\n{headers}\n{body}"
ENVELOPE_TAIL = "from=<sender@example.org> to=<recipient@example.net> proto=ESMTP helo=<localhost>"


class Lines(logging.Handler):
    """filterd's log messages without their queue id (warnings have none)."""

    def __init__(self):
        super().__init__()
        self.lines: list[str] = []

    def emit(self, record):
        text = record.getMessage()
        queue_id, _, rest = text.partition(": ")
        self.lines.append(text if text.startswith("warning: ") else rest)


@pytest.fixture
def log():
    handler = Lines()
    logger = logging.getLogger("filterd")
    logger.addHandler(handler)
    old_level = logger.level
    logger.setLevel(logging.INFO)
    yield handler.lines
    logger.removeHandler(handler)
    logger.setLevel(old_level)


@pytest.fixture
def tables(tmp_path):
    """tables(header_checks="...", body_checks="...") -> main.cf settings naming pcre tables with those rules."""
    return lambda **rules: pcre_settings(tmp_path, rules)


def message(subject: str = "hello", headers: str = "", body: str = "body\n") -> bytes:
    return MESSAGE.format(subject=subject, headers=headers, body=body).replace("\n", "\r\n").encode()


def run(settings: dict[str, str], data: bytes, **envelope):
    return run_plugin(header_checks, message=data, settings=settings, **envelope)


def test_reject_replies_and_logs_as_cleanup(tables, log):
    outcome = run(tables(header_checks="/^Subject: spam/ REJECT go away\n"), message("spam here"))
    assert outcome.action is Action.REJECT
    assert outcome.verdict.reply() == (550, "5.7.1", "go away")
    assert log == [f"reject: header Subject: spam here from localhost[127.0.0.1]; {ENVELOPE_TAIL}: 5.7.1 go away"]


@pytest.mark.parametrize("result, reply", [
    ("REJECT", (550, "5.7.1", "message content rejected")),
    ("REJECT 4.7.1 later", (451, "4.7.1", "later")),
    ("reject 5.7.2 lower case", (550, "5.7.2", "lower case")),
    ("REJECT 550 5.7.0 code", (550, "5.7.1", "550 5.7.0 code")),
])
def test_reject_texts_as_postfix_makes_them(tables, result, reply):
    outcome = run(tables(header_checks=f"/^Subject: x/ {result}\n"), message("x"))
    assert outcome.verdict.reply() == reply


def test_a_success_status_in_reject_becomes_a_deferral_with_a_warning(tables, log):
    outcome = run(tables(header_checks="/^Subject: x/ REJECT 2.0.0 fine\n"), message("x"))
    assert outcome.action is Action.DEFER and outcome.verdict.reply() == (451, "4.0.0", "fine")
    assert log[0] == "warning: bad DSN action in 2.0.0 fine -- need 4.x.x or 5.x.x"


def test_warn_info_and_hold_without_text_log_no_text(tables, log):
    rules = "/^Subject: w/ WARN\n/^X-Info:/ INFO noted\n/^X-Hold:/ HOLD\n/^X-Hold2:/ HOLD again\n"
    outcome = run(tables(header_checks=rules), message("w", "X-Info: 1\nX-Hold: 1\nX-Hold2: 1\n"))
    assert outcome.action is Action.HOLD
    assert log == [f"warning: header Subject: w from localhost[127.0.0.1]; {ENVELOPE_TAIL}",
                   f"info: header X-Info: 1 from localhost[127.0.0.1]; {ENVELOPE_TAIL}: noted",
                   f"hold: header X-Hold: 1 from localhost[127.0.0.1]; {ENVELOPE_TAIL}"]


def test_header_edits(tables, log):
    rules = ("/^X-A: (.*)/ PREPEND X-Before: $1\n/^X-B:/ REPLACE X-New: b\n/^X-C:/ IGNORE\n"
             "/^X-D:/ STRIP gone\n")
    outcome = run(tables(header_checks=rules), message("e", "X-A: a\nX-B: old\n more\nX-C: c\nX-D: d\nX-E: e\n"))
    assert outcome.accepted
    names = [h.text for h in outcome.message.headers]
    assert names[-4:] == ["X-Before: a", "X-A: a", "X-New: b", "X-E: e"]
    assert [line.split(":")[0] for line in log] == ["prepend", "replace", "strip"]


@pytest.mark.parametrize("result, warning", [
    ("FROBNICATE x", "unknown command in header_checks map: FROBNICATE x"),
    ("PREPEND no header", 'bad PREPEND header text "no header" in header_checks map -- need "headername: headervalue"'),
    ("REPLACE", "REPLACE action without text in header_checks map"),
    ("REDIRECT nobody", 'bad REDIRECT target "nobody" in header_checks map -- need user@domain'),
    ("BCC nobody", 'bad BCC address "nobody" in header_checks map -- need user@domain'),
    ("FILTER smtp", "bad FILTER command smtp in header_checks -- need transport:destination"),
    ("FILTER", "missing FILTER command argument in header_checks map"),
])
def test_malformed_actions_are_warned_about_and_change_nothing(tables, log, result, warning):
    outcome = run(tables(header_checks=f"/^Subject: x/ {result}\n"), message("x"))
    assert outcome.accepted and outcome.redirect is None and not outcome.bcc and outcome.filter is None
    assert [h.text for h in outcome.message.headers][-1] == "Subject: x"
    assert log == [f"warning: {warning}"]


def test_routing_actions(tables):
    rules = "/^X-R:/ REDIRECT r@example.net\n/^X-B: (.*)/ BCC $1\n/^X-F:/ FILTER smtp:[127.0.0.1]:10099\n"
    outcome = run(tables(header_checks=rules), message("x", "X-B: c@example.net\nX-F: 1\nX-R: 1\n"))
    assert (outcome.redirect, outcome.bcc, outcome.filter) == ("r@example.net", ["c@example.net"],
                                                                "smtp:[127.0.0.1]:10099")


def test_redirect_pass_and_discard_end_inspection(tables, log):
    rules = "/^Subject: redirect/ REDIRECT r@example.net\n/^Subject: pass/ PASS ok\n/^X-Warn:/ WARN late\n"
    body = "/^bad/ REJECT\n"
    for subject in ("redirect", "pass"):
        log.clear()
        outcome = run(tables(header_checks=rules, body_checks=body), message(subject, "X-Warn: 1\n", "bad\n"))
        assert outcome.accepted and len(log) == 1


def test_mime_and_nested_header_checks_default_to_header_checks(tables):
    rules = "/^X-Secret:/ IGNORE\n"
    data = message("x", "MIME-Version: 1.0\nContent-Type: multipart/mixed; boundary=b\n",
                   "--b\nX-Secret: part\nContent-Type: message/rfc822\n\nX-Secret: nested\n\nbody\n--b--\n")
    outcome = run(tables(header_checks=rules), data)
    assert b"X-Secret" not in outcome.message.as_bytes()


def test_each_class_uses_its_own_table_when_set(tables, log):
    data = message("x", "X-Where: primary\nMIME-Version: 1.0\nContent-Type: multipart/mixed; boundary=b\n",
                   "--b\nX-Where: part\nContent-Type: message/rfc822\n\nX-Where: nested\n\nbody\n--b--\n")
    settings = tables(header_checks="/^X-Where: (.*)/ INFO h $1\n", mime_header_checks="/^X-Where: (.*)/ INFO m $1\n",
                      nested_header_checks="/^X-Where: (.*)/ INFO n $1\n")
    run(settings, data)
    assert [line.rsplit(": ", 1)[1] for line in log] == ["h primary", "m part", "n nested"]


def test_folded_part_headers_are_edited_on_all_their_lines(tables):
    rules = "/^X-Ignore:/ IGNORE\n/^X-Replace:/ REPLACE X-Replaced: yes\n/^X-Prepend:/ PREPEND X-Added: 1\n"
    data = message("x", "MIME-Version: 1.0\nContent-Type: multipart/mixed; boundary=b\n",
                   "--b\nX-Ignore: 1\n 2\nX-Replace: 1\n\t2\n 3\nX-Prepend: p\n\nbody\n--b--\n")
    outcome = run(tables(mime_header_checks=rules), data)
    assert outcome.message.body_bytes() == (b"--b\r\nX-Replaced: yes\r\nX-Added: 1\r\nX-Prepend: p\r\n\r\n"
                                            b"body\r\n--b--\r\n")


def test_body_line_edits_and_log_words(tables, log):
    rules = "/^r (.*)/ REPLACE new $1\n/^i/ IGNORE\n/^p/ PREPEND before\n/^s/ STRIP\n"
    outcome = run(tables(body_checks=rules), message(body="keep\nr old\ni\np\ns\nend\n"))
    assert outcome.message.body_bytes() == b"keep\r\nnew old\r\nbefore\r\np\r\nend\r\n"
    assert [line.split(" from ")[0] for line in log] == ["replace: body r old", "prepend: body p", "strip: body s"]


def test_long_lines_are_inspected_in_line_length_limit_pieces(tables, log):
    line = "a" * 2044 + "needle" + "b" * 3000 + "\n"
    outcome = run(tables(body_checks="/needle/ WARN whole\n/^le(b+)$/ WARN piece\n/^b+$/ WARN last\n"),
                  message(body=line))
    assert outcome.accepted
    assert [entry.rsplit(": ", 1)[1] for entry in log] == ["piece", "last"]


def test_body_checks_size_limit_counts_each_segment(tables, log):
    filler = "x" * 99 + "\n"
    body = (f"--b\n\n{filler * 11}late\n--b\n\n{filler * 5}early\n--b--\n")
    data = message("x", "MIME-Version: 1.0\nContent-Type: multipart/mixed; boundary=b\n", body)
    run({**tables(body_checks="/^(late|early)$/ WARN $1\n"), "body_checks_size_limit": "1000"}, data)
    assert [line.rsplit(": ", 1)[1] for line in log] == ["early"]


def test_nesting_beyond_the_limit_rejects_at_the_end(tables, log):
    body = "".join(f"--d{i}\nContent-Type: multipart/mixed; boundary=d{i + 1}\n\n" for i in range(5))
    data = message("x", "Content-Type: multipart/mixed; boundary=d0\n", body)
    outcome = run({**tables(header_checks="/^X-None:/ WARN\n"), "mime_nesting_limit": "2"}, data)
    assert outcome.verdict.reply() == (550, "5.6.0", "MIME nesting exceeds safety limit")
    assert log == ["reject: mime-error MIME nesting exceeds safety limit: Content-Type: multipart/mixed; "
                   "boundary=d4 from localhost[127.0.0.1]; from=<sender@example.org> to=<recipient@example.net>"]


def test_several_tables_in_one_parameter_first_match_wins(tmp_path, tables):
    (tmp_path / "second.pcre").write_text("/^Subject:/ REJECT second\n")
    settings = tables(header_checks="/^Subject: ok/ DUNNO\n")
    settings["header_checks"] += f", pcre:{tmp_path / 'second.pcre'}"
    assert run(settings, message("ok")).accepted
    assert run(settings, message("other")).verdict.text == "second"


def test_a_rule_postfix_skips_is_skipped_with_its_warning_and_the_rest_is_in_force(tables, caplog):
    settings = tables(header_checks="/unclosed( REJECT\n/^Subject: x/ REJECT later rule\n")
    assert run(settings, message("x")).verdict.text == "later rule"
    path = settings["header_checks"][5:]
    warnings = [r.getMessage() for r in caplog.records if r.levelname == "WARNING"]
    assert warnings == [f'pcre map {path}, line 1: no closing regexp delimiter "/": ignoring this rule']


def test_a_table_that_cannot_be_opened_stops_start_up_naming_the_parameter(tmp_path):
    with pytest.raises(ConfigError, match=f"header_checks: open {tmp_path}/none: No such file or directory"):
        load_plugins(header_checks, settings={"header_checks": f"pcre:{tmp_path}/none"})


def test_a_changed_table_is_used_without_a_restart(tables, monkeypatch):
    from filterd.tables import reloading
    monkeypatch.setattr(reloading, "CHECK_INTERVAL", 0)
    settings = tables(header_checks="/^Subject: x/ REJECT old\n")
    plugins = load_plugins(header_checks, settings=settings)
    Path(settings["header_checks"][5:]).write_text("/^Subject: x/ REJECT new rule\n")
    assert run(settings, message("x")).verdict.text == "new rule"
    del plugins


def test_interleaved_messages_keep_their_own_mime_state(tables):
    plugins = load_plugins(header_checks, settings=tables(mime_header_checks="/^X-P:/ WARN part\n"))
    checks = plugins.settings[header_checks.__name__]
    first, second = Envelope(), Envelope()
    header_checks.header(first, Header.make("Content-Type", "multipart/mixed; boundary=b"), checks)
    header_checks.header(second, Header.make("Subject", "plain"), checks)
    for envelope in (first, second):
        header_checks.end_of_headers(envelope, checks)

    class Body:
        body_size = 0

    def line(envelope, text):
        Body.body_size += len(text) + 2
        return header_checks.body(envelope, Body, text, checks)

    assert line(first, b"--b") is None and line(second, b"--b") is None
    assert line(first, b"X-P: 1") is None and line(second, b"X-P: 1") is None
    assert line(first, b"").action is Action.WARN
    assert line(second, b"") is None


def test_keys_end_at_a_nul_and_need_not_be_utf8_as_in_cleanup(tables, log):
    rules = "/def/ WARN after the nul\n/^abc$/ WARN before the nul\n/^caf\\xe9$/ WARN latin-1\n"
    run(tables(body_checks=rules), b"Subject: x\r\n\r\nabc\0def\r\n\0def\r\ncaf\xe9\r\n")
    assert [line.rsplit(": ", 1)[1] for line in log] == ["before the nul", "latin-1"]
