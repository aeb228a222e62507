"""DATA as an SMTP client sends it: dot-stuffing across chunk boundaries, and content that ends with CRLF."""

import pytest

from filterd.smtp_data import stuffed

MESSAGE = b"Subject: x\r\n\r\n.first\r\nmiddle .\r\n..two\r\n.\r\n"
WIRE = b"Subject: x\r\n\r\n..first\r\nmiddle .\r\n...two\r\n..\r\n"


@pytest.mark.parametrize("split", range(len(MESSAGE) + 1))
def test_every_line_starting_with_a_dot_gets_one_more_at_any_split(split):
    chunks = [MESSAGE[:split], MESSAGE[split:]]
    assert b"".join(stuffed(iter(chunks))) == WIRE


def test_a_dot_that_only_continues_a_line_is_left_alone():
    assert b"".join(stuffed(iter([b"a", b".b\r\n"]))) == b"a.b\r\n"


@pytest.mark.parametrize(("content", "wire"), [
    (b"no line end", b"no line end\r\n"),
    (b"cut at CR\r", b"cut at CR\r\n"),
    (b"ends well\r\n", b"ends well\r\n"),
])
def test_content_that_does_not_end_with_crlf_gets_one(content, wire):
    assert b"".join(stuffed(iter([content]))) == wire
