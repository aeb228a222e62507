"""smtpd_forbidden_commands and Postfix's is_header(): which first words of a command line end the session."""

import pytest

from filterd.smtp.forbidden import DEFAULT, ForbiddenCommands, is_header


@pytest.mark.parametrize("word, header", [("From:", True), ("Subject:hi", True), ("X-Mailer:", True),
                                          ("FROM", False), (":x", False), ("MAIL", False), ("a b:", False)])
def test_a_header_name_is_printable_ascii_then_a_colon(word, header):
    assert is_header(word) is header


@pytest.mark.parametrize("command, forbidden", [("CONNECT", True), ("get", True), ("POST", True), ("123", True),
                                                ("<HTML>", True), ("FROM:", True), ("FOOBAR", False),
                                                ("MAIL", False), ("EHLO", False)])
def test_postfix_s_default_list(command, forbidden):
    assert ForbiddenCommands.parse(DEFAULT).forbids(command) is forbidden


def test_an_administrator_s_list_of_names_and_tables():
    rules = ForbiddenCommands.parse("xyzzy, pcre:{{/^ZZ/ no}}")
    assert [rules.forbids(c) for c in ("XYZZY", "ZZTOP", "GET", "123", "Subject:")] == [True, True, False, False, True]
