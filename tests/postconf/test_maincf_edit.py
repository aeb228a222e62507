"""The main.cf editor behind postconf -e, -X and -#, text in and text out.

Expected texts are what Postfix 3.7's `postconf -c DIR -e/-X/-#` wrote for the same input (checked again
against the installed Postfix by tests/integration/test_postconf_vs_postfix.py), except where a test says
it follows current Postfix source instead.
"""
from __future__ import annotations

import pytest

from filterd.postconf.maincf_edit import (COMMENT_OUT, REMOVE, SET, EditError, edit_main_cf, parse_requests,
                                          physical_lines, split_nameval)

MAIN_CF = """\
# leading comment
myhostname = mail.example.com

# about limits
message_size_limit = 20480000
mynetworks = 127.0.0.0/8
    10.0.0.0/8
    # a comment within continuation
    192.168.0.0/16
relayhost =
"""


def edit(text, mode, *args):
    requests, warnings = parse_requests(mode, list(args))
    new, found = edit_main_cf(text, mode, requests, "/etc/filterd/main.cf")
    return new, warnings + found


def test_set_replaces_an_entry_and_drops_its_continuation_lines_but_not_comments():
    new, warnings = edit(MAIN_CF, SET, "mynetworks=1.2.3.4/32")
    assert warnings == []
    assert new == MAIN_CF.replace("mynetworks = 127.0.0.0/8\n    10.0.0.0/8\n", "mynetworks = 1.2.3.4/32\n") \
        .replace("    192.168.0.0/16\n", "")


def test_set_keeps_everything_else_byte_for_byte():
    new, _ = edit(MAIN_CF, SET, "message_size_limit = 5")
    assert new == MAIN_CF.replace("20480000", "5")


def test_set_appends_new_names_sorted_after_the_file():
    new, _ = edit(MAIN_CF, SET, "smtpd_banner=$myhostname  ESMTP", "myhostname=a b  c", "mydomain=x")
    assert new == MAIN_CF.replace("mail.example.com", "a b  c") + "mydomain = x\nsmtpd_banner = $myhostname  ESMTP\n"


def test_set_empty_value_keeps_the_blank_after_the_equals_sign():
    new, _ = edit("relayhost = [mx]:25\n", SET, "relayhost=")
    assert new == "relayhost = \n"


def test_set_replaces_every_entry_of_a_name_and_warns_once():
    text = "a = 1\n  cont\n\n   \n  more\nb = 2\na=3\n  x\n#c\nb = last\n"
    new, warnings = edit(text, SET, "a=9", "b=8", "c=2")
    assert new == "a = 9\n\n   \nb = 8\na = 9\n#c\nb = 8\nc = 2\n"
    assert warnings == ['/etc/filterd/main.cf: multiple entries for "a"',
                        '/etc/filterd/main.cf: multiple entries for "b"']


def test_remove_drops_entry_and_continuations():
    new, warnings = edit(MAIN_CF, REMOVE, "mynetworks", "relayhost")
    assert warnings == []
    assert new == """\
# leading comment
myhostname = mail.example.com

# about limits
message_size_limit = 20480000
    # a comment within continuation
"""


def test_remove_of_a_name_not_in_the_file_changes_nothing():
    assert edit(MAIN_CF, REMOVE, "nothere") == (MAIN_CF, [])


def test_comment_out_prefixes_each_line_of_the_entry():
    new, _ = edit(MAIN_CF, COMMENT_OUT, "mynetworks")
    assert new == MAIN_CF.replace("mynetworks = 127", "#mynetworks = 127").replace("    10.", "#    10.") \
        .replace("    192.", "#    192.")


def test_blank_and_whitespace_lines_inside_an_entry_pass_through():
    text = "a = 1\n  cont\n\n   \n  more\nb = 2\n"
    assert edit(text, COMMENT_OUT, "a")[0] == "#a = 1\n#  cont\n\n   \n#  more\nb = 2\n"


def test_names_are_whole_keys():
    text = "mynetworks = 1\nmynetworks_style = host\nmy=x\n"
    assert edit(text, REMOVE, "my")[0] == "mynetworks = 1\nmynetworks_style = host\n"
    assert edit(text, SET, "mynetworks=2")[0] == "mynetworks = 2\nmynetworks_style = host\nmy=x\n"


def test_last_line_without_newline_gets_one():
    # Current Postfix source (pcf_next_cf_line) adds it; Postfix 3.7 copied the line as it was and so could
    # glue an appended entry to it.
    assert edit("a = 1", REMOVE, "b")[0] == "a = 1\n"
    assert edit("a = 1", SET, "b=2")[0] == "a = 1\nb = 2\n"
    assert edit("", SET, "b=2")[0] == "b = 2\n"


def test_physical_lines_split_on_lf_only():
    assert physical_lines("a = 1\r\nb\x0c= 2\n") == ["a = 1\r\n", "b\x0c= 2\n"]
    assert physical_lines("") == []


@pytest.mark.parametrize("text, expected", [
    ("a=b", ("a", "b")), ("  a  =  b c  ", ("a", "b c")), ("a=", ("a", "")), ("a =b=c", ("a", "b=c")),
])
def test_split_nameval(text, expected):
    assert split_nameval(text) == expected


@pytest.mark.parametrize("text, message", [
    ("=x", "missing attribute name"), ("", "missing attribute name"), ("a", "missing '=' after attribute name"),
    ("a b=c", "missing '=' after attribute name"),
])
def test_split_nameval_errors(text, message):
    with pytest.raises(EditError, match=f"^{message}$"):
        split_nameval(text)


@pytest.mark.parametrize("mode, arg, message", [
    (SET, "a", "missing '=' after attribute name: \"a\""),
    (SET, "  =x", 'missing attribute name: "=x"'),
    (SET, "a=1\nb=2", "-e, -X, or -# accepts no multi-line input"),
    (SET, " #a=1", "-e, -X, or -# accepts no comment input"),
    (REMOVE, "#a", "-e, -X, or -# accepts no comment input"),
    (REMOVE, "  ", "-X or -# requires non-blank parameter names"),
    (COMMENT_OUT, "a=b", "-X or -# requires parameter names without value"),
])
def test_requests_refused_with_postfix_words(mode, arg, message):
    with pytest.raises(EditError) as info:
        parse_requests(mode, [arg])
    assert str(info.value) == message


def test_a_later_request_for_a_name_wins_with_a_warning():
    assert parse_requests(SET, ["a=1", "b=2", "a=3"]) == ({"b": "2", "a": "3"}, ["ignoring earlier request: 'a = 1'"])
    assert parse_requests(REMOVE, [" a ", "a"]) == ({"a": None}, ["ignoring earlier request: 'a'"])
