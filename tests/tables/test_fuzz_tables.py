"""The table parsers fuzzed (hypothesis): regexp, pcre, cidr and texthash files, inline and static specs and
`{ {rule}, ... }` names, built from valid tables with junk spliced in or from any bytes. Opening gives a table
or TableError (strict) and never raises otherwise (postmap's non-strict mode); a lookup of any key gives a
string or None."""

from __future__ import annotations

from hypothesis import given, strategies as st

from filterd.tables import TableError, open_table, split_specs
from filterd.tables.postmap import query
from tests.fixtures.fuzzing import budget
from tests.tables import strategies as gen

JUNK = st.lists(st.sampled_from(["\\", "{", "}", "$", "(", ")", "[", "]", "!", "/", "\n", " ", "\t", "if ", "endif",
                                 "$1", "${9}", "$(", "\0", "\udcff", "é", "*", "+", "?", "|", "#", ":", "=", ",",
                                 "/", "::", ".", "/33", "1.2.3.4", "(?", "\\1", "{1,", "\\Q", "(*", "\\p{"]),
                    max_size=6).map("".join)
TEXTS = {"regexp": gen.pattern_tables("regexp"), "pcre": gen.pattern_tables("pcre"), "cidr": gen.cidr_tables(),
         "texthash": gen.texthash_tables()}
KEYS = st.lists(st.one_of(st.text(gen.ALPHABET + "\udcff\0é", max_size=8), st.sampled_from(
    ["10.0.0.1", "2001:db8::1", "::ffff:1.2.3.4", "[10.0.0.1]", ""])), min_size=1, max_size=5)


@st.composite
def damaged(draw, text: str) -> str:
    """The text with junk spliced in somewhere."""
    at = draw(st.integers(0, len(text)))
    cut = draw(st.integers(0, 3))
    return text[:at] + draw(JUNK) + text[at + cut:]


def check_table(spec: str, strict: bool, keys: list[str]) -> None:
    """Open: a table or TableError; look up: str or None."""
    try:
        table = open_table(spec, strict=strict)
    except TableError as exc:
        assert strict or not spec.startswith(tuple(f"{kind}:/" for kind in TEXTS)) or "open" in exc.message, exc
        return
    for key in keys:
        value = table.lookup(key)
        assert value is None or isinstance(value, str)
        assert query([table], key.encode("utf-8", "surrogateescape")) == (
            None if value is None else value.encode("utf-8", "surrogateescape"))


@given(st.sampled_from(sorted(TEXTS)), st.data(), st.booleans(), KEYS)
@budget(80)
def test_a_damaged_table_file_opens_or_is_refused(tmp_path_factory, kind, data, strict, keys):
    text = data.draw(damaged(data.draw(TEXTS[kind])))
    path = tmp_path_factory.mktemp("t") / "table"
    path.write_bytes(text.encode("utf-8", "surrogateescape"))
    check_table(f"{kind}:{path}", strict, keys)


@given(st.sampled_from(sorted(TEXTS)), st.binary(max_size=120), st.booleans(), KEYS)
@budget(100)
def test_any_bytes_as_a_table_file(tmp_path_factory, kind, text, strict, keys):
    path = tmp_path_factory.mktemp("t") / "table"
    path.write_bytes(text)
    check_table(f"{kind}:{path}", strict, keys)


@given(st.sampled_from(["inline:", "static:", "regexp:", "pcre:", "cidr:", "texthash:", "nonesuch:", ""]),
       st.lists(st.sampled_from(["{", "}", " ", ",", "k=v", "=", "{ a = b c }", "/a/ x", "{/a/ x}", "!", "junk",
                                 "1.2.3.4 r", "\n", "\udcff"]), max_size=8).map("".join), st.booleans(), KEYS)
@budget(200)
def test_any_inline_spec_opens_or_is_refused(kind, name, strict, keys):
    check_table(kind + name, strict, keys)


@given(st.text(st.sampled_from("{}, \t\nab:"), max_size=30))
@budget(200)
def test_any_parameter_value_splits_into_specs_that_split_again_the_same(value):
    specs = split_specs(value)
    assert all(spec and spec in value for spec in specs)
    assert split_specs(", ".join(specs)) == specs
