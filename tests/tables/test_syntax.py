"""Table syntax shared by the types: logical lines, result templates, `type:name` lists."""

from __future__ import annotations

import pytest

from filterd.tables.logical_lines import logical_lines
from filterd.tables.notices import Notices, TableError
from filterd.tables.specs import braced_items, split_specs
from filterd.tables.template import parse_template


def lines(data: bytes) -> tuple[list, Notices]:
    notices = Notices()
    return list(logical_lines(data, "t", notices)), notices


def test_continuation_lines_join_without_the_newline_and_skip_comments_inside():
    found, notices = lines(b"/x/\n  one\n# c\n\n  two   \n/y/ z\n")
    assert found == [(1, b"/x/  one  two"), (6, b"/y/ z")]
    assert not notices


def test_a_first_line_with_leading_whitespace_is_skipped_with_postfix_warning():
    found, notices = lines(b" /a/ b\n/c/ d\n")
    assert found == [(2, b"/c/ d")]
    assert notices[0].text == 't: logical line must not start with whitespace: " /a/ b"'
    assert notices[0].lineno == 1


@pytest.mark.parametrize("text, groups, expected", [
    (b"plain $$ text", {}, b"plain $ text"),
    (b"[$1][${2}][$(1)]", {1: b"a", 2: b"b"}, b"[a][b][a]"),
    (b"<$2>", {1: b"a", 2: None}, b"<>"),
])
def test_templates_substitute_groups(text, groups, expected):
    template = parse_template(text, "w", 1, Notices())
    assert template.expand(groups.get) == expected
    assert template.max_sub == max(groups, default=0)


@pytest.mark.parametrize("text, warning", [
    (b"a$", 'empty macro name: "a$"'),
    (b"${1", 'truncated macro reference: "${1"'),
    (b"$x", 'w: non-numeric replacement index "x"'),
    (b"$0", 'w: out-of-range replacement index "0"'),
])
def test_bad_templates_are_skipped_with_postfix_warnings(text, warning):
    notices = Notices()
    assert parse_template(text, "w", 3, notices) is None
    assert [n.text for n in notices] == [warning, "w: bad replacement syntax: skipping this rule"]
    assert all(n.lineno == 3 for n in notices)


def test_list_values_split_outside_braces():
    assert split_specs("pcre:/a, regexp:/b inline:{ a=1, { b = c d } }") == [
        "pcre:/a", "regexp:/b", "inline:{ a=1, { b = c d } }"]


def test_braced_items_strip_each_brace_pair():
    assert braced_items("s", "{ a=1, { b = c d }, {/x/ y} }") == ["a=1", "b = c d", "/x/ y"]
    with pytest.raises(TableError, match="syntax error after '}'"):
        braced_items("s", "{ a } junk")


def test_table_error_names_file_and_line():
    assert str(TableError("/etc/t", 7, "bad")) == "/etc/t:7: bad"
    assert str(TableError("/etc/t", None, "bad")) == "/etc/t: bad"
