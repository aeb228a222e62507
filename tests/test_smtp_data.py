"""DATA as an SMTP client sends it: dot-stuffing across chunk boundaries, content that ends with CRLF, no stray CR
or LF, and lines broken at smtp_line_length_limit as Postfix breaks them."""

import asyncio
import re
import tracemalloc

import aiosmtplib
import pytest
from aiosmtplib.protocol import SMTPProtocol
from hypothesis import given, settings
from hypothesis import strategies as st

from filterd.smtp_data import DataEncoder, send_content, stuffed

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


# --- lines longer than smtp_line_length_limit, as Postfix's smtp(8) breaks them --------------------

def postfix_text_out(content: bytes, limit: int) -> bytes:
    """Postfix 3.7's smtp_text_out (src/smtp/smtp_proto.c) on each line of the content as one record; a
    CR or LF alone ends a line as CRLF does."""
    lines = re.split(rb"\r\n|\r|\n", content)
    if lines[-1] == b"":
        lines.pop()
    out, space_left = [], limit
    for data in lines:
        while True:
            if space_left == limit and data[:1] == b".":
                out.append(b".")
            if limit and len(data) >= space_left:
                out += [data[:space_left], b"\r\n"]
                data, space_left = data[space_left:], limit
                if not data:
                    break
                out.append(b" ")
                space_left -= 1
            else:
                out += [data, b"\r\n"]
                space_left = limit
                break
    return b"".join(out)


def cut(data: bytes, offsets: list[int]) -> list[bytes]:
    points = [0, *sorted({o % (len(data) + 1) for o in offsets}), len(data)]
    return [data[a:b] for a, b in zip(points, points[1:])]


def encoded(chunks: list[bytes], limit: int) -> bytes:
    return b"".join(stuffed(iter(chunks), DataEncoder(limit)))


_PIECES = st.one_of(st.sampled_from([b"\r\n", b"\r", b"\n", b".", b"..", b"\r\n.", b" ", b"\x00\xff"]),
                    st.integers(1, 45).map(lambda n: b"x" * n))
_CONTENT = st.lists(_PIECES, max_size=30).map(b"".join)


@settings(max_examples=500, deadline=None)
@given(content=_CONTENT, offsets=st.lists(st.integers(0, 2000), max_size=8), limit=st.sampled_from([0, *range(2, 25)]))
def test_any_content_cut_anywhere_leaves_as_postfix_sends_it(content, offsets, limit):
    wire = encoded(cut(content, offsets), limit)
    assert wire == postfix_text_out(content, limit)
    assert re.search(rb"\r(?!\n)|(?<!\r)\n", wire) is None


@pytest.mark.parametrize("length, wire", [
    (997, b"x" * 997 + b"\r\n"),
    (998, b"x" * 998 + b"\r\n"),
    (999, b"x" * 998 + b"\r\n x\r\n"),
    (998 + 997, b"x" * 998 + b"\r\n " + b"x" * 997 + b"\r\n"),
    (998 + 998, b"x" * 998 + b"\r\n " + b"x" * 997 + b"\r\n x\r\n"),
])
def test_a_line_is_broken_after_998_bytes_then_every_997(length, wire):
    assert encoded([b"x" * length + b"\r\n"], 998) == wire


def test_the_stuffing_dot_does_not_count():
    assert encoded([b"." + b"x" * 997 + b"\r\n"], 998) == b".." + b"x" * 997 + b"\r\n"
    assert encoded([b"." + b"x" * 998 + b"\r\n"], 998) == b".." + b"x" * 997 + b"\r\n x\r\n"


def test_a_continuation_that_starts_with_a_dot_is_not_stuffed():
    assert encoded([b"x" * 998 + b".y\r\n"], 998) == b"x" * 998 + b"\r\n .y\r\n"


def test_a_line_that_just_fills_the_limit_at_a_chunk_end_is_broken_only_if_it_goes_on():
    assert encoded([b"x" * 998, b"\r\n"], 998) == b"x" * 998 + b"\r\n"
    assert encoded([b"x" * 998, b"y\r\n"], 998) == b"x" * 998 + b"\r\n y\r\n"
    assert encoded([b"x" * 998 + b"\r", b"\n"], 998) == b"x" * 998 + b"\r\n"


def test_no_limit_leaves_long_lines_alone():
    line = b"x" * 100_000 + b"\r\n"
    assert encoded([line[:5000], line[5000:]], 0) == line


def test_the_encoder_says_when_it_broke_a_line():
    short, long = DataEncoder(998), DataEncoder(998)
    list(stuffed(iter([b"x" * 998 + b"\r\n"]), short))
    list(stuffed(iter([b"x" * 999 + b"\r\n"]), long))
    assert (short.broke_lines, long.broke_lines) == (False, True)


def test_memory_does_not_grow_with_the_line():
    """A 32 MB line in 64 KB chunks: each chunk leaves as it comes, and nothing is kept between them."""
    chunk, encoder = b"x" * 65536, DataEncoder(998)
    tracemalloc.start()
    try:
        for _ in range(512):
            wire = encoder.encode(chunk)
            assert len(wire) <= len(chunk) + 3 * (len(chunk) // 997 + 1)
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    assert peak < 1_000_000


@pytest.mark.parametrize("chunks", [[b"AAAA\r.\r\n"], [b"AAAA\r", b".\r\n"], [b"AAAA", b"\r", b".", b"\r\n"]], ids=repr)
def test_a_stray_cr_before_a_dot_leaves_as_crlf_and_the_dot_is_stuffed(chunks):
    """Content stored before the decoder held CRs back (a queue file of an older filterd) is sent safely too."""
    assert encoded(chunks, 998) == b"AAAA\r\n..\r\n"


class _Wire(asyncio.Transport):
    """The client's side of a connection: what it writes."""

    def __init__(self):
        super().__init__()
        self.out = bytearray()

    def write(self, data) -> None:
        self.out += data

    def is_closing(self) -> bool:
        return False


def test_the_final_reply_is_handed_on_as_soon_as_it_is_read_and_the_last_chunk_goes_with_the_dot():
    """A delivery agent records a 250 from the reply's own loop turn, not after the task resumes (issue 19)."""
    async def session() -> tuple[list, bytes]:
        smtp = aiosmtplib.SMTP()
        smtp.protocol = protocol = SMTPProtocol(loop=asyncio.get_running_loop())
        wire, order = _Wire(), []
        protocol.connection_made(wire)
        sending = asyncio.ensure_future(send_content(smtp, [b"Subject: x\r\n", b"\r\nbody\r\n"], 5,
                                                     on_reply=lambda reply: order.append(("read", reply.code))))
        for reply in (b"354 go ahead\r\n", b"250 2.0.0 queued\r\n"):
            while not wire.out.endswith(b"\r\n" if reply.startswith(b"354") else b".\r\n"):
                await asyncio.sleep(0)
            protocol.data_received(reply)
        order.append(("returned", (await sending).code))
        return order, bytes(wire.out)

    order, sent = asyncio.run(session())
    assert order == [("read", 250), ("returned", 250)]
    assert sent == b"DATA\r\nSubject: x\r\n\r\nbody\r\n.\r\n"
