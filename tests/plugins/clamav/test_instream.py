"""clamd's INSTREAM protocol from bytes alone: the frames sent, and every reply clamd gives, at any split."""

from __future__ import annotations

import struct

import pytest

from filterd.plugins.clamav.instream import END, REQUEST, ProtocolError, Reply, ReplyReader, frames, parse


def test_the_request_the_frames_and_the_end():
    sent = list(frames([b"abcde", b"", b"f"], size=2))
    assert sent == [REQUEST, b"\0\0\0\2ab", b"\0\0\0\2cd", b"\0\0\0\1e", b"\0\0\0\1f", END]
    assert REQUEST == b"zINSTREAM\0" and END == struct.pack("!L", 0)


def test_an_empty_message_is_the_request_and_the_end():
    assert list(frames([])) == [REQUEST, END]


@pytest.mark.parametrize(("line", "reply"), [
    (b"stream: OK", Reply("OK")),
    (b"stream: Eicar-Test-Signature.UNOFFICIAL FOUND", Reply("FOUND", "Eicar-Test-Signature.UNOFFICIAL")),
    (b"stream: Win.Test.EICAR_HDB-1 FOUND", Reply("FOUND", "Win.Test.EICAR_HDB-1")),
    (b"INSTREAM size limit exceeded. ERROR", Reply("ERROR", "INSTREAM size limit exceeded.")),
    (b"stream: Can't allocate memory ERROR", Reply("ERROR", "stream: Can't allocate memory")),
])
def test_each_reply_read_at_every_split(line, reply):
    data = line + b"\0"
    for cut in range(len(data) + 1):
        reader = ReplyReader()
        first = reader.feed(data[:cut])
        assert (first if first is not None else reader.feed(data[cut:])) == reply
    assert reply.infected == (reply.status == "FOUND")


@pytest.mark.parametrize("line", [b"", b"stream: FOUND", b"PONG", b"stream: maybe"])
def test_a_reply_the_protocol_does_not_have_is_an_error(line):
    with pytest.raises(ProtocolError, match="unexpected reply"):
        parse(line)


def test_a_reply_cut_by_the_close_is_taken_as_it_is_and_nothing_at_all_is_an_error():
    reader = ReplyReader()
    assert reader.feed(b"stream: OK") is None
    assert reader.close() == Reply("OK")
    with pytest.raises(ProtocolError, match="without a reply"):
        ReplyReader().close()


def test_an_endless_reply_is_refused():
    with pytest.raises(ProtocolError, match="without its end"):
        ReplyReader().feed(b"x" * 5000)
