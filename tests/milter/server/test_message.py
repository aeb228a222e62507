"""The body as the milter carries it, split into lines and gathered into a message: strings only."""

import pytest

from filterd.content import BODY, END_OF_HEADERS
from filterd.milter.server.message import LineSplitter, MessageBuilder
from filterd.milter.server.settings import MilterSettings

BODY_TEXT = b"first line\r\n\r\nthird, longer line of the body\r\nno newline at the end"


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
