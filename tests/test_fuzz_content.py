"""The content parser fuzzed (hypothesis): any content, cut into pieces anywhere a socket might, becomes headers and
body whose bytes are the content's (the blank line between them aside), each header within header_size_limit;
a Header made from a name and value gives them back."""

from __future__ import annotations

import io

from hypothesis import given, strategies as st

from filterd.content import BODY, END_OF_HEADERS, HEADER, ContentParser, Header, crlf_lines
from tests.fixtures.fuzzing import budget

LINES = st.lists(st.sampled_from([b"Subject: x", b"From : a", b" folded", b"\tfolded", b"", b"body", b"X-A:",
                                  b":", b"no colon", b"\xff\xfe: 8bit", b"a" * 70, b"To: b\r", b"\x00: nul"]),
                 max_size=12)


def pieces(lines: list[bytes], ending: bytes, cuts: list[int]) -> list[bytes]:
    """The lines with their endings, each overlong one cut in pieces as DATA decoding hands them over."""
    out = []
    for line in lines:
        whole, start = line + ending, 0
        for cut in sorted(c for c in cuts if 0 < c < len(whole)):
            out.append(whole[start:cut])
            start = cut
        out.append(whole[start:])
    return out


def parse(content: list[bytes], limit: int) -> tuple[ContentParser, bytes, list]:
    spool = io.BytesIO()
    parser = ContentParser(spool, limit)
    events = [event for piece in content for event in parser.feed_line(piece)] + parser.finish_events()
    return parser, spool.getvalue(), events


@given(LINES, st.sampled_from([b"\r\n", b"\n"]), st.lists(st.integers(1, 80), max_size=3))
@budget(300)
def test_headers_and_body_are_the_content(lines, ending, cuts):
    content = pieces(lines, ending, cuts)
    parser, body, events = parse(content, 102400)
    headers = b"".join(header.raw for header in parser.headers)
    data = b"".join(content)
    assert data in (headers + body, headers + ending + body)
    assert [kind for kind, _ in events].count(END_OF_HEADERS) == 1
    assert [value for kind, value in events if kind == HEADER] == parser.headers
    assert b"".join(value.raw for kind, value in events if kind == BODY) == body


@given(LINES, st.lists(st.integers(1, 80), max_size=3), st.integers(1, 40))
@budget(300)
def test_no_header_grows_past_header_size_limit(lines, cuts, limit):
    content = pieces(lines, b"\r\n", cuts)
    parser, body, _ = parse(content, limit)
    assert all(len(header.raw) <= limit + 2 and header.raw.endswith(b"\n") for header in parser.headers)
    assert len(body) <= len(b"".join(content))


@given(st.lists(st.binary(max_size=30), max_size=6))
@budget(200)
def test_any_chunks_make_crlf_lines_of_the_same_text(chunks):
    lines = list(crlf_lines(chunks))
    assert b"".join(lines).replace(b"\r\n", b"\n") == b"".join(chunks).replace(b"\r\n", b"\n") or \
        b"".join(chunks).replace(b"\r\n", b"\n").endswith(b"\r")
    assert all(line.endswith(b"\r\n") for line in lines[:-1])


@given(st.text(st.characters(blacklist_characters=":\r\n", blacklist_categories=["Cs", "Zs", "Cc"]),
               min_size=1, max_size=10),
       st.text(st.characters(blacklist_characters="\r\n", blacklist_categories=["Cs"]), max_size=30))
@budget(300)
def test_a_header_made_from_a_name_and_value_gives_them_back(name, value):
    value = value.strip(" \t")
    header = Header.make(name, value)
    assert (header.name, header.value) == (name, value)
    assert Header(header.raw).text == f"{name}: {value}"
