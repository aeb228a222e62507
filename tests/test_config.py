"""filterd.config: main.cf parsing, $name expansion, checks at construction, typed access, loading.

Expansion results marked "Postfix 3.7" were produced by running Postfix 3.7's own postconf on the same main.cf
text (`postconf -x`, which the tests run through filterd's postconf).
"""
from __future__ import annotations

import io
import pickle

import pytest

from filterd.config import Config, ConfigError, Parameter, load, parse_main_cf, split_braced
from filterd.parameters import CORE_PARAMETERS
from filterd.postconf.command import postconf_main


def P(name, default="", kind="str", unit="s"):
    return name, Parameter(name, default, kind, unit=unit)


KNOWN = dict([
    P("myhostname", "host.example"),
    P("mydomain", "example"),
    P("myorigin", "$myhostname"),
    P("relay_domains"),
    P("mail_name", "Postfix"),
    P("smtpd_banner", "$myhostname ESMTP $mail_name"),
    P("a"), P("b"), P("c"),
    P("count", "5", "int"),
    P("limit", "1024", "size"),
    P("wait", "10", "time"),
    P("hours", "2", "time", unit="h"),
    P("flag", "no", "bool"),
    P("items", "", "list"),
])


def cfg(text, known=KNOWN, overrides=None, filename="main.cf"):
    return Config(parse_main_cf(text, filename), known, filename, overrides)


def error_of(text, known=KNOWN, overrides=None):
    with pytest.raises(ConfigError) as info:
        cfg(text, known, overrides)
    return info.value


def postconf(argv, config):
    out, err = io.StringIO(), io.StringIO()
    rc = postconf_main(argv, config, out, err)
    return rc, out.getvalue(), err.getvalue()


# --- parsing -------------------------------------------------------------------------------

def test_parse_basic_forms_and_line_numbers():
    text = "# comment\n\n  # indented comment\na = 1\nb=2\nc   =   three words  \n"
    assert parse_main_cf(text, "main.cf") == [("a", "1", 4), ("b", "2", 5), ("c", "three words", 6)]


def test_parse_value_may_contain_equals_and_hash():
    assert parse_main_cf("a = x=y # not a comment\n", "f") == [("a", "x=y # not a comment", 1)]


def test_parse_empty_value():
    assert parse_main_cf("a =\nb=\n", "f") == [("a", "", 1), ("b", "", 2)]


def test_parse_continuation_joined_with_single_space():
    text = "a = one,\n    two\n\tthree   \nb = x\n"
    assert parse_main_cf(text, "f") == [("a", "one, two three", 1), ("b", "x", 4)]


def test_parse_continuation_skips_comments_and_blank_lines():
    text = "a = 1,\n# c\n  2,\n\n   3\n  # d\n  4\n"
    assert parse_main_cf(text, "f") == [("a", "1, 2, 3 4", 1)]


def test_parse_crlf_and_no_final_newline():
    assert parse_main_cf("a = 1\r\nb = 2\r\n  more", "f") == [("a", "1", 1), ("b", "2 more", 2)]


def test_parse_keeps_duplicates_in_order():
    assert parse_main_cf("a = 1\na = 2\n", "f") == [("a", "1", 1), ("a", "2", 2)]


def test_parse_backslash_has_no_special_meaning():
    assert parse_main_cf("a = x\\\n  y\n", "f") == [("a", "x\\ y", 1)]


def test_parse_continuation_without_parameter_is_error():
    with pytest.raises(ConfigError) as info:
        parse_main_cf("# header\n\n  a = 1\n", "/etc/filterd/main.cf")
    assert str(info.value) == "/etc/filterd/main.cf:3: continuation line without a preceding parameter"
    assert info.value.filename == "/etc/filterd/main.cf"
    assert info.value.lineno == 3


def test_parse_line_without_equals_is_error():
    with pytest.raises(ConfigError) as info:
        parse_main_cf("a = 1\nnoequals here\n", "main.cf")
    assert str(info.value) == 'main.cf:2: missing "=" after parameter name: "noequals here"'


def test_parse_name_with_whitespace_is_error():
    with pytest.raises(ConfigError) as info:
        parse_main_cf("foo bar = x\n", "main.cf")
    assert str(info.value).startswith("main.cf:1: missing \"=\"")


def test_parse_missing_name_is_error():
    with pytest.raises(ConfigError) as info:
        parse_main_cf("\n= value\n", "main.cf")
    assert str(info.value) == 'main.cf:2: missing parameter name: "= value"'


def test_parse_error_on_multiline_entry_reports_its_first_line():
    with pytest.raises(ConfigError) as info:
        parse_main_cf("a = 1\nbroken\n  still broken\n", "main.cf")
    assert info.value.lineno == 2


# --- ConfigError ---------------------------------------------------------------------------

def test_config_error_formats():
    assert str(ConfigError("main.cf", 7, "boom")) == "main.cf:7: boom"
    assert str(ConfigError("main.cf", None, "boom")) == "main.cf: boom"
    err = pickle.loads(pickle.dumps(ConfigError("f", 2, "m")))
    assert (err.filename, err.lineno, err.message, str(err)) == ("f", 2, "m", "f:2: m")


# --- validation at construction ------------------------------------------------------------

def test_unknown_parameter_did_you_mean():
    err = error_of("# x\nmyhostname = h\nmesage_size_limit = 10\n", CORE_PARAMETERS)
    assert str(err) == 'main.cf:3: unknown parameter "mesage_size_limit" (did you mean "message_size_limit"?)'
    assert err.lineno == 3


def test_unknown_parameter_without_close_match():
    assert str(error_of("zzzqqq = 1\n")) == 'main.cf:1: unknown parameter "zzzqqq"'


def test_unknown_override():
    err = error_of("", CORE_PARAMETERS, {"smtpd_timout": "5s"})
    assert str(err) == 'main.cf: override: unknown parameter "smtpd_timout" (did you mean "smtpd_timeout"?)'
    assert err.lineno is None


@pytest.mark.parametrize("line, message", [
    ("count = abc", 'count: bad int value "abc"'),
    ("count = 1.5", 'count: bad int value "1.5"'),
    ("limit = 10M", 'limit: bad size value "10M"'),
    ("limit = -1", 'limit: bad size value "-1"'),
    ("wait = 5x", 'wait: bad time value "5x"'),
    ("wait = 5M", 'wait: bad time value "5M"'),
    ("wait = 5 s", 'wait: bad time value "5 s"'),
    ("wait = -5s", 'wait: bad time value "-5s"'),
    ("wait = 1.5h", 'wait: bad time value "1.5h"'),
    ("wait =", 'wait: bad time value ""'),
    ("flag = true", 'flag: bad bool value "true"'),
])
def test_bad_kind_values_report_file_and_line(line, message):
    err = error_of(f"a = 1\n\n{line}\n")
    assert err.lineno == 3
    assert str(err).startswith(f"main.cf:3: {message}")


def test_kind_is_checked_after_expansion():
    err = error_of("a = ten\ncount = $a\n")
    assert str(err).startswith('main.cf:2: count: bad int value "ten"')


def test_bad_default_reported_without_line():
    known = dict([P("count", "$a", "int"), P("a")])
    err = error_of("a = nope\n", known)
    assert err.lineno is None
    assert str(err).startswith('main.cf: count (default): bad int value "nope"')


def test_bad_override_value_reported_without_line():
    err = error_of("count = 1\n", overrides={"count": "x"})
    assert err.lineno is None
    assert str(err).startswith('main.cf: count (override): bad int value "x"')


def test_later_setting_overrides_earlier_and_keeps_its_line():
    c = cfg("a = 1\nb = 2\na = 3\n")
    assert c.raw("a") == "3"
    assert c.lineno("a") == 3
    assert c.non_default() == {"a": "3", "b": "2"}


def test_parameter_rejects_unknown_kind_and_unit():
    with pytest.raises(ValueError):
        Parameter("x", "", "float")
    with pytest.raises(ValueError):
        Parameter("x", "", "time", unit="y")


# --- raw, defaults, overrides --------------------------------------------------------------

def test_raw_get_and_defaults():
    c = cfg("myhostname = mx.example.org\n")
    assert c.raw("myhostname") == "mx.example.org"
    assert c.raw("myorigin") == "$myhostname"
    assert c.get("myorigin") == "mx.example.org"
    assert c["smtpd_banner"] == "mx.example.org ESMTP Postfix"
    assert c.lineno("myorigin") is None


def test_unknown_name_in_accessors_is_key_error():
    c = cfg("")
    with pytest.raises(KeyError):
        c.get("nope")
    with pytest.raises(KeyError):
        c.raw("nope")
    with pytest.raises(KeyError):
        c["nope"]


def test_overrides_win_over_file():
    c = cfg("a = file\nb = file\n", overrides={"a": "override", "c": "$a"})
    assert c.get("a") == "override"
    assert c.get("c") == "override"
    assert c.lineno("a") is None
    assert c.non_default() == {"a": "override", "b": "file", "c": "$a"}


def test_non_default_includes_values_equal_to_default_and_is_sorted():
    c = cfg("mail_name = Postfix\na = 1\n")
    assert list(c.non_default()) == ["a", "mail_name"]


def test_known_returns_copy():
    c = cfg("")
    c.known().clear()
    assert "myhostname" in c.known()


# --- expansion -----------------------------------------------------------------------------

@pytest.mark.parametrize("value, expected", [
    ("$myhostname", "host.example"),
    ("${myhostname}", "host.example"),
    ("$(myhostname)", "host.example"),
    ("x$myhostname.y", "xhost.example.y"),
    ("$myhostnamex", ""),
    ("$myhostname-x", "host.example-x"),
    ("$nosuch", ""),
    ("${nosuch}!", "!"),
    ("$$", "$"),
    ("$$myhostname", "$myhostname"),
    ("$$$myhostname", "$host.example"),
    ("$smtpd_banner", "host.example ESMTP Postfix"),
    ("${myhostname?yes}", "yes"),
    ("${relay_domains?yes}", ""),
    ("${nosuch?yes}", ""),
    ("${myhostname:no}", ""),
    ("${relay_domains:no}", "no"),
    ("${nosuch:no}", "no"),
    ("${myhostname?$mydomain}", "example"),
    ("${relay_domains:{$mydomain}}", "example"),
    ("${myhostname?{a}:{b}}", "a"),
    ("${relay_domains?{a}:{b}}", "b"),
    ("${relay_domains?{a}:b c}", "b c"),
    ("${myhostname?a:b}", "a:b"),
    ("${relay_domains:{ x }}", " x "),
    ("$(myhostname?(x))", "(x)"),
    ("${{1} == {01}?eq}", "eq"),
    ("${{a} != {b}?ne}", "ne"),
    ("${{10} > {9}?gt}", "gt"),
    ("${{a10} > {a9}?gt}", ""),
    ("${{1}=={1}}", "true"),
    ("${{1}=={2}}", ""),
    ("${{$mydomain} == {example}?{ok}:{no}}", "ok"),
])
def test_expansion(value, expected):
    assert cfg(f"a = {value}\n").get("a") == expected


def test_expansion_is_recursive():
    c = cfg("a = <$b>\nb = [$c]\nc = $myorigin\nmyhostname = deep\n")
    assert c.get("a") == "<[deep]>"


def test_conditional_tests_the_unexpanded_value_like_postfix():
    c = cfg("mydomain = $relay_domains\nrelay_domains =\na = ${mydomain?yes}\n")
    assert c.get("mydomain") == ""
    assert c.get("a") == "yes"


def test_self_conditional_is_not_a_loop():
    assert cfg("a = ${a?set}\n").get("a") == "set"


def test_expansion_loop_detected_at_construction_with_line():
    err = error_of("count = 1\na = $b\nb = ${c}\nc = $(a)\n")
    assert err.lineno == 2
    assert str(err) == "main.cf:2: a: recursive parameter expansion: $a -> $b -> $c -> $a"


def test_self_reference_loop():
    assert str(error_of("a = x$a\n")) == "main.cf:1: a: recursive parameter expansion: $a -> $a"


def test_loop_in_defaults_raises_on_get():
    known = dict([P("a", "$b"), P("b", "$a"), P("c", "ok")])
    c = cfg("c = fine\n", known)
    with pytest.raises(ConfigError) as info:
        c.get("a")
    assert "recursive parameter expansion: $a -> $b -> $a" in str(info.value)
    assert info.value.lineno is None


def test_conditional_branch_not_taken_is_not_expanded():
    assert cfg("a = ${relay_domains?$a}\n").get("a") == ""


@pytest.mark.parametrize("value, message", [
    ("${myhostname", 'truncated macro reference: "${myhostname"'),
    ("$(myhostname", 'truncated macro reference: "$(myhostname"'),
    ("x$", 'empty macro name: "x$"'),
    ("$ x", 'empty macro name: "$ x"'),
    ("$[a]", 'empty macro name: "$[a]"'),
    ("${}", 'empty macro name: "${}"'),
    ("${my-host}", 'attribute name syntax error at: "...my>>>-host"'),
    ("$(a(b)c)", 'attribute name syntax error at: "...a>>>(b)c"'),
    ("${mydomain:{a}:{b}}", 'unexpected input at: "...a}>>>:{b}"'),
    ("${myhostname?{a}b}", '":" expected at: "...a}>>>b"'),
    ("${myhostname?{a}:{b}:c}", 'unexpected input at: "...b}>>>:c"'),
    ("${{a}={b}?x}", 'expected at: "...a}>>>={b}?x"'),
    ("${{1}}", 'expected at: "...1}>>>"'),
    ("${{a} == {a} junk}", '"?" or ":" expected at: "...}>>>junk"'),
    ("${{a} == b}", '"{expression}" expected'),
    ("$(myhostname?{a)", 'unbalanced {} in attribute expression: "{a"'),
])
def test_syntax_errors_report_file_and_line(value, message):
    err = error_of(f"b = 1\na = {value}\n")
    assert err.lineno == 2
    assert str(err).startswith("main.cf:2: a: ")
    assert message in str(err)


def test_syntax_error_in_untaken_branch_is_still_an_error():
    assert error_of("a = ${relay_domains?{${bad}:{x}\n").lineno == 1


def test_syntax_error_in_referenced_parameter_names_that_parameter():
    err = error_of("a = $b\nb = ${oops\n")
    assert err.lineno == 2
    assert str(err).startswith("main.cf:2: b: truncated macro reference")


# Postfix 3.7 `postconf -xh smtpd_banner` for each value, with this main.cf prefix.
POSTFIX_PREFIX = "mydomain = $relay_domains\nrelay_domains =\nmyhostname = h\nmyorigin = a    b\n"


@pytest.mark.parametrize("value, postfix_prints", [
    ("${mydomain?yes}", "yes"),
    ("${mydomain?a:b}", "a:b"),
    ("${relay_domains?{x}:y z}", "y z"),
    ("${{1} == {01}?eq:ne}", "eq:ne"),
    ("${{10} < {9}?lt:ge} ${{b} < {a}?lt:ge}", ""),
    ("$$mydomain ${mydomain:} $(mydomain?x)", "$mydomain x"),
    ("${relay_domains:{ spaced }}<", "spaced <"),
    ("$mydomain.x$relay_domains-$myhostnamex", ".x-"),
    ("${mail_name?{{nested}}}", "{nested}"),
    ("${mail_name?{a}  :  {b}  }", "a"),
    ("${{1}=={1}}", "true"),
    ("a${relay_domains:{ x }}b", "a x b"),
    ("$relay_domains x", "x"),
    ("${mail_name:a}", ""),
    ("$myhostname$$", "h$"),
    ("${{1}<={2}?{y}:{n}}/${{b}>{a}?y}/${{2}!={2}:n}", "y/y/n"),
    ("$(myhostname?(x))", "(x)"),
    ("${relay_domains?{a}:b c}", "b c"),
    ("${myhostname?a}}", "a}"),
    ("$(myhostname?{x})", "x"),
    ("${myhostname:{}}", ""),
    ("${ myhostname}", "h"),
    ("${myhostname }", "h"),
    ("${myhostname ?x}", "x"),
    ("${ {1} == {1} ?x}", "x"),
    ("${{ 1 } == {1}?x:y}", ""),
    ("${{010} > {9}?gt}", "gt"),
    ("${{} == {}?empty}", "empty"),
    ("${{$myhostname} == {h}?{ok}}", "ok"),
    ("$myorigin|", "a b|"),
    ("${myhostname?$myorigin}", "a b"),
    ("${myhostname:$myorigin}z", "z"),
    ("${myhostname?{a}:}", "a"),
    ("${myhostname?{a}:  }", "a"),
    ("${relay_domains?{a}:}", ""),
    ("${myhostname?{a}:{b}} tail", "a tail"),
    ("${myhostname?{a}:{b} }", "a"),
    ("${:x}", "x"),
    ("$myhostname.$x", "h."),
])
def test_expansion_matches_postfix_postconf_x(value, postfix_prints):
    c = cfg(POSTFIX_PREFIX + f"smtpd_banner = {value}\n")
    assert postconf(["-xh", "smtpd_banner"], c) == (0, postfix_prints + "\n", "")


# --- typed access --------------------------------------------------------------------------

@pytest.mark.parametrize("value, seconds", [
    ("10", 10.0), ("10s", 10.0), ("2m", 120.0), ("3h", 10800.0), ("1d", 86400.0),
    ("2w", 1209600.0), ("0", 0.0), ("+5", 5.0),
])
def test_time_units(value, seconds):
    c = cfg(f"wait = {value}\n")
    assert c.time("wait") == seconds
    assert isinstance(c.time("wait"), float)


def test_time_bare_number_uses_parameter_unit():
    c = cfg("hours = 3\n")
    assert c.time("hours") == 3 * 3600
    assert cfg("hours = 30m\n").time("hours") == 1800
    assert cfg("").time("hours") == 7200


def test_time_via_expansion():
    assert cfg("a = 4\nwait = ${a}m\n").time("wait") == 240


@pytest.mark.parametrize("value, expected", [
    ("yes", True), ("no", False), ("YES", True), ("No", False),
])
def test_bool(value, expected):
    assert cfg(f"flag = {value}\n").bool("flag") is expected


def test_int_and_size():
    c = cfg("count = -3\nlimit = 10240000\n")
    assert c.int("count") == -3
    assert c.size("limit") == 10240000
    assert cfg("count = +4\n").int("count") == 4
    assert cfg("").size("limit") == 1024


def test_typed_accessor_on_untyped_parameter_validates_too():
    c = cfg("a = 12\nb = soon\n")
    assert c.int("a") == 12
    with pytest.raises(ConfigError) as info:
        c.time("b")
    assert str(info.value).startswith('main.cf:2: b: bad time value "soon"')


@pytest.mark.parametrize("value, expected", [
    ("", []),
    ("one", ["one"]),
    ("a, b,,c", ["a", "b", "c"]),
    ("a b\tc", ["a", "b", "c"]),
    (" , a ,, b , ", ["a", "b"]),
    ("$myhostname, localhost.$mydomain", ["host.example", "localhost.example"]),
])
def test_list(value, expected):
    assert cfg(f"items = {value}\n").list("items") == expected


def test_list_across_continuation_lines():
    c = cfg("items = a,\n    b\n    c,d\n")
    assert c.list("items") == ["a", "b", "c", "d"]


# --- load ----------------------------------------------------------------------------------

def test_load_reads_file(tmp_path):
    path = tmp_path / "main.cf"
    path.write_text("myhostname = mx.example\nmesage_size_limit = 1\n")
    with pytest.raises(ConfigError) as info:
        load(str(path), CORE_PARAMETERS)
    assert str(info.value).startswith(f"{path}:2: unknown parameter")
    path.write_text("myhostname = mx.example\n")
    c = load(str(path), CORE_PARAMETERS, overrides={"mail_name": "x"})
    assert c.get("smtpd_banner") == "mx.example ESMTP x"
    assert c.filename == str(path)


def test_load_missing_file(tmp_path):
    path = tmp_path / "nope.cf"
    with pytest.raises(ConfigError) as info:
        load(str(path), CORE_PARAMETERS)
    assert info.value.lineno is None
    assert str(info.value) == f"{path}: cannot read: No such file or directory"


# --- found by fuzzing ----------------------------------------------------------------------


def test_only_ascii_white_space_begins_a_continuation_line():
    """Found by fuzzing: a line starting with "\\x1c" (white space to Python, not to C's isspace) continued the
    entry before it, where Postfix and postconf -e read a new entry."""
    assert parse_main_cf("a = 1\n\x1cb = 2\n\x0b  c\n", "main.cf") == [("a", "1", 1), ("\x1cb", "2 c", 2)]


@pytest.mark.parametrize("opening, closing", [("${mydomain?", "}"), ("$(mydomain:", ")"), ("${{1}=={", "}}")])
def test_more_than_a_hundred_nested_expressions_are_refused_as_postfix_does(opening, closing):
    """Found by fuzzing: a thousand nested ${...} raised RecursionError; Postfix refuses a 101st level."""
    assert cfg(f"a = {'${mydomain?' * 100}x{'}' * 100}\n").get("a") == "x"
    err = error_of(f"a = {opening * 101}mydomain{closing * 101}\n")
    assert err.lineno == 1 and "a: unreasonable macro call nesting" in str(err)
    assert error_of(f"a = {opening * 5000}x{closing * 5000}\n").lineno == 1


@pytest.mark.parametrize("line, message", [
    ("wait = " + "9" * 400, 'wait: bad time value "999'), ("hours = 596524h", 'hours: bad time value "596524h"'),
    ("count = 9223372036854775808", 'count: bad int value "9223372036854775808"'),
    ("limit = " + "9" * 20, "limit: bad size value"),
])
def test_numbers_past_postfix_s_c_types_are_refused(line, message):
    """Found by fuzzing: a time of 400 digits raised OverflowError; Postfix keeps times in a C int and numbers
    in an int or a long, and refuses what does not fit."""
    assert cfg("count = 3000000000\n").int("count") == 3_000_000_000
    assert message in str(error_of(line + "\n"))


def test_split_braced_keeps_a_brace_group_whole_and_names_an_unbalanced_brace():
    assert split_braced("a, {b c, {d = e f}} ,g") == ["a", "{b c, {d = e f}}", "g"]
    assert split_braced(" \t") == []
    with pytest.raises(ValueError, match='missing "}"'):
        split_braced("{a, b")
    with pytest.raises(ValueError, match='unbalanced "}"'):
        split_braced("a}")


def test_compatibility_level_defaults_are_postfix_s_expressions():
    """`<level` and its kin compare compatibility levels; the defaults that depend on the level follow it."""
    from filterd.parameters import CORE_PARAMETERS

    def values(level: str | None) -> tuple:
        entries = [("compatibility_level", level, 1)] if level is not None else []
        config = Config(entries, CORE_PARAMETERS)
        return (config.get("relay_domains"), config.get("smtpd_relay_restrictions"),
                config.bool("smtpd_relay_before_recipient_restrictions"), config.bool("smtputf8_enable"))

    modern = ("", "permit_mynetworks, permit_sasl_authenticated, defer_unauth_destination", True, True)
    assert values(None) == values("3.6") == values("3.10") == modern
    assert values("2") == ("", modern[1], False, True)
    assert values("1") == (Config([], CORE_PARAMETERS).get("mydestination"), modern[1], False, True)
    assert values("0")[1:] == ("", False, False)
    config = Config([("a", "${{3.6.1} >=level {3.6} ? {yes} : {no}}", 1), ("b", "${{10} <level {9.1} ? {x}}", 2)],
                    {"a": Parameter("a", ""), "b": Parameter("b", "")})
    assert (config.get("a"), config.get("b")) == ("yes", "")


def test_a_bad_compatibility_level_or_operator_suffix_is_an_error():
    from filterd.parameters import CORE_PARAMETERS

    with pytest.raises(ConfigError, match=r'main\.cf:1: compatibility_level: bad compatibility level: "x.y"'):
        Config([("compatibility_level", "x.y", 1)], CORE_PARAMETERS)
    with pytest.raises(ConfigError, match=r'bad operator suffix at: "\.\.\.<>>>lvl"'):
        Config([("a", "${{1} <lvl {2}}", 1)], {"a": Parameter("a", "")})
