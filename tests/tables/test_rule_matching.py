"""The combined fast path gives exactly the per-rule answers, on generated tables and keys."""

from __future__ import annotations

from hypothesis import given, settings
from hypothesis import strategies as st

from filterd.tables import pcre, regexp
from filterd.tables.pattern_table import PatternTable
from tests.tables import strategies as gen

ENGINES = {"regexp": regexp, "pcre": pcre}


@settings(max_examples=300, deadline=None)
@given(data=st.data(), kind=st.sampled_from(sorted(ENGINES)))
def test_fast_path_equals_rule_by_rule(data, kind):
    text = data.draw(gen.pattern_tables(kind)).encode()
    table = PatternTable(f"{kind}:t", "t", text, ENGINES[kind])
    for key in data.draw(gen.keys()):
        raw = key.encode()
        assert table.lookup_bytes(raw) == table.lookup_slow(raw), (text, key)


@settings(max_examples=200, deadline=None)
@given(data=st.data(), kind=st.sampled_from(sorted(ENGINES)))
def test_fast_path_on_long_runs_of_plain_rules(data, kind):
    rules = data.draw(st.lists(gen.match_line(kind), min_size=2, max_size=12))
    text = ("\n".join(r for r in rules if not r.startswith("!")) + "\n").encode()
    table = PatternTable(f"{kind}:t", "t", text, ENGINES[kind])
    for key in data.draw(gen.keys()):
        assert table.lookup_bytes(key.encode()) == table.lookup_slow(key.encode()), (text, key)
