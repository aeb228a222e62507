"""ContentParser (logical headers, body to the spool, events) and the Message accessors."""

from __future__ import annotations

import io

from filterd.content import BODY, END_OF_HEADERS, HEADER, BodyLine, ContentParser, Header
from filterd.model import Message


def feed_all(parser: ContentParser, data: bytes) -> list[tuple[str, object]]:
    events = []
    for line in io.BytesIO(data):
        events += parser.feed_line(line)
    return events + parser.finish_events()


def kinds(events) -> list[str]:
    return [event for event, _ in events]


# --- headers -------------------------------------------------------------------------------------

def test_each_logical_header_is_one_event_in_order():
    parser = ContentParser(io.BytesIO())
    events = feed_all(parser, b"From: a@example.org\r\nTo: b@example.net\r\n\r\nhi\r\n")
    assert kinds(events) == [HEADER, HEADER, END_OF_HEADERS, BODY]
    assert [value.name for event, value in events if event == HEADER] == ["From", "To"]


def test_header_event_comes_when_the_next_line_starts():
    parser = ContentParser(io.BytesIO())
    assert parser.feed_line(b"Subject: one\r\n") == []
    [(event, header)] = parser.feed_line(b"To: x@example.net\r\n")
    assert (event, header.text) == (HEADER, "Subject: one")


def test_folded_header_keeps_raw_and_unfolds_value():
    parser = ContentParser(io.BytesIO())
    feed_all(parser, b"Subject: first part\r\n\tsecond part\r\n  third\r\nTo: x\r\n\r\n")
    subject = parser.headers[0]
    assert subject.raw == b"Subject: first part\r\n\tsecond part\r\n  third\r\n"
    assert subject.value == "first part\tsecond part  third"
    assert subject.text == "Subject: first part\n\tsecond part\n  third"
    assert len(parser.headers) == 2


def test_blank_line_ends_headers_and_is_not_body():
    spool = io.BytesIO()
    parser = ContentParser(spool)
    events = feed_all(parser, b"Subject: x\r\n\r\n\r\nsecond body line\r\n")
    assert kinds(events) == [HEADER, END_OF_HEADERS, BODY, BODY]
    assert spool.getvalue() == b"\r\nsecond body line\r\n"


def test_bare_lf_blank_line_ends_headers():
    parser = ContentParser(io.BytesIO())
    events = feed_all(parser, b"Subject: x\n\nbody\n")
    assert kinds(events) == [HEADER, END_OF_HEADERS, BODY]


def test_non_header_line_ends_headers_and_starts_the_body():
    spool = io.BytesIO()
    parser = ContentParser(spool)
    events = feed_all(parser, b"Subject: x\r\nthis is not a header\r\nTo: y\r\n")
    assert kinds(events) == [HEADER, END_OF_HEADERS, BODY, BODY]
    assert [h.name for h in parser.headers] == ["Subject"]
    assert spool.getvalue() == b"this is not a header\r\nTo: y\r\n"


def test_continuation_line_before_any_header_is_body():
    spool = io.BytesIO()
    parser = ContentParser(spool)
    events = feed_all(parser, b" indented first line\r\n")
    assert kinds(events) == [END_OF_HEADERS, BODY]
    assert parser.headers == []


def test_header_name_with_space_before_colon_is_a_header():
    parser = ContentParser(io.BytesIO())
    feed_all(parser, b"Subject : spaced\r\n\r\n")
    assert parser.headers[0].value == "spaced"


def test_headers_only_message_gets_end_of_headers_at_finish():
    parser = ContentParser(io.BytesIO())
    events = feed_all(parser, b"Subject: x\r\nTo: y")
    assert kinds(events) == [HEADER, HEADER, END_OF_HEADERS]
    assert parser.headers[1].raw == b"To: y\r\n"


def test_empty_message_has_only_end_of_headers():
    parser = ContentParser(io.BytesIO())
    assert parser.finish_events() == [(END_OF_HEADERS, None)]
    assert parser.finish_events() == []


def test_header_size_limit_truncates_the_header():
    parser = ContentParser(io.BytesIO(), header_size_limit=20)
    feed_all(parser, b"Subject: a very long subject line\r\n  continued here\r\nX: y\r\n\r\n")
    assert parser.headers[0].raw == b"Subject: a very long\r\n"
    assert parser.headers[1].raw == b"X: y\r\n"


def test_header_size_limit_applies_to_each_header_separately():
    parser = ContentParser(io.BytesIO(), header_size_limit=12)
    feed_all(parser, b"A: 123456789012345\r\nB: 123456789012345\r\n\r\n")
    assert [h.raw for h in parser.headers] == [b"A: 123456789\r\n", b"B: 123456789\r\n"]


def test_header_truncated_between_cr_and_lf_ends_in_one_crlf():
    parser = ContentParser(io.BytesIO(), header_size_limit=13)
    feed_all(parser, b"Subject: abc\r\n\r\n")
    assert parser.headers[0].raw == b"Subject: abc\r\n"
    assert parser.headers[0].value == "abc"


def test_overlong_header_in_fragments_is_one_header():
    parser = ContentParser(io.BytesIO())
    events = []
    for piece in (b"Subject: ", b"x" * 50, b"y" * 50 + b"\r\n", b"\r\n"):
        events += parser.feed_line(piece)
    assert kinds(events) == [HEADER, END_OF_HEADERS]
    assert parser.headers[0].value == "x" * 50 + "y" * 50


def test_fragment_looking_like_a_blank_line_inside_a_header_does_not_end_headers():
    parser = ContentParser(io.BytesIO())
    events = []
    for piece in (b"Subject: abc", b"\r\n", b"To: x\r\n", b"\r\n"):
        events += parser.feed_line(piece)
    assert kinds(events) == [HEADER, HEADER, END_OF_HEADERS]
    assert [h.text for h in parser.headers] == ["Subject: abc", "To: x"]


# --- body ----------------------------------------------------------------------------------------

def test_body_goes_to_the_spool_not_to_the_headers():
    spool = io.BytesIO()
    parser = ContentParser(spool)
    feed_all(parser, b"Subject: x\r\n\r\nline one\r\nline two\r\n")
    assert spool.getvalue() == b"line one\r\nline two\r\n"
    assert b"line" not in b"".join(h.raw for h in parser.headers)


def test_body_events_carry_each_line_with_its_ending():
    parser = ContentParser(io.BytesIO())
    events = feed_all(parser, b"S: x\r\n\r\none\r\ntwo\r\n")
    assert [value for event, value in events if event == BODY] == [BodyLine(0, b"one\r\n"), BodyLine(1, b"two\r\n")]


def test_no_body_events_when_unwanted_but_body_still_spooled():
    spool = io.BytesIO()
    parser = ContentParser(spool, want_body_events=False)
    events = feed_all(parser, b"S: x\r\n\r\none\r\ntwo\r\n")
    assert kinds(events) == [HEADER, END_OF_HEADERS]
    assert spool.getvalue() == b"one\r\ntwo\r\n"


def test_body_line_looking_like_a_header_stays_in_the_body():
    parser = ContentParser(io.BytesIO())
    feed_all(parser, b"S: x\r\n\r\nFrom: not a header\r\n")
    assert [h.name for h in parser.headers] == ["S"]


def test_a_message_from_chunks_reads_its_body_from_the_spool(tmp_path):
    path = tmp_path / "spool"
    with open(path, "w+b") as spool:
        message = Message.from_chunks([b"Subject: x\r\n\r\nbo", b"dy\n"], spool)
        assert path.read_bytes() == b"body\r\n"
        assert message.body_bytes() == b"body\r\n"
        assert message.as_bytes() == b"Subject: x\r\n\r\nbody\r\n"


# --- Message accessors ---------------------------------------------------------------------------

SAMPLE = (
    b"Received: from a\r\nReceived: from b\r\nSubject: Hello\r\n world\r\nX-Empty:\r\n\r\n"
    b"first\r\nsecond\r\n"
)


def test_get_is_case_insensitive_and_returns_the_first():
    message = Message.from_bytes(SAMPLE)
    assert message.get("received") == "from a"
    assert message.get("SUBJECT") == "Hello world"
    assert message["Subject"] == "Hello world"


def test_get_missing_returns_default():
    message = Message.from_bytes(SAMPLE)
    assert message.get("X-Missing") is None
    assert message.get("X-Missing", "dflt") == "dflt"
    assert "X-Missing" not in message
    assert "x-empty" in message


def test_get_all_returns_every_value_in_order():
    message = Message.from_bytes(SAMPLE)
    assert message.get_all("Received") == ["from a", "from b"]
    assert message.get_all("X-Missing") == []


def test_body_lines_streams_lines_with_crlf():
    assert list(Message.from_bytes(SAMPLE).body_lines()) == [b"first\r\n", b"second\r\n"]


def test_body_lines_can_be_read_twice():
    message = Message.from_bytes(SAMPLE)
    assert list(message.body_lines()) == list(message.body_lines())


def test_as_bytes_round_trips_a_crlf_message():
    assert Message.from_bytes(SAMPLE).as_bytes() == SAMPLE


def test_size_counts_headers_blank_line_and_body():
    message = Message.from_bytes(SAMPLE)
    assert message.size == len(SAMPLE)
    assert message.body_size == len(b"first\r\nsecond\r\n")


def test_as_email_parses_with_the_standard_library():
    parsed = Message.from_bytes(SAMPLE).as_email()
    assert parsed["Subject"] == "Hello world"
    assert parsed.get_content().splitlines() == ["first", "second"]


def test_from_bytes_normalises_lf_only_input_to_crlf():
    message = Message.from_bytes(b"Subject: hi\n\tthere\nTo: x\n\nline 1\nline 2\n")
    assert message.headers[0].raw == b"Subject: hi\r\n\tthere\r\n"
    assert message.get("subject") == "hi\tthere"
    assert message.as_bytes() == b"Subject: hi\r\n\tthere\r\nTo: x\r\n\r\nline 1\r\nline 2\r\n"


def test_from_bytes_keeps_8bit_bytes():
    message = Message.from_bytes(b"Subject: caf\xc3\xa9 \xff\r\n\r\n\xff\x00\r\n")
    assert message.get("Subject") == "caf\xe9 \udcff"
    assert message.as_bytes() == b"Subject: caf\xc3\xa9 \xff\r\n\r\n\xff\x00\r\n"


def test_header_make_and_accessors():
    header = Header.make("X-Tag", "value")
    assert (header.raw, header.name, header.value, header.text) == (b"X-Tag: value\r\n", "X-Tag", "value", "X-Tag: value")


def test_settled_holds_what_a_whole_line_followed_as_postfix_s_cleanup_has_it():
    parser = ContentParser(io.BytesIO())
    parser.feed_line(b"Message-ID: <m@x>\r\n")
    assert parser.settled() == ([], False)
    parser.feed_line(b"Subject: ")
    assert [h.name for h in parser.headers] == ["Message-ID"] and parser.settled() == ([], False)
    parser.feed_line(b"s\r\n")
    assert [h.name for h in parser.settled()[0]] == ["Message-ID"]
    parser.feed_line(b"\r\n")
    assert [h.name for h in parser.settled()[0]] == ["Message-ID", "Subject"] and parser.settled()[1]


def test_body_fed_in_bulk_is_spooled_and_counted_as_line_by_line():
    body = b"one\r\n.two\r\n\r\nthree"
    by_line, bulk = ContentParser(io.BytesIO(), want_body_events=False), ContentParser(io.BytesIO())
    for parser in (by_line, bulk):
        parser.feed_line(b"Subject: x\r\n")
        parser.feed_line(b"\r\n")
    for line in (b"one\r\n", b".two\r\n", b"\r\n", b"three"):
        by_line.feed_line(line)
    bulk.feed_body(body)
    assert bulk.spool.getvalue() == by_line.spool.getvalue() == body
    assert bulk.body_line_count == by_line.body_line_count == 3
    assert [(len(headers), ended) for headers, ended in (bulk.settled(), by_line.settled())] == [(1, True)] * 2
