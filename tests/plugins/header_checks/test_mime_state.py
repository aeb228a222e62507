"""The MIME structure tracker, bytes in and Pieces out, as Postfix's mime_state(3) classifies content."""

from __future__ import annotations

from hypothesis import given, settings, strategies as st

from filterd.plugins.header_checks.mime_state import (BODY_CHECKS, HEADER_CHECKS, MIME_ERROR, MIME_HEADER_CHECKS,
                                        NESTED_HEADER_CHECKS, MimeState, header_name_length)
from filterd.plugins.header_checks.mime_tokens import QSTRING, RFC2045_TSPECIALS, TOKEN, header_tokens


def feed(state: MimeState, headers: list[bytes], body: list[bytes]):
    """Primary headers then body lines; the body's Pieces as (table, text, first, last, offset)."""
    out = []
    for header in headers:
        state.primary_header(header)
    state.end_of_primary()
    for index, line in enumerate(body):
        out += state.record(line, index)
    out += state.finish()
    return [(p.table, p.text, p.first, p.last, p.offset) for p in out]


MULTIPART = [b"MIME-Version: 1.0", b'Content-Type: multipart/mixed; boundary="b1"']


def test_primary_headers_go_to_header_checks_and_mime_headers_to_mime_header_checks():
    state = MimeState()
    tables = [piece.table for h in (b"Subject: x", b"Content-Type: text/plain", b"MIME-Version: 1.0",
                                    b"content-disposition: inline", b"Content-Length: 3", b"Content-ID: <x>")
              for piece in state.primary_header(h)]
    assert tables == [HEADER_CHECKS, MIME_HEADER_CHECKS, MIME_HEADER_CHECKS, MIME_HEADER_CHECKS, HEADER_CHECKS,
                      MIME_HEADER_CHECKS]


def test_the_obsolete_space_before_the_colon_is_dropped():
    [piece] = MimeState().primary_header(b"Subject : hello")
    assert piece.text == b"Subject: hello"


def test_multipart_headers_boundaries_and_body_lines():
    body = [b"preamble", b"--b1", b"Content-Type: text/plain", b"X-Folded: one", b" two", b"", b"text",
            b"--b1--", b"epilogue"]
    assert feed(MimeState(), MULTIPART, body) == [
        (BODY_CHECKS, b"preamble", 0, 0, 1),
        (BODY_CHECKS, b"--b1", 1, 1, 10),
        (MIME_HEADER_CHECKS, b"Content-Type: text/plain", 2, 2, 0),
        (MIME_HEADER_CHECKS, b"X-Folded: one\n two", 3, 4, 0),
        (BODY_CHECKS, b"", 5, 5, 0),
        (BODY_CHECKS, b"text", 6, 6, 1),
        (BODY_CHECKS, b"--b1--", 7, 7, 0),
        (BODY_CHECKS, b"epilogue", 8, 8, 7),
    ]


def test_attached_message_headers_are_nested_except_mime_ones():
    body = [b"--b1", b"Content-Type: message/rfc822", b"", b"Subject: inner", b"Content-Type: text/plain",
            b"", b"inner body", b"--b1--"]
    tables = [(table, text) for table, text, *_ in feed(MimeState(), MULTIPART, body) if table != BODY_CHECKS]
    assert tables == [(MIME_HEADER_CHECKS, b"Content-Type: message/rfc822"),
                      (NESTED_HEADER_CHECKS, b"Subject: inner"),
                      (MIME_HEADER_CHECKS, b"Content-Type: text/plain")]


def test_digest_parts_default_to_attached_messages():
    headers = [b"Content-Type: multipart/digest; boundary=d"]
    body = [b"--d", b"", b"Subject: in digest", b"", b"text", b"--d--"]
    assert (NESTED_HEADER_CHECKS, b"Subject: in digest", 2, 2, 0) in feed(MimeState(), headers, body)


def test_message_partial_is_not_followed_into():
    headers = [b"Content-Type: message/partial; number=1"]
    assert feed(MimeState(), headers, [b"Subject: not a header here"]) == [
        (BODY_CHECKS, b"Subject: not a header here", 0, 0, 1)]


def test_a_type_other_than_text_message_or_multipart_leaves_the_type_alone():
    state = MimeState()
    state.primary_header(b"Content-Type: message/rfc822")
    state.primary_header(b"Content-Type: application/octet-stream")
    state.end_of_primary()
    assert state.record(b"Subject: nested after all", 0) == []
    assert state.finish()[0].table == NESTED_HEADER_CHECKS


def test_boundaries_quoted_commented_uppercase_and_several():
    for header in (b'Content-Type: multipart/mixed; boundary="a b"', b"Content-Type: multipart/mixed;"
                   b" boundary=(c) a b", b"Content-Type: Multipart/Mixed; BOUNDARY=\"a b\"",
                   b"Content-Type: multipart/mixed; boundary=x; boundary=\"a b\""):
        pieces = feed(MimeState(), [header], [b"--a b", b"X-Part: 1", b"", b"--a b--"])
        assert (MIME_HEADER_CHECKS, b"X-Part: 1", 1, 1, 0) in pieces, header


def test_trailing_cruft_after_a_boundary_is_ignored_and_outer_boundaries_close_inner_parts():
    body = [b"--b1 cruft", b"Content-Type: multipart/alternative; boundary=b2", b"", b"--b2", b"", b"alt",
            b"--b1", b"X-Outer: 1", b"", b"--b1--"]
    pieces = feed(MimeState(), MULTIPART, body)
    assert (MIME_HEADER_CHECKS, b"X-Outer: 1", 7, 7, 0) in pieces


def test_a_part_whose_headers_end_without_an_empty_line():
    body = [b"--b1", b"X-Part: 1", b"body text", b"--b1--"]
    assert feed(MimeState(), MULTIPART, body)[1:] == [
        (MIME_HEADER_CHECKS, b"X-Part: 1", 1, 1, 0), (BODY_CHECKS, b"body text", 2, 2, 0),
        (BODY_CHECKS, b"--b1--", 3, 3, 0)]


def test_pieces_of_a_long_line_join_in_headers_and_hide_boundaries_in_the_body():
    state = MimeState()
    state.primary_header(MULTIPART[1])
    state.end_of_primary()
    assert state.record(b"--b1", 0) != []
    assert state.record(b"X-Long: ab", 1, more=True) == []
    assert state.record(b"cd", 1) == []
    [header, empty] = state.record(b"", 2)
    assert (header.text, header.first, header.last) == (b"X-Long: abcd", 1, 1)
    state.record(b"x" * 10, 3, more=True)
    state.record(b"--b1--", 3)
    assert state.stack


def test_the_body_offset_starts_again_in_each_segment():
    body = [b"--b1", b"", b"a" * 99, b"b", b"--b1", b"", b"c"]
    offsets = [(text[:1], offset) for table, text, _, _, offset in feed(MimeState(), MULTIPART, body)]
    assert offsets == [(b"-", 1), (b"", 0), (b"a", 1), (b"b", 101), (b"-", 103), (b"", 0), (b"c", 1)]


def test_headers_longer_than_the_limit_are_cut_a_line_at_a_time():
    state = MimeState(header_limit=10)
    feed_lines = [b"--b1", b"X-Big: 123456789", b" more", b" even more", b""]
    state.primary_header(MULTIPART[1])
    state.end_of_primary()
    pieces = [piece for index, line in enumerate(feed_lines) for piece in state.record(line, index)]
    assert pieces[1].text == b"X-Big: 123456789" and (pieces[1].first, pieces[1].last) == (1, 3)


def test_long_boundaries_are_cut_at_the_limit_and_match_as_prefixes():
    state = MimeState(boundary_limit=3)
    pieces = feed(state, [b"Content-Type: multipart/mixed; boundary=abcdef"], [b"--abcXYZ", b"X-P: 1", b""])
    assert (MIME_HEADER_CHECKS, b"X-P: 1", 1, 1, 0) in pieces


def test_nesting_beyond_the_limit_is_reported_once():
    body = []
    for level in range(5):
        body += [f"--d{level}".encode(), f"Content-Type: multipart/mixed; boundary=d{level + 1}".encode(), b""]
    pieces = feed(MimeState(nesting_limit=2), [b"Content-Type: multipart/mixed; boundary=d0"], body)
    errors = [(text, first) for table, text, first, _, _ in pieces if table == MIME_ERROR]
    assert errors == [(b"Content-Type: multipart/mixed; boundary=d4", 10)]


def test_nesting_errors_are_not_reported_without_header_checks():
    pieces = feed(MimeState(nesting_limit=0, report_nesting=False),
                  [b"Content-Type: multipart/mixed; boundary=a; boundary=b; boundary=c"], [])
    assert MIME_ERROR not in [table for table, *_ in pieces]


def test_disabled_mime_processing_treats_everything_after_the_primary_headers_as_body():
    pieces = feed(MimeState(disabled=True), MULTIPART, [b"--b1", b"X-Part: 1", b""])
    assert [table for table, *_ in pieces] == [BODY_CHECKS] * 3


def test_a_header_still_open_at_the_end_comes_from_finish():
    state = MimeState()
    state.primary_header(b"Content-Type: message/rfc822")
    state.end_of_primary()
    assert state.record(b"Subject: last", 0) == []
    assert [(p.table, p.text) for p in state.finish()] == [(NESTED_HEADER_CHECKS, b"Subject: last")]


def test_header_names_as_postfix_recognises_them():
    assert header_name_length(b"Subject: x") == 7
    assert header_name_length(b"X-A \t : x") == 3
    assert header_name_length(b"Sub ject: x") == 0
    assert header_name_length(b": x") == 0
    assert header_name_length(b"Caf\xc3\xa9: x") == 0


def test_header_tokens_skip_comments_unquote_and_stop_at_the_terminator():
    value = b' multipart/mixed (a (nested) comment) ; boundary="a \\"b\\"\n c"; x=y'
    tokens, pos = header_tokens(value, 0, 3, RFC2045_TSPECIALS, ord(";"))
    assert [(t.kind, t.value) for t in tokens] == [(TOKEN, b"multipart"), (ord("/"), b"/"), (TOKEN, b"mixed")]
    tokens, pos = header_tokens(value, pos, 3, RFC2045_TSPECIALS, ord(";"))
    assert [(t.kind, t.value) for t in tokens] == [(TOKEN, b"boundary"), (ord("="), b"="), (QSTRING, b'a "b" c')]
    tokens, pos = header_tokens(value, pos, 3, RFC2045_TSPECIALS, ord(";"))
    assert [t.value for t in tokens] == [b"x", b"=", b"y"]
    assert header_tokens(value, pos, 3, RFC2045_TSPECIALS, ord(";")) == (None, len(value))
    assert header_tokens(b" ; ", 0, 3, RFC2045_TSPECIALS, ord(";"))[0] == []


LINES = st.sampled_from([b"", b"text", b"--b1", b"--b1--", b"--b2", b"--b2--", b"Subject: s", b" folded",
                         b"Content-Type: multipart/mixed; boundary=b2", b"Content-Type: message/rfc822",
                         b"Content-Type: multipart/digest; boundary=b1", b"X-Part: p", b"\tmore"])


@settings(max_examples=300, deadline=None)
@given(st.lists(st.tuples(LINES, st.booleans()), max_size=40))
def test_every_record_is_inspected_exactly_once(records):
    """Whatever the structure, each body line lands in one header or one body piece, in order."""
    state = MimeState()
    for header in MULTIPART:
        state.primary_header(header)
    state.end_of_primary()
    seen: list[int] = []
    for index, (line, more) in enumerate(records):
        more = more and index < len(records) - 1
        for piece in state.record(line, index, more):
            seen += [piece.first] if piece.table == BODY_CHECKS else list(range(piece.first, piece.last + 1))
    for piece in state.finish():
        seen += list(range(piece.first, piece.last + 1))
    assert sorted(set(seen)) == list(range(len(records)))
    assert seen == sorted(seen)
