"""The configuration check of tables: each rule Postfix skips is an error naming FILE:LINE, also in filterd check."""

from __future__ import annotations

from pathlib import Path

import pytest

from filterd import loading
from filterd.cli import main
from filterd.tables.problems import table_problems
from tests.tables.bad_tables import CIDR_RULES, PATTERN_RULES, TEXTHASH_ENTRIES

MESSAGE = b"From: a@example.org\r\nSubject: amarkb\r\n\r\nbody\r\n"


def write(directory: Path, *lines: str) -> Path:
    path = directory / "main.cf"
    path.write_text("\n".join(["myhostname = mx.example.com", "filterd_plugins = header_checks", *lines]) + "\n")
    return path


def problems(directory: Path, *lines: str) -> list[str]:
    return [str(problem) for problem in table_problems(loading.load(str(write(directory, *lines))).config)]


def test_each_skipped_rule_is_one_error_with_the_table_file_and_line(tmp_path):
    (tmp_path / "h.pcre").write_text(PATTERN_RULES)
    table = tmp_path / "h.pcre"
    assert problems(tmp_path, f"header_checks = pcre:{table}") == [
        f'{table}:2: bad replacement text: non-numeric replacement index "1mark"',
        f"{table}:3: error in regex at offset 2: missing closing parenthesis in /a(/",
        f'{table}:4: unknown regexp option "q"',
        f'{table}:5: no closing regexp delimiter "/"',
        f"{table}:6: $number found in negative match replacement text",
        f'{table}:7: out of range replacement index "2"',
        f"{table}:8: ignoring ENDIF without matching IF",
        f"{table}:9: ignoring unrecognized request",
        f'{table}:10: ignoring extra text after IF statement: "extra"',
        f"{table}:10: do not prepend whitespace to statements between IF and ENDIF",
        f"{table}:11: no replacement text: using empty string",
        f"{table}:12: ignoring extra text after ENDIF",
        f'{table}:13: ignoring obsolete regexp option "X"',
        f"{table}:14: no regexp",
        f'{table}:16: bad replacement text: truncated macro reference: "${{1"',
        f'{table}:17: bad replacement text: non-numeric replacement index "x"',
        f'{table}:18: bad replacement text: out of range replacement index "0"',
        f"{table}:15: IF has no matching ENDIF",
    ]


def test_every_table_parameter_and_type_is_checked_each_table_once(tmp_path):
    for name, text in (("c.cidr", CIDR_RULES), ("t.txt", TEXTHASH_ENTRIES), ("b.regexp", "/a/q x\n")):
        (tmp_path / name).write_text(text)
    found = problems(tmp_path, f"header_checks = regexp:{tmp_path}/b.regexp, regexp:{{ {{/a( x}} }}",
                     f"body_checks = regexp:{tmp_path}/b.regexp", f"transport_maps = texthash:{tmp_path}/t.txt, "
                     f"cidr:{tmp_path}/c.cidr")
    assert found[:2] == [f'{tmp_path}/b.regexp:1: unknown regexp option "q"',
                         'regexp:{ {/a( x} }:1: no closing regexp delimiter "/"']
    assert f'{tmp_path}/t.txt:2: duplicate entry: "A"' in found
    assert f'{tmp_path}/c.cidr:4: bad network value in "1.2.3/24"' in found
    assert f'{tmp_path}/c.cidr:11: missing \']\' character after "[1.2.3.4"' in found
    assert len(found) == 2 + 3 + 16


def test_a_table_that_cannot_be_opened_names_the_main_cf_line(tmp_path):
    assert problems(tmp_path, f"transport_maps = texthash:{tmp_path}/none") == [
        f"{tmp_path}/main.cf:3: transport_maps: open database {tmp_path}/none: No such file or directory"]


@pytest.mark.usefixtures("restore_filterd_logger")
def test_filterd_check_prints_each_as_an_error_then_runs_the_tables_as_the_daemon_does(tmp_path, capsys):
    (tmp_path / "h.regexp").write_text("/^Subject: (.*)mark(.*)/ REPLACE Subject: [marked] $1mark$2\n"
                                       "/^Subject: a/ REJECT the rule after\n")
    conf = write(tmp_path, f"header_checks = regexp:{tmp_path}/h.regexp")
    (tmp_path / "m.eml").write_bytes(MESSAGE)
    assert main(["check", "-c", str(conf), "-q", str(tmp_path / "m.eml")]) == 3
    captured = capsys.readouterr()
    assert "reject 550 5.7.1 the rule after" in captured.out
    errors = [line for line in captured.err.splitlines() if "1mark" in line]
    assert errors == [f'filterd: error: {tmp_path}/h.regexp:1: bad replacement text: non-numeric replacement '
                      'index "1mark"']
