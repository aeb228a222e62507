"""postconf -e/-X/-# fuzzed (hypothesis): main.cf edited then parsed holds exactly what was asked, and every
other entry as it was."""

from __future__ import annotations

from hypothesis import assume, given, strategies as st

from filterd.config import ConfigError, parse_main_cf
from filterd.postconf.maincf_edit import COMMENT_OUT, REMOVE, SET, EditError, edit_main_cf, parse_requests
from tests.fixtures.fuzzing import budget

NAMES = ["a", "b", "ab", "c_d"]
LINES = st.lists(st.one_of(
    st.tuples(st.sampled_from(NAMES), st.sampled_from(["", " ", "\t"]), st.sampled_from(["=", " = ", "= "]),
              st.sampled_from(["", "v", "v w", "$a", "x=y", "# not a comment"])).map("".join),
    st.sampled_from(["", "# comment", "  # indented comment", " continued", "\tcontinued", "   ", "\r", "\x0b x",
                     "\x1cz = 1", "\xa0a = 1"])), max_size=10).map(
    lambda lines: "\n".join(["first = 1", *lines]) + "\n")
VALUES = st.sampled_from(["", "v", "new value", "$b", "a = b", " padded ", "x\ty"])


def others(entries: list, name: str) -> list:
    return [(n, v) for n, v, _ in entries if n != name]


@given(LINES, st.sampled_from(NAMES), VALUES)
@budget(300)
def test_set_then_parse_gives_the_value_and_keeps_the_rest(text, name, value):
    try:
        before = parse_main_cf(text, "main.cf")
    except ConfigError:
        assume(False)
    try:
        requests, _ = parse_requests(SET, [f"{name} = {value}"])
    except EditError:
        return
    after = parse_main_cf(edit_main_cf(text, SET, requests)[0], "main.cf")
    assert [v for n, v, _ in after if n == name][-1] == value.strip()
    assert others(after, name) == others(before, name)


@given(LINES, st.sampled_from(NAMES), st.sampled_from([REMOVE, COMMENT_OUT]))
@budget(300)
def test_remove_or_comment_out_then_parse_leaves_no_entry_and_keeps_the_rest(text, name, mode):
    try:
        before = parse_main_cf(text, "main.cf")
    except ConfigError:
        assume(False)
    after = parse_main_cf(edit_main_cf(text, mode, parse_requests(mode, [name])[0])[0], "main.cf")
    assert [n for n, _, _ in after if n == name] == []
    assert others(after, name) == others(before, name)
