"""Headers and body as the milter carries them, split into filterd's headers and lines: strings only."""

import pytest

from filterd.content import BODY, END_OF_HEADERS
from filterd.milter.protocol.headers import from_header, header_line, to_header
from filterd.milter.server.message import LineSplitter, MessageBuilder
from filterd.milter.server.settings import MilterSettings
from filterd.model import Header

BODY_TEXT = b"first line\r\n\r\nthird, longer line of the body\r\nno newline at the end"


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


def lines_of(chunks, limit=2048):
    splitter = LineSplitter(limit)
    return [line for chunk in chunks for line in splitter.feed(chunk)] + splitter.finish()


def test_lines_whole():
    assert lines_of([BODY_TEXT]) == [b"first line\r\n", b"\r\n", b"third, longer line of the body\r\n",
                                     b"no newline at the end"]


@pytest.mark.parametrize("cut", range(len(BODY_TEXT) + 1))
def test_lines_do_not_depend_on_where_a_chunk_ends(cut):
    assert lines_of([BODY_TEXT[:cut], BODY_TEXT[cut:]]) == lines_of([BODY_TEXT])


def test_overlong_lines_come_in_pieces():
    assert lines_of([b"abcdefghij\r\nxyz"], limit=4) == [b"abcd", b"efgh", b"ij\r\n", b"xyz"]
    assert lines_of([b"abcdef", b"gh"], limit=4) == [b"abcd", b"efgh"]


def test_the_builder_gives_content_events_and_a_message():
    builder = MessageBuilder(MilterSettings(), body_lines=True, leading_space=True)
    header = builder.header("Subject", " hi")
    events = builder.body(b"one\r\ntw") + builder.body(b"o\r\n") + builder.finish()
    assert [kind for kind, _ in events] == [END_OF_HEADERS, BODY, BODY]
    assert [value.text for kind, value in events if kind == BODY] == [b"one", b"two"]
    assert builder.message.headers == [header]
    assert builder.message.as_bytes() == b"Subject: hi\r\n\r\none\r\ntwo\r\n"
    assert builder.end_of_headers() == []
    builder.close()


def test_without_body_hooks_the_body_is_only_spooled():
    builder = MessageBuilder(MilterSettings(spool_memory_limit=4), body_lines=False, leading_space=False)
    assert [kind for kind, _ in builder.end_of_headers()] == [END_OF_HEADERS]
    assert builder.body(b"a\r\nb\r\n") == [] and builder.finish() == []
    assert builder.message.body_bytes() == b"a\r\nb\r\n"
    builder.close()
