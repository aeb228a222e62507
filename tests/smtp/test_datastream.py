"""The DATA phase at the protocol level, bytes only: end of data, SMTP smuggling, bare newlines,
dot-unstuffing, the size limit, and pieces as asyncio's readuntil(b"\\n") with a limit hands them over."""

from __future__ import annotations

import asyncio
import dataclasses
import re

import pytest
from hypothesis import example, given, settings
from hypothesis import strategies as st

from filterd.smtp.datastream import NORMALIZE, REJECT, DataDecoder
from filterd.smtp.reader import CommandReader, read_data_piece

END = b".\r\n"


def _split_lf(data: bytes) -> list[bytes]:
    out, start = [], 0
    while (i := data.find(b"\n", start)) != -1:
        out.append(data[start:i + 1])
        start = i + 1
    if start < len(data):
        out.append(data[start:])
    return out


def readuntil_pieces(data: bytes, limit: int) -> list[bytes]:
    """What readuntil(b"\\n") with `limit` gives: whole lines up to limit, longer lines in limit-sized fragments."""
    pieces = []
    for line in _split_lf(data):
        if len(line) <= limit:
            pieces.append(line)
        else:
            pieces.extend(line[i:i + limit] for i in range(0, len(line), limit))
    return pieces


def split_once(data: bytes, offset: int, min_line: int = 4) -> list[bytes]:
    """Whole lines, except the line holding `offset` is cut there (only lines longer than `min_line`,
    since readuntil never fragments a line shorter than its limit)."""
    pieces, pos = [], 0
    for line in _split_lf(data):
        cut = offset - pos
        if len(line) > min_line and 0 < cut < len(line):
            pieces.extend([line[:cut], line[cut:]])
        else:
            pieces.append(line)
        pos += len(line)
    return pieces


def decode(pieces: list[bytes], **options) -> tuple[bytes, DataDecoder, int]:
    """Feed pieces until the decoder says data ended; returns content, decoder and pieces consumed."""
    decoder = DataDecoder(**options)
    out = []
    for used, piece in enumerate(pieces, 1):
        out.append(decoder.feed(piece))
        if decoder.state.ended:
            return b"".join(out), decoder, used
    return b"".join(out), decoder, len(pieces)


def all_splittings(data: bytes):
    """Line by line, readuntil fragments for every limit, and a single cut at every offset."""
    yield "lines", _split_lf(data)
    for limit in range(4, len(data) + 1):
        yield f"limit={limit}", readuntil_pieces(data, limit)
    for offset in range(1, len(data)):
        yield f"cut={offset}", split_once(data, offset)


# --- the only end of data ------------------------------------------------------------------------

def test_crlf_dot_crlf_ends_data():
    content, decoder, used = decode([b"Subject: x\r\n", b"\r\n", b"hello\r\n", END, b"QUIT\r\n"])
    assert decoder.state.ended
    assert used == 4
    assert content == b"Subject: x\r\n\r\nhello\r\n"


def test_dot_crlf_as_the_first_line_ends_data():
    content, decoder, _ = decode([END])
    assert decoder.state.ended
    assert content == b""


def test_nothing_is_returned_after_the_end():
    decoder = DataDecoder()
    decoder.feed(END)
    assert decoder.feed(b"MAIL FROM:<x>\r\n") == b""


@pytest.mark.parametrize("smuggled", [b"\n.\n", b"\r.\n", b"\n.\r\n", b"\r.\r\n", b"\r\n.\n"], ids=repr)
def test_smuggled_end_of_data_is_content(smuggled):
    data = b"Subject: x\r\n\r\nbody" + smuggled + b"MAIL FROM:<evil@example.org>\r\n" + b"\r\n" + END
    for how, pieces in all_splittings(data):
        content, decoder, used = decode(pieces)
        assert decoder.state.ended, how
        assert used == len(pieces), how
        assert content.endswith(b"MAIL FROM:<evil@example.org>\r\n\r\n"), how


@pytest.mark.parametrize("data, expected", [
    (b"body\n.\nnext\r\n", b"body\r\n\r\nnext\r\n"),
    (b"body\r.\nnext\r\n", b"body\r\n.\r\nnext\r\n"),
    (b"body\n.\r\nnext\r\n", b"body\r\n\r\nnext\r\n"),
    (b"body\r.\r\nnext\r\n", b"body\r\n.\r\nnext\r\n"),
    (b"body\r\n.\nnext\r\n", b"body\r\n\r\nnext\r\n"),
], ids=repr)
def test_smuggled_sequences_come_out_as_crlf_content_lines(data, expected):
    content, decoder, _ = decode(_split_lf(data + END))
    assert decoder.state.ended
    assert content == expected


def test_dot_lf_alone_never_ends_data():
    content, decoder, _ = decode([b".\n", b"after\r\n"])
    assert not decoder.state.ended
    assert decoder.state.bare_newline
    assert content == b"\r\nafter\r\n"


def test_dot_crlf_after_a_bare_lf_line_is_not_the_end():
    decoder = DataDecoder()
    decoder.feed(b"line\n")
    assert decoder.feed(END) == b"\r\n"
    assert not decoder.state.ended


def test_dot_crlf_after_an_overlong_line_that_ended_in_crlf_is_the_end():
    decoder = DataDecoder()
    for piece in (b"x" * 10, b"y" * 10 + b"\r", b"\n"):
        decoder.feed(piece)
    decoder.feed(END)
    assert decoder.state.ended


def test_dot_crlf_inside_an_overlong_line_is_content():
    decoder = DataDecoder()
    assert decoder.feed(b"x" * 10) == b"x" * 10
    assert decoder.feed(END) == END
    assert not decoder.state.ended


def test_dot_crlf_after_a_fragment_ending_in_bare_lf_line_is_not_the_end():
    decoder = DataDecoder()
    for piece in (b"x" * 10, b"\n"):
        decoder.feed(piece)
    assert decoder.state.bare_newline
    decoder.feed(END)
    assert not decoder.state.ended


# --- bare newlines -------------------------------------------------------------------------------

def test_bare_lf_is_normalised_to_crlf_and_flagged():
    decoder = DataDecoder(bare_newline=NORMALIZE)
    assert decoder.feed(b"one\r\n") == b"one\r\n"
    assert not decoder.state.bare_newline
    assert decoder.feed(b"two\n") == b"two\r\n"
    assert decoder.state.bare_newline


def test_bare_lf_split_from_its_line_is_normalised():
    decoder = DataDecoder()
    assert decoder.feed(b"two") + decoder.feed(b"\n") == b"two\r\n"
    assert decoder.state.bare_newline


def test_crlf_split_between_cr_and_lf_is_not_a_bare_newline():
    decoder = DataDecoder()
    assert decoder.feed(b"two\r") + decoder.feed(b"\n") == b"two\r\n"
    assert not decoder.state.bare_newline


def test_bare_cr_inside_a_line_is_content_not_a_bare_newline():
    decoder = DataDecoder(bare_newline=REJECT)
    assert decoder.feed(b"a\rb\r\n") == b"a\r\nb\r\n"
    assert not decoder.state.bare_newline


def test_reject_mode_flags_bare_lf_and_returns_nothing_from_it_on():
    decoder = DataDecoder(bare_newline=REJECT)
    assert decoder.feed(b"one\r\n") == b"one\r\n"
    assert decoder.feed(b"two\n") == b"two"
    assert decoder.state.bare_newline
    assert decoder.feed(b"three\r\n") == b""


def test_reject_mode_keeps_consuming_until_the_real_end():
    data = b"a\nb\r\n.\n" + b"c\r\n" + END + b"QUIT\r\n"
    content, decoder, used = decode(_split_lf(data), bare_newline=REJECT)
    assert decoder.state.ended
    assert decoder.state.bare_newline
    assert content == b"a"
    assert used == 5


def test_unknown_bare_newline_mode_means_normalize():
    assert DataDecoder(bare_newline="whatever").feed(b"x\n") == b"x\r\n"


# --- dot-unstuffing ------------------------------------------------------------------------------

@pytest.mark.parametrize("line, expected", [
    (b"..x\r\n", b".x\r\n"),
    (b"..\r\n", b".\r\n"),
    (b"...\r\n", b"..\r\n"),
    (b".x\r\n", b"x\r\n"),
    (b"x.\r\n", b"x.\r\n"),
    (b"x..y\r\n", b"x..y\r\n"),
], ids=repr)
def test_dot_unstuffing_removes_one_leading_dot(line, expected):
    assert DataDecoder().feed(line) == expected


def test_only_the_first_fragment_of_a_line_is_unstuffed():
    decoder = DataDecoder()
    assert decoder.feed(b"..abc") == b".abc"
    assert decoder.feed(b"..def\r\n") == b"..def\r\n"


def test_dotted_line_split_at_every_offset_comes_out_the_same():
    data = b"..leading dots and a long line\r\n" + END
    for how, pieces in all_splittings(data):
        content, decoder, _ = decode(pieces)
        assert decoder.state.ended, how
        assert content == b".leading dots and a long line\r\n", how


# --- size limit ----------------------------------------------------------------------------------

def test_size_limit_sets_too_big_and_stops_returning_content_at_the_limit():
    decoder = DataDecoder(size_limit=10)
    assert decoder.feed(b"1234567\r\n") == b"1234567\r\n"
    assert not decoder.state.too_big
    assert decoder.feed(b"xy\r\n") == b"x"
    assert decoder.feed(b"z\r\n") == b""
    assert decoder.state.too_big


def test_size_limit_keeps_consuming_until_the_end():
    data = b"0123456789\r\n" * 5 + END
    content, decoder, used = decode(_split_lf(data) + [b"QUIT\r\n"], size_limit=20)
    assert decoder.state.too_big
    assert decoder.state.ended
    assert used == 6
    assert content == b"0123456789\r\n01234567"
    assert decoder.state.size == 60


def test_size_counts_unstuffed_content():
    decoder = DataDecoder()
    decoder.feed(b"..x\r\n")
    assert decoder.state.size == 4


def test_no_size_limit_by_default():
    decoder = DataDecoder()
    decoder.feed(b"x" * 1_000_000 + b"\r\n")
    assert not decoder.state.too_big


# --- binary content and overlong lines -----------------------------------------------------------

def test_nul_and_8bit_bytes_pass_through():
    line = b"caf\xc3\xa9 \x00 \xff\xfe\x80\r\n"
    assert DataDecoder().feed(line) == line


def test_overlong_line_in_fragments_comes_out_intact():
    line = bytes(range(256)).replace(b"\n", b"").replace(b"\r", b"") * 40 + b"\r\n"
    data = b"Subject: long\r\n\r\n" + line + b"short\r\n" + END
    expected = data[:-len(END)]
    for limit in (4, 7, 64, 100, 1000, 4096, len(line) - 1):
        content, decoder, _ = decode(readuntil_pieces(data, limit))
        assert decoder.state.ended, limit
        assert not decoder.state.bare_newline, limit
        assert content == expected, limit


def test_whole_message_split_at_every_offset_comes_out_intact():
    data = b"Subject: x\r\n\r\n..dot\r\nplain line here\r\n\x00\xff binary\r\n" + END
    expected = b"Subject: x\r\n\r\n.dot\r\nplain line here\r\n\x00\xff binary\r\n"
    for how, pieces in all_splittings(data):
        content, decoder, used = decode(pieces)
        assert decoder.state.ended, how
        assert used == len(pieces), how
        assert content == expected, how
        assert not decoder.state.bare_newline, how


def test_empty_piece_is_ignored():
    decoder = DataDecoder()
    assert decoder.feed(b"") == b""
    assert decoder.feed(END) == b""
    assert decoder.state.ended


@pytest.mark.parametrize("data, expected", [
    (b"a\rb\r\n", b"a\r\nb\r\n"),
    (b"body\r.\r\n", b"body\r\n.\r\n"),
    (b"x\r\r\n", b"x\r\n\r\n"),
])
def test_a_bare_cr_leaves_as_crlf(data, expected):
    decoder = DataDecoder()
    assert decoder.feed(data) == expected
    assert decoder.state.bare_cr


def test_a_crlf_split_across_pieces_is_not_a_bare_cr():
    decoder = DataDecoder()
    assert decoder.feed(b"long\r") + decoder.feed(b"\n") == b"long\r\n"
    assert not decoder.state.bare_cr


# --- any cut, as the server's reader makes it --------------------------------------------------

LIMIT = 2048
"""The server's StreamReader limit (line_length_limit)."""
HEAD = b"Subject: x\r\n\r\n"
ATTACK = HEAD + b"A" * LIMIT + b"\r.\r\nMAIL FROM:<evil@example.org>\r\n"
"""A bare CR as the last byte of an overlong piece (LIMIT + 1 bytes), and ".\r\n" in the next read."""

_TOKENS = st.sampled_from([b"\r", b"\n", b".", b"\r\n", b"\r\n.", b".\r\n", b"\r\n.\r\n", b"\n.\n", b"\r.\r\n",
                           b"\r.\n", b"..", b"x", b"\x00\xff"])
_DATA = st.lists(st.one_of(_TOKENS, st.integers(1, 60).map(lambda n: b"A" * n), st.binary(max_size=4)),
                 max_size=40).map(b"".join)


async def read_as_the_server(arrivals: list[bytes], limit: int, decoder: DataDecoder, bulk: bool = True
                             ) -> tuple[bytes, bytes]:
    """Feed the arrivals to the server's reader and decode what read_data_lines takes from it, as _receive_data
    does (bulk=False: a piece at a time, as read_data_piece reads); returns the content and what is left in the
    reader after the end of data."""
    reader, out = CommandReader(limit=limit), []

    async def receive() -> None:
        while not decoder.state.ended:
            if bulk:
                out.append(decoder.feed_lines(await reader.read_data_lines()))
            else:
                out.append(decoder.feed(await read_data_piece(reader)))

    task = asyncio.ensure_future(receive())
    for chunk in arrivals:
        reader.feed_data(chunk)
        await asyncio.sleep(0)
    reader.feed_eof()
    try:
        await task
    except (ConnectionResetError, asyncio.CancelledError):
        pass
    return b"".join(out), await reader.read()


def arrivals_cut_at(data: bytes, offsets: list[int]) -> list[bytes]:
    cuts = [0, *sorted({o % (len(data) + 1) for o in offsets}), len(data)]
    return [data[a:b] for a, b in zip(cuts, cuts[1:]) if b > a]


def end_of_data(data: bytes) -> int | None:
    """Where the data really ends: just after the first <CR><LF>.<CR><LF> (or a first line ".\r\n")."""
    found = (b"\r\n" + data).find(b"\r\n.\r\n")
    return None if found == -1 else found + 3


@settings(max_examples=400, deadline=None)
@given(body=_DATA, terminated=st.booleans(), offsets=st.lists(st.integers(0, 10_000), max_size=12),
       limit=st.integers(2, 24), size_limit=st.sampled_from([0, 1, 17, 100]),
       mode=st.sampled_from([NORMALIZE, REJECT]), bulk=st.booleans())
@example(body=ATTACK[:-len(b"MAIL FROM:<evil@example.org>\r\n")], terminated=True, offsets=[len(HEAD) + LIMIT + 1],
         limit=LIMIT, size_limit=0, mode=NORMALIZE, bulk=True)
@example(body=b"x\r\n..y\r\n.\r\n", terminated=True, offsets=[], limit=LIMIT, size_limit=0, mode=NORMALIZE,
         bulk=True)
def test_any_cut_as_the_server_reads_gives_the_same_content_and_state(body, terminated, offsets, limit,
                                                                      size_limit, mode, bulk):
    data = body + (b"\r\n.\r\n" if terminated else b"") + b"QUIT\r\n"
    whole, expected, _ = decode(_split_lf(data), size_limit=size_limit, bare_newline=mode)
    decoder = DataDecoder(size_limit, mode)
    content, left = asyncio.run(read_as_the_server(arrivals_cut_at(data, offsets), limit, decoder, bulk))
    assert content == whole
    assert dataclasses.asdict(decoder.state) == dataclasses.asdict(expected.state)
    end = end_of_data(data)
    assert decoder.state.ended == (end is not None)
    assert left == (data[end:] if end is not None else b"")
    assert re.search(rb"\r(?!\n)|(?<!\r)\n", content) is None


@pytest.mark.parametrize("offset", range(len(HEAD) + LIMIT - 1, len(HEAD) + LIMIT + 4))
def test_a_bare_cr_at_the_end_of_an_overlong_piece_leaves_as_crlf(offset):
    decoder = DataDecoder()
    content, left = asyncio.run(read_as_the_server([ATTACK[:offset], ATTACK[offset:]], LIMIT, decoder))
    assert not decoder.state.ended and decoder.state.bare_cr
    assert content.endswith(b"A\r\n.\r\nMAIL FROM:<evil@example.org>\r\n")
    assert b"\r." not in content


TRICKY = (b"Subject: x\r\n\r\n..dot\r\nAAAAAAAA\r.\r\nAAAAAAA\r\r\n.\nAAAAAAAAA\n.\r\nAAAAAAAAAAAAAAAAAAAAA\r\n"
          b"x\r\r.\r\n\r.\n" + b"\r\n.\r\nQUIT\r\n")


def test_every_one_or_two_cuts_as_the_server_reads_give_the_same_content_and_state():
    whole, expected, _ = decode(_split_lf(TRICKY))
    assert expected.state.ended and expected.state.bare_cr and expected.state.bare_newline

    async def every_cut() -> list[tuple[int, int, bool]]:
        wrong = []
        for first in range(len(TRICKY)):
            for second in range(first, len(TRICKY)):
                for bulk in (False, True):
                    decoder = DataDecoder()
                    content, left = await read_as_the_server(arrivals_cut_at(TRICKY, [first, second]), 8, decoder,
                                                             bulk)
                    if (content, decoder.state, left) != (whole, expected.state, b"QUIT\r\n"):
                        wrong.append((first, second, bulk))
        return wrong

    assert asyncio.run(every_cut()) == []


@settings(max_examples=400, deadline=None)
@given(lines=st.lists(st.sampled_from([b"", b".", b"..", b".x", b"x", b"x.", b"AAAA", b"\r", b"\n", b"\r\n.",
                                       b".\r\n"]), max_size=12),
       ended=st.booleans(), size_limit=st.sampled_from([0, 1, 7, 30]), before=st.sampled_from([b"", b"a\n", b"a\r"]))
def test_lines_fed_at_once_give_what_they_give_one_by_one(lines, ended, size_limit, before):
    block = b"".join(line + b"\r\n" for line in lines) + (b".\r\n" if ended else b"")
    one, at_once = DataDecoder(size_limit), DataDecoder(size_limit)
    expected = one.feed(before) + b"".join(one.feed(piece) for piece in _split_lf(block))
    assert at_once.feed(before) + at_once.feed_lines(block) == expected
    assert at_once.state == one.state
    assert at_once.feed_lines(b"next\r\n") == one.feed(b"next\r\n")


def test_plain_lines_take_the_one_step_path():
    decoder = DataDecoder()
    assert decoder._plain(b"Subject: x\r\n\r\n..a\r\nb\r\n.\r\n") and not decoder._plain(b"a\r\n.\r\nb\r\n")
    assert decoder.feed_lines(b"Subject: x\r\n\r\n..a\r\nb\r\n.\r\n") == b"Subject: x\r\n\r\n.a\r\nb\r\n"
    assert decoder.state.ended and decoder.state.size == len(b"Subject: x\r\n\r\n.a\r\nb\r\n")


# --- BDAT's chunks: the same decoder without dot-stuffing -------------------------------------------------------

def chunked(pieces: list[bytes], **options) -> bytes:
    """What the decoder gives for BDAT's chunk bytes, the last line ended as BDAT LAST ends it."""
    decoder = DataDecoder(dot_stuffed=False, **options)
    return b"".join(decoder.feed(piece) for piece in pieces) + decoder.end_of_chunks()


def test_chunk_bytes_are_the_message_as_is_dots_and_all():
    assert chunked([b".\r\n", b"..x\r\n", b".\r\n"]) == b".\r\n..x\r\n.\r\n"


@pytest.mark.parametrize(("text", "stuffed"), [
    (b"Subject: a\r\n\r\nbody\r\n", b"Subject: a\r\n\r\nbody\r\n"),
    (b"one\ntwo\r\n.dot\r\n", b"one\ntwo\r\n..dot\r\n"),
    (b"a\rb\r\nc\r", b"a\rb\r\nc\r\r\n"),
    (b"no ending", b"no ending\r\n"),
    (b"cr ending\r", b"cr ending\r\r\n"),
], ids=["plain", "bare-lf-and-dot", "bare-cr", "no-ending", "cr-ending"])
def test_a_chunked_message_comes_out_as_data_gives_the_same_text(text, stuffed):
    """BDAT's bytes and DATA's (the same text dot-stuffed, its last line ended, then the dot) give the same
    content."""
    data, _, _ = decode(_split_lf(stuffed + END))
    for name, pieces in all_splittings(text):
        assert chunked(pieces) == data, name


def test_a_last_line_without_its_ending_gets_crlf_once():
    decoder = DataDecoder(dot_stuffed=False)
    assert decoder.feed(b"abc") == b"abc"
    assert decoder.end_of_chunks() == b"\r\n"
    assert decoder.end_of_chunks() == b""
    assert decoder.state.size == 5


def test_chunks_never_end_the_data():
    decoder = DataDecoder(dot_stuffed=False)
    for piece in (b"a\r\n", b".\r\n", b"b\r\n"):
        decoder.feed(piece)
    assert not decoder.state.ended
