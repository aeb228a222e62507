"""The policy codec fuzzed (hypothesis): arbitrary bytes framed at arbitrary splits give the same records or the
same ProtocolError, and never anything else; any record that can be sent comes back as it went."""

from __future__ import annotations

from hypothesis import given, strategies as st

from filterd.policy.protocol import MAX_LINE, ProtocolError, RecordReader, check_request, encode, encode_reply
from tests.fixtures.fuzzing import budget

NAME = st.text(st.characters(blacklist_characters="=\n\0\r", blacklist_categories=["Cs"]), min_size=1, max_size=20)
VALUE = st.text(st.characters(blacklist_characters="\n\0", blacklist_categories=["Cs"]), max_size=40).filter(
    lambda value: not value.endswith("\r"))
RECORDS = st.lists(st.dictionaries(NAME, VALUE, min_size=1, max_size=6), min_size=1, max_size=4)


def outcome(reader: RecordReader, pieces: list[bytes]) -> list | str:
    try:
        records = [record for piece in pieces for record in reader.feed(piece)]
    except ProtocolError:
        return "error"
    for record in records:
        try:
            check_request(record)
        except ProtocolError:
            pass
    return records


def check_stream(data: bytes, cuts: list[int]) -> None:
    """The stream cut anywhere gives what it gives whole; a record never holds a line over the limit."""
    whole = outcome(RecordReader(), [data])
    pieces = [data[a:b] for a, b in zip([0] + cuts, cuts + [len(data)])]
    cut = outcome(RecordReader(), pieces)
    if whole != "error":
        assert cut == whole
        assert all(len(f"{name}={value}".encode()) <= MAX_LINE for record in whole for name, value in record.items())


@budget(300)
@given(st.binary(max_size=300), st.lists(st.integers(0, 300), max_size=4))
def test_any_bytes_frame_alike_at_any_split_or_fail_with_protocol_error(data, cuts):
    check_stream(data, sorted(cut % (len(data) + 1) for cut in cuts))


@budget(300)
@given(st.lists(st.sampled_from([b"request=smtpd_access_policy\n", b"a=b\n", b"\n", b"=\n", b"x\n", b"\r\n",
                                 b"size=12\n", b"size=q\n", b"\xff=1\n"]), max_size=12), st.integers(0, 100))
def test_lines_that_look_like_requests_frame_alike_at_any_split(lines, cut):
    data = b"".join(lines)
    check_stream(data, [cut % (len(data) + 1)])


@budget(200)
@given(RECORDS)
def test_every_record_that_can_be_sent_comes_back_as_it_went(records):
    data = b"".join(encode(record) for record in records)
    assert RecordReader().feed(data) == records


@budget(100)
@given(st.text(max_size=60))
def test_any_action_makes_a_reply_that_reads_back(action):
    [record] = RecordReader(max_line=10**6).feed(encode_reply(action))
    assert set(record) == {"action"} and "\n" not in record["action"]
