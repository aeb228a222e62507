"""The header_checks plugin's MIME parser fuzzed (hypothesis): any primary headers and body records, Content-Type
values of any tokens included, are each inspected exactly once, in order, and the parser's state stays bounded
(the multipart stack by the nesting limit, a pending header by header_size_limit and one record)."""

from __future__ import annotations

from hypothesis import given, strategies as st

from filterd.plugins.header_checks.mime_state import BODY_CHECKS, MIME_ERROR, MimeState
from tests.fixtures.fuzzing import budget

VALUE_PIECES = [b"multipart", b"message", b"text", b"/", b"mixed", b"digest", b"rfc822", b"plain", b";", b" ",
                b"boundary", b"=", b'"', b"b1", b"b2", b"(", b")", b"\\", b"\n ", b"\x00", b"\xff", b"BOUNDARY"]
CONTENT_TYPE = st.lists(st.sampled_from(VALUE_PIECES), max_size=10).map(lambda v: b"Content-Type:" + b"".join(v))
RECORDS = st.one_of(CONTENT_TYPE, st.sampled_from(
    [b"", b"text", b"--b1", b"--b1--", b"--b2", b"--b2--", b"--", b"----", b"Subject: s", b" folded", b"\tmore",
     b"X-Part : p", b":", b"Content-Type: multipart/mixed; boundary=b1", b"Content-Type: message/rfc822"]))


def inspect(headers: list[bytes], records: list[tuple[bytes, bool]], limit: int) -> list[int]:
    """The body line numbers each Piece covers, in the order they come out; the state checked after each record."""
    state = MimeState(nesting_limit=3, header_limit=limit)
    for header in headers:
        state.primary_header(header)
    state.end_of_primary()
    seen: list[int] = []
    for index, (line, more) in enumerate(records):
        more = more and index < len(records) - 1
        for piece in state.record(line, index, more):
            if piece.table != MIME_ERROR:
                seen += [piece.first] if piece.table == BODY_CHECKS else list(range(piece.first, piece.last + 1))
        assert len(state.stack) <= state.nesting_limit + 2
        assert len(state.pending) <= limit + 1 + max(len(line) for line, _ in records)
    for piece in state.finish():
        seen += list(range(piece.first, piece.last + 1))
    return seen


@given(st.lists(CONTENT_TYPE, max_size=3), st.lists(st.tuples(RECORDS, st.booleans()), max_size=40),
       st.integers(5, 200))
@budget(300)
def test_any_structure_is_inspected_once_with_bounded_state(headers, records, limit):
    seen = inspect(headers, records, limit)
    assert seen == list(range(len(records)))


@given(st.integers(1, 400))
@budget(20)
def test_deep_multipart_nesting_stops_at_the_limit(depth):
    records = [(f"Content-Type: multipart/mixed; boundary=b{i}".encode(), False) for i in range(depth)]
    records = [record for i, record in enumerate(records) for record in (record, (b"", False), (f"--b{i}".encode(),
                                                                                                 False))]
    assert inspect([b"Content-Type: multipart/mixed; boundary=top"], [(b"--top", False), *records], 1000) == \
        list(range(len(records) + 1))
