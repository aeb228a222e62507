"""Headers between filterd's form and the milter's (name and value apart, HDR_LEADSPC or not): strings only."""

import pytest

from filterd.content import Header
from filterd.milter.protocol.headers import from_header, header_line, to_header


@pytest.mark.parametrize("name, value, leading_space, raw", [
    ("Subject", " hi", True, b"Subject: hi\r\n"),
    ("Subject", "hi", False, b"Subject: hi\r\n"),
    ("X-Tab", "\tv", True, b"X-Tab:\tv\r\n"),
    ("Received", " from a\n\tby b", True, b"Received: from a\r\n\tby b\r\n"),
    ("Received", " from a\r\n\tby b", True, b"Received: from a\r\n\tby b\r\n"),
    ("X-Empty", "", True, b"X-Empty:\r\n"),
])
def test_milter_headers_become_filterd_headers_and_back(name, value, leading_space, raw):
    header = to_header(name, value, leading_space)
    assert header.raw == raw
    assert from_header(header, leading_space) == (name, value.replace("\r\n", "\n"))


def test_an_oversized_header_is_cut_at_header_size_limit():
    assert to_header("X", " " + "a" * 50, True, limit=20).raw == b"X: " + b"a" * 15 + b"\r\n"


def test_a_prepend_text_is_a_header():
    assert header_line("X-Tag: yes\r\n").raw == b"X-Tag: yes\r\n"
    assert from_header(Header.make("X-Tag", "yes"), False) == ("X-Tag", "yes")
