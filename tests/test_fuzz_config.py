"""main.cf parsing and $name expansion fuzzed (hypothesis): any text parses into entries or a ConfigError, any
entries make a Config whose every value reads as its kind or a ConfigError, and nothing else comes out."""

from __future__ import annotations

from hypothesis import given, strategies as st

from filterd.config import Config, ConfigError, Parameter, parse_main_cf
from filterd.parameters import CORE_PARAMETERS, validate_values
from tests.fixtures.fuzzing import budget

KNOWN = {name: Parameter(name, default, kind) for name, default, kind in [
    ("a", "$b", "str"), ("b", "x", "str"), ("c", "", "str"), ("n", "10", "int"), ("t", "5s", "time"),
    ("z", "100", "size"), ("y", "yes", "bool"), ("l", "$a, $b", "list")]}
PIECES = ["a", "b", "c", "n", "t", "z", "y", "l", "nonesuch", "$", "$$", "${", "$(", "}", ")", "{", "?", ":", "=",
          "==", "!=", "<", ">=", " ", "\t", "\n", "\n ", "\n#", "#", ",", "9", "99999999999999999999", "-1", "s",
          "w", "x", "yes", "\r", "\x0b", "\x1c", "\xa0", "\udcff"]
TEXT = st.lists(st.sampled_from(PIECES), max_size=25).map("".join)
VALUE = st.lists(st.sampled_from([p for p in PIECES if "\n" not in p]), max_size=12).map("".join)


def check_config(entries: list, known: dict) -> None:
    """A Config or ConfigError; then every known value of its kind, or ConfigError."""
    try:
        config = Config(entries, known)
    except ConfigError:
        return
    for name, parameter in known.items():
        try:
            value = getattr(config, parameter.kind)(name) if parameter.kind != "str" else config.get(name)
        except ConfigError:
            continue
        assert isinstance(value, {"str": str, "int": int, "time": float, "size": int, "bool": bool,
                                  "list": list}[parameter.kind])


@given(TEXT)
@budget(300)
def test_any_main_cf_text_parses_or_is_refused(text):
    try:
        entries = parse_main_cf(text, "main.cf")
    except ConfigError as exc:
        assert exc.lineno is not None
        return
    assert all(name and "=" not in name and value == value.strip(" \t\n\v\f\r") for name, value, _ in entries)
    check_config([entry for entry in entries if entry[0] in KNOWN], KNOWN)


@given(st.lists(st.tuples(st.sampled_from(sorted(KNOWN)), VALUE), max_size=6))
@budget(400)
def test_any_values_expand_or_are_refused(values):
    check_config([(name, value, i) for i, (name, value) in enumerate(values, 1)], KNOWN)


@given(st.integers(90, 400), st.sampled_from(["${a?", "${b:", "$(", "${{$a}=={", "${"]))
@budget(30)
def test_deep_nesting_is_refused_or_expands(depth, opening):
    closing = {"${a?": "}", "${b:": "}", "$(": ")", "${{$a}=={": "}}", "${": "}"}[opening]
    check_config([("c", opening * depth + "x" + closing * depth, 1)], KNOWN)


@given(st.sampled_from(sorted(CORE_PARAMETERS)), VALUE)
@budget(300)
def test_any_value_of_a_real_parameter_loads_or_is_refused(name, value):
    try:
        validate_values(Config([(name, value, 1)], CORE_PARAMETERS))
    except ConfigError:
        pass
