"""regexp: and pcre: tables: rules, flags, if/endif, substitutions, strict and Postfix-lenient opening."""

from __future__ import annotations

from pathlib import Path

import pytest

from filterd.tables import TableError, open_table, open_tables
from filterd.tables import pcre, regexp
from filterd.tables.pattern_table import PatternTable
from filterd.tables.rule_matching import CombinedRun

KINDS = {"regexp": regexp, "pcre": pcre}


def table(kind: str, text: str) -> PatternTable:
    return PatternTable(f"{kind}:t", "t", text.encode(), KINDS[kind])


@pytest.mark.parametrize("kind", KINDS)
def test_first_match_wins_with_substitution_and_default_case_insensitivity(kind):
    t = table(kind, "/^subject: (.*)/ REJECT $1\n/^SUBJECT/ second\n")
    assert t.lookup("Subject: Cheap pills") == "REJECT Cheap pills"
    assert t.lookup("From: x") is None


@pytest.mark.parametrize("kind", KINDS)
def test_negation_and_nested_if(kind):
    t = table(kind, "if /^a/\nif !/c$/\n/./ a-not-c\nendif\n/b/ a-and-b\nendif\n!/^z/ not-z\n")
    assert [t.lookup(k) for k in ("ab", "abc", "ac", "x", "z")] == ["a-not-c", "a-and-b", "not-z", "not-z", None]


@pytest.mark.parametrize("kind", KINDS)
def test_any_delimiter_and_the_i_flag(kind):
    t = table(kind, "|a\\|b|i exact\n~A|B~ folded\n")
    assert t.lookup("a|b") == "exact"
    assert t.lookup("A|B") == "folded"


def test_pcre_flags_defaults_dotall_on_and_anchored_dollar_endonly_ungreedy():
    t = table("pcre", "/a.c/s no-dotall\n/a.c/ dotall\n/bc/A anchored\n/^(x.*)z/U [$1]\n/q$/E endonly\n")
    assert t.lookup("a\nc") == "dotall" and t.lookup("bcd") == "anchored"
    assert t.lookup("xbc") is None
    assert t.lookup("xyzz") == "[xy]"
    assert t.lookup("q\n") is None and t.lookup("q") == "endonly"


def test_regexp_is_posix_leftmost_longest_and_second_pattern():
    t = table("regexp", "/(a|ab)(c|bcd)(d*)/ [$1][$2][$3]\n/^x/!/y$/ x-not-y\n")
    assert t.lookup("abcd") == "[a][bcd][]"
    assert t.lookup("xz") == "x-not-y" and t.lookup("xy") is None


@pytest.mark.parametrize("kind, text, message", [
    ("regexp", "/a/q x\n", 'unknown regexp option "q"'),
    ("pcre", "/a(/ x\n", "error in regex at offset 2: missing closing parenthesis in /a(/"),
    ("regexp", "if /a/\n/b/ c\n", "IF has no matching ENDIF"),
    ("pcre", "/a/ x\nendif\n", "ignoring ENDIF without matching IF"),
    ("regexp", "/(a)/ $2\n", 'out of range replacement index "2"'),
])
def test_strict_open_refuses_what_postfix_warns_about(tmp_path: Path, kind, text, message):
    path = tmp_path / "t"
    path.write_text(text)
    with pytest.raises(TableError) as caught:
        open_table(f"{kind}:{path}", strict=True)
    assert str(caught.value).startswith(f"{path}:")
    assert caught.value.message == message


def test_a_table_opens_as_postfix_opens_it_skipping_bad_rules_with_its_warning(tmp_path: Path, caplog):
    path = tmp_path / "t"
    path.write_text("/a/q bad\n/a/ good\n")
    assert open_table(f"regexp:{path}").lookup("a") == "good"
    assert f'regexp map {path}, line 1: unknown regexp option "q": skipping this rule' in caplog.text
    assert [r.levelname for r in caplog.records] == ["WARNING"]


def test_a_table_named_twice_is_read_once_so_its_warnings_are_logged_once(tmp_path: Path, caplog):
    path = tmp_path / "t"
    path.write_text("/a/q bad\n/a/ good\n")
    first = open_table(f"regexp:{path}")
    assert open_table(f"regexp:{path}") is first
    assert caplog.text.count("skipping this rule") == 1


def test_unknown_type_and_missing_file_are_errors(tmp_path: Path):
    with pytest.raises(TableError, match="unsupported dictionary type: hash"):
        open_table("hash:/etc/aliases")
    with pytest.raises(TableError, match="No such file or directory"):
        open_table(f"pcre:{tmp_path}/none")


def test_open_tables_takes_a_parameter_value(tmp_path: Path):
    (tmp_path / "a").write_text("/x/ A\n")
    tables = open_tables(f"pcre:{tmp_path}/a, regexp:{{ {{/y/ B}} }}")
    assert [t.lookup("xy") for t in tables] == ["A", "B"]


def test_non_utf8_keys_are_refused_with_postfix_warning(caplog):
    t = table("pcre", "/./ any\n")
    assert t.lookup(b"caf\xe9".decode("utf-8", "surrogateescape")) is None
    assert 'non-UTF-8 key "caf?": malformed UTF-8 or invalid codepoint' in caplog.text
    assert t.lookup("café") == "any"


@pytest.mark.parametrize("kind", KINDS)
def test_a_hundred_rules_cost_one_evaluation_per_key_that_matches_none(kind):
    t = table(kind, "".join(f"/^Subject:.*spam{i}x/ REJECT {i}\n" for i in range(100)))
    assert len(t.steps) == 1 and isinstance(t.steps[0], CombinedRun)
    assert t.lookup("Subject: nothing here") is None
    assert t.lookup("Subject: spam42x and spam7x") == "REJECT 7"
