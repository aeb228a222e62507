"""Packet framing, bytes only: every packet split at every offset comes out whole and in order."""

import pytest

from filterd.milter.protocol.framing import MAX_PACKET, PacketReader, ProtocolError, frame

STREAM = frame(b"O", b"\x00\x00\x00\x06" * 3) + frame(b"Q") + frame(b"B", b"x" * 300) + frame(b"L", b"a\0b\0")
PACKETS = [(b"O", b"\x00\x00\x00\x06" * 3), (b"Q", b""), (b"B", b"x" * 300), (b"L", b"a\0b\0")]


def test_frame_is_length_code_payload():
    assert frame(b"C", b"ab") == b"\x00\x00\x00\x03Cab"
    assert frame(b"c") == b"\x00\x00\x00\x01c"


def test_a_whole_stream_at_once():
    assert PacketReader().feed(STREAM) == PACKETS


@pytest.mark.parametrize("cut", range(len(STREAM) + 1))
def test_the_stream_split_at_every_offset(cut):
    reader = PacketReader()
    got = reader.feed(STREAM[:cut]) + reader.feed(STREAM[cut:])
    assert got == PACKETS
    assert reader.pending == 0


def test_the_stream_fed_one_byte_at_a_time():
    reader = PacketReader()
    got = [packet for i in range(len(STREAM)) for packet in reader.feed(STREAM[i:i + 1])]
    assert got == PACKETS


def test_a_partial_packet_waits():
    reader = PacketReader()
    assert reader.feed(frame(b"B", b"abc")[:-1]) == []
    assert reader.pending == 7
    assert reader.feed(b"c") == [(b"B", b"abc")]


@pytest.mark.parametrize("length", [0, MAX_PACKET + 1, 0xFFFFFFFF])
def test_a_bad_length_is_a_protocol_error(length):
    with pytest.raises(ProtocolError):
        PacketReader().feed(length.to_bytes(4, "big") + b"x")


def test_a_smaller_limit_is_honoured():
    reader = PacketReader(max_packet=10)
    assert reader.feed(frame(b"B", b"x" * 9)) == [(b"B", b"x" * 9)]
    with pytest.raises(ProtocolError):
        reader.feed(frame(b"B", b"x" * 10))


def test_a_large_packet_in_many_reads_comes_out_whole_with_the_next_one():
    body = bytes(range(256)) * 4096
    stream = frame(b"B", body) + frame(b"E")
    reader, packets = PacketReader(), []
    for start in range(0, len(stream), 65536):
        packets += reader.feed(stream[start:start + 65536])
        if not packets:
            assert reader.pending == min(start + 65536, len(stream))
    assert packets == [(b"B", body), (b"E", b"")] and reader.pending == 0
