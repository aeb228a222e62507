"""Verdict semantics: constructors, Postfix action strings, reply defaults, coercion of hook results."""

from __future__ import annotations

from pathlib import Path

import pytest

from filterd.edits import ContentVerdict
from filterd.verdict import (
    Action,
    AddHeader,
    ChangeHeader,
    DeleteHeader,
    InsertHeader,
    ReplaceBody,
    Symbol,
    Verdict,
    changes_of,
    coerce,
)


# --- constructors ----------------------------------------------------------------------------

@pytest.mark.parametrize("make, action", [
    (Verdict.ok, Action.OK),
    (Verdict.dunno, Action.DUNNO),
    (Verdict.reject, Action.REJECT),
    (Verdict.defer, Action.DEFER),
    (Verdict.discard, Action.DISCARD),
    (Verdict.hold, Action.HOLD),
    (Verdict.warn, Action.WARN),
    (Verdict.info, Action.INFO),
    (Verdict.ignore, Action.IGNORE),
    (Verdict.strip, Action.STRIP),
    (Verdict.pass_, Action.PASS),
])
def test_constructor_without_argument_gives_its_action(make, action):
    verdict = make()
    assert verdict.action is action
    assert verdict.text == ""
    assert verdict.edits == ()


@pytest.mark.parametrize("make, action", [
    (Verdict.prepend, Action.PREPEND),
    (Verdict.replace, Action.REPLACE),
    (Verdict.redirect, Action.REDIRECT),
    (Verdict.filter, Action.FILTER),
    (Verdict.bcc, Action.BCC),
    (Verdict.hold, Action.HOLD),
    (Verdict.warn, Action.WARN),
    (Verdict.info, Action.INFO),
    (Verdict.discard, Action.DISCARD),
])
def test_constructor_keeps_its_argument_as_text(make, action):
    verdict = make("X-Arg: value")
    assert (verdict.action, verdict.text) == (action, "X-Arg: value")


def test_default_verdict_is_dunno():
    assert Verdict().action is Action.DUNNO
    assert not Verdict().final


@pytest.mark.parametrize("verdict, final", [
    (Verdict.reject(), True), (Verdict.defer(), True), (Verdict.discard(), True),
    (Verdict.ok(), False), (Verdict.hold(), False), (Verdict.pass_(), False), (Verdict.prepend("X: y"), False),
])
def test_only_reject_defer_discard_are_final(verdict, final):
    assert verdict.final is final


@pytest.mark.parametrize("verdict, edit", [
    (Verdict.add_header("X-A", "1"), AddHeader("X-A", "1")),
    (Verdict.insert_header("X-B", "2", 3), InsertHeader("X-B", "2", 3)),
    (Verdict.change_header("Subject", "new", 2), ChangeHeader("Subject", "new", 2)),
    (Verdict.delete_header("X-C", 2), DeleteHeader("X-C", 2)),
    (Verdict.replace_body(b"new\r\n"), ReplaceBody(b"new\r\n")),
    (Verdict.replace_body(Path("/tmp/body")), ReplaceBody(Path("/tmp/body"))),
])
def test_edit_constructors_carry_one_edit_and_no_decision(verdict, edit):
    assert verdict.action is Action.DUNNO
    assert verdict.edits == (edit,)


def test_with_edits_appends_and_keeps_the_action():
    verdict = Verdict.hold("why").with_edits(AddHeader("X-A", "1"), DeleteHeader("X-B"))
    assert verdict.action is Action.HOLD
    assert verdict.text == "why"
    assert verdict.edits == (AddHeader("X-A", "1"), DeleteHeader("X-B"))


def test_reject_splits_code_status_and_text():
    verdict = Verdict.reject("554 5.7.1 go away")
    assert (verdict.action, verdict.code, verdict.dsn, verdict.text) == (Action.REJECT, 554, "5.7.1", "go away")


def test_reject_code_keyword():
    verdict = Verdict.reject("no thanks", code=554)
    assert verdict.reply() == (554, "5.7.1", "no thanks")


def test_reject_conflicting_codes_is_an_error():
    with pytest.raises(ValueError, match="conflicts"):
        Verdict.reject("550 no", code=554)


def test_reject_status_class_must_match_code():
    with pytest.raises(ValueError, match="does not match"):
        Verdict.reject("550 4.7.1 no")


def test_defer_with_5xx_status_is_an_error():
    with pytest.raises(ValueError, match="4.x.x"):
        Verdict.defer("5.7.1 later")


def test_defer_with_5xx_code_is_an_error():
    with pytest.raises(ValueError, match="4xx"):
        Verdict.defer("later", code=550)


# --- REJECT with a temporary code becomes DEFER, as in Postfix -----------------------------------

@pytest.mark.parametrize("text, code, expected", [
    ("421 try later", None, (421, "4.7.1", "try later")),
    ("try later", 451, (451, "4.7.1", "try later")),
    ("4.2.2 mailbox full", None, (450, "4.2.2", "mailbox full")),
    ("452 4.3.1 disk full", None, (452, "4.3.1", "disk full")),
])
def test_reject_with_temporary_code_or_status_becomes_defer(text, code, expected):
    verdict = Verdict.reject(text, code=code)
    assert verdict.action is Action.DEFER
    assert verdict.reply() == expected


# --- parse: Postfix table results --------------------------------------------------------------

def test_parse_bare_reject():
    verdict = Verdict.parse("REJECT")
    assert verdict.action is Action.REJECT
    assert verdict.reply() == (550, "5.7.1", "Access denied")


def test_parse_reject_with_status_and_text():
    verdict = Verdict.parse("REJECT 5.7.1 text")
    assert verdict.action is Action.REJECT
    assert verdict.reply() == (550, "5.7.1", "text")


def test_parse_reject_with_plain_text():
    verdict = Verdict.parse("REJECT no spam here")
    assert verdict.reply() == (550, "5.7.1", "no spam here")


def test_parse_numeric_5xx_is_reject_with_that_code():
    verdict = Verdict.parse("550 text")
    assert verdict.action is Action.REJECT
    assert verdict.reply() == (550, "5.7.1", "text")


def test_parse_numeric_5xx_with_status():
    assert Verdict.parse("554 5.7.0 bad").reply() == (554, "5.7.0", "bad")


def test_parse_numeric_4xx_is_defer():
    verdict = Verdict.parse("450 4.7.1 later")
    assert verdict.action is Action.DEFER
    assert verdict.reply() == (450, "4.7.1", "later")


def test_parse_numeric_4xx_without_status_is_defer():
    verdict = Verdict.parse("451 greylisted")
    assert verdict.action is Action.DEFER
    assert verdict.reply() == (451, "4.7.1", "greylisted")


def test_parse_reject_with_temporary_status_is_defer():
    verdict = Verdict.parse("REJECT 4.7.1 come back later")
    assert verdict.action is Action.DEFER
    assert verdict.reply() == (450, "4.7.1", "come back later")


def test_parse_defer_text():
    verdict = Verdict.parse("DEFER text")
    assert verdict.action is Action.DEFER
    assert verdict.reply() == (450, "4.7.1", "text")


def test_parse_defer_with_5xx_code_is_an_error():
    with pytest.raises(ValueError):
        Verdict.parse("DEFER 550 no")


def test_parse_prepend_keeps_the_whole_header_line():
    verdict = Verdict.parse("PREPEND X-Tag: y")
    assert (verdict.action, verdict.text) == (Action.PREPEND, "X-Tag: y")


@pytest.mark.parametrize("text, action", [
    ("reject", Action.REJECT), ("Reject", Action.REJECT), ("ok", Action.OK), ("dunno", Action.DUNNO),
    ("discard", Action.DISCARD), ("hold", Action.HOLD), ("Ignore", Action.IGNORE), ("pass", Action.PASS),
    ("warn", Action.WARN), ("info", Action.INFO), ("strip", Action.STRIP),
])
def test_parse_action_word_is_case_insensitive(text, action):
    assert Verdict.parse(text).action is action


def test_parse_keeps_argument_case():
    assert Verdict.parse("redirect Admin@Example.COM").text == "Admin@Example.COM"


def test_parse_strips_surrounding_whitespace():
    verdict = Verdict.parse("  HOLD   suspicious  ")
    assert (verdict.action, verdict.text) == (Action.HOLD, "suspicious")


def test_parse_numeric_2xx_is_ok():
    assert Verdict.parse("250 fine").action is Action.OK


@pytest.mark.parametrize("text", ["BOUNCE", "defer_if_permit x", "", "X-Header: y"])
def test_parse_unknown_action_is_an_error(text):
    with pytest.raises(ValueError, match="unknown action"):
        Verdict.parse(text)


@pytest.mark.parametrize("word", ["PREPEND", "REPLACE", "REDIRECT", "FILTER", "BCC", "prepend   "])
def test_parse_action_missing_its_argument_is_an_error(word):
    with pytest.raises(ValueError, match="needs an argument"):
        Verdict.parse(word)


@pytest.mark.parametrize("text, action, arg", [
    ("REPLACE Subject: clean", Action.REPLACE, "Subject: clean"),
    ("REDIRECT abuse@example.org", Action.REDIRECT, "abuse@example.org"),
    ("FILTER smtp:[127.0.0.1]:10025", Action.FILTER, "smtp:[127.0.0.1]:10025"),
    ("BCC archive@example.org", Action.BCC, "archive@example.org"),
    ("WARN looks odd", Action.WARN, "looks odd"),
    ("DISCARD silently", Action.DISCARD, "silently"),
])
def test_parse_action_with_argument(text, action, arg):
    verdict = Verdict.parse(text)
    assert (verdict.action, verdict.text) == (action, arg)


# --- reply() and str() ---------------------------------------------------------------------------

def test_reply_defaults():
    assert Verdict.reject().reply() == (550, "5.7.1", "Access denied")
    assert Verdict.defer().reply() == (450, "4.7.1", "Service unavailable")
    assert Verdict.ok().reply() == (250, "2.0.0", "Ok")
    assert Verdict().reply() == (250, "2.0.0", "Ok")


def test_reply_fills_only_missing_parts():
    assert Verdict.reject("5.7.0 policy").reply() == (550, "5.7.0", "policy")
    assert Verdict.defer("busy", code=421).reply() == (421, "4.7.1", "busy")


@pytest.mark.parametrize("verdict, text", [
    (Verdict.reject("550 5.7.1 no"), "REJECT 550 5.7.1 no"),
    (Verdict.reject("5.7.1 no"), "REJECT 550 5.7.1 no"),
    (Verdict.reject("no"), "REJECT no"),
    (Verdict.reject(), "REJECT"),
    (Verdict.defer("451 4.3.0 busy"), "DEFER 451 4.3.0 busy"),
    (Verdict.prepend("X-Tag: y"), "PREPEND X-Tag: y"),
    (Verdict.ok(), "OK"),
    (Verdict(), "DUNNO"),
    (Verdict.add_header("X-A", "1"), "DUNNO"),
])
def test_str_reads_like_a_postfix_table_result(verdict, text):
    assert str(verdict) == text


@pytest.mark.parametrize("text", ["REJECT 550 5.7.1 no", "DEFER 451 4.3.0 busy", "PREPEND X-Tag: y", "OK", "HOLD why"])
def test_str_round_trips_through_parse(text):
    assert str(Verdict.parse(text)) == text


# --- coerce --------------------------------------------------------------------------------------

def test_coerce_none_is_dunno():
    assert coerce(None) == Verdict()


def test_coerce_verdict_is_returned_as_is():
    verdict = Verdict.hold("x")
    assert coerce(verdict) is verdict


def test_coerce_string_is_parsed():
    assert coerce("REJECT 5.7.1 no") == Verdict(Action.REJECT, "no", None, "5.7.1")


def test_coerce_bad_string_is_value_error():
    with pytest.raises(ValueError):
        coerce("MAYBE")


@pytest.mark.parametrize("value", [True, 550, b"REJECT", ("REJECT",), Action.REJECT])
def test_coerce_other_types_are_type_errors(value):
    with pytest.raises(TypeError, match="must return None, a Verdict or an action string"):
        coerce(value)


def test_a_symbol_verdict_decides_nothing_and_declares_the_symbol_change():
    verdict = Verdict.symbol("SPF_FAIL", 2.5, "not permitted")
    assert (verdict.action, str(verdict)) == (Action.DUNNO, "DUNNO")
    assert verdict.symbols == (Symbol("SPF_FAIL", 2.5, "not permitted"),)
    assert changes_of(verdict) == {"symbol"} and changes_of(Verdict.hold("x").with_symbol("A", 1)) == {"hold", "symbol"}
    both = Verdict.reject("5.7.1 no").with_symbol("A", 1).with_symbol("B", -1)
    assert both.final and both.symbols == (Symbol("A", 1), Symbol("B", -1))
    assert ContentVerdict.of(verdict).symbols == verdict.symbols
    assert str(Symbol("DKIM_ALLOW", -0.5)) == "DKIM_ALLOW(-0.5)"
