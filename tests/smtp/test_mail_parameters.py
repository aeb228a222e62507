"""MAIL and RCPT parameters refused in order with Postfix's replies, named as the client wrote them."""

import pytest

from filterd.smtp.mail_parameters import BAD_SIZE, refusal


@pytest.mark.parametrize("command, words, reply", [
    ("MAIL", [], None),
    ("MAIL", ["body=8bitmime", "Size=10", "SMTPUTF8", "BODY=7BIT"], None),
    ("MAIL", ["FOO=bar"], "555 5.5.4 Unsupported option: FOO=bar"),
    ("MAIL", ["SIZE=10", "x-Y=1", "FOO"], "555 5.5.4 Unsupported option: x-Y=1"),
    ("MAIL", ["SIZE="], BAD_SIZE),
    ("MAIL", ["SIZE=1x", "FOO=1"], BAD_SIZE),
    ("MAIL", ["SIZE=²"], BAD_SIZE),
    ("MAIL", ["BODY=BINARYMIME"], "555 5.5.4 Unsupported option: BODY=BINARYMIME"),
    ("MAIL", ["SMTPUTF8=yes"], "555 5.5.4 Unsupported option: SMTPUTF8=yes"),
    ("RCPT", ["SIZE=10"], "555 5.5.4 Unsupported option: SIZE=10"),
    ("RCPT", [], None),
])
def test_the_first_refused_parameter_gives_postfix_s_reply(command, words, reply):
    assert refusal(command, words) == reply


def test_smtputf8_is_unsupported_once_its_ehlo_keyword_is_discarded():
    assert refusal("MAIL", ["smtputf8"], frozenset({"SMTPUTF8"})) == "555 5.5.4 Unsupported option: smtputf8"
    assert refusal("MAIL", ["SMTPUTF8"], frozenset({"DSN"})) is None
