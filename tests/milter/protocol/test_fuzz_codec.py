"""The milter codec fuzzed (hypothesis): arbitrary bytes framed, decoded as every command and response, and every
packet kind encoded then decoded. Only ProtocolError may come out, never more than came in, and whatever decodes
encodes back to the same bytes."""

from __future__ import annotations

from hypothesis import given, strategies as st

from filterd.milter.protocol import codes
from filterd.milter.protocol.commands import COMMANDS, decode_command, macro_of
from filterd.milter.protocol.framing import ProtocolError, PacketReader, frame
from filterd.milter.protocol.headers import from_header, to_header
from filterd.milter.protocol.macros import Macros
from filterd.milter.protocol.negotiation import answer, agree
from filterd.milter.protocol.responses import RESPONSES, decode_response
from filterd.milter.protocol.commands import OptNeg
from filterd.milter.protocol.codes import Actions, Steps
from tests.fixtures.fuzzing import budget

CSTRING = st.text(st.characters(blacklist_characters="\0", blacklist_categories=["Cs"]), max_size=20)
FIELDS = {"u32": st.integers(0, 2**32 - 1), "u16": st.integers(0, 2**16 - 1),
          "char": st.sampled_from(["4", "6", "L", "U", "M", "C"]), "str": CSTRING,
          "strs": st.lists(CSTRING, min_size=1, max_size=4).map(tuple),
          "pairs": st.lists(st.tuples(CSTRING, CSTRING), max_size=3).map(tuple),
          "raw": st.binary(max_size=64), "symlists": st.dictionaries(st.integers(0, 6), CSTRING, max_size=3)}


def check_stream(data: bytes, cuts: list[int]) -> None:
    """The stream cut anywhere frames as it does whole; what is framed plus what waits is what came in."""
    whole = _framed_or_error(PacketReader(), [data])
    reader = PacketReader()
    pieces = [data[a:b] for a, b in zip([0] + cuts, cuts + [len(data)])]
    assert _framed_or_error(reader, pieces) == whole
    if whole != "error":
        assert sum(5 + len(payload) for _, payload in whole) + reader.pending == len(data)
        assert reader.pending < len(data) + 1


def _framed_or_error(reader: PacketReader, pieces: list[bytes]) -> list | str:
    try:
        return [packet for piece in pieces for packet in reader.feed(piece)]
    except ProtocolError:
        return "error"


def check_payload(table: dict, decode, code: bytes, payload: bytes) -> None:
    """Decoding any payload gives a packet whose encoding decodes to the same packet (absent trailing fields
    come back as their defaults, SMFIC_CONNECT's family U), or ProtocolError."""
    try:
        packet = decode(code, payload)
    except ProtocolError:
        return
    assert type(packet) is table[code]
    encoded = packet.encode()
    assert decode(code, encoded[5:]) == packet
    assert len(encoded) <= len(payload) + 10


def check_macros(stage: bytes, payload: bytes, names: list[str]) -> None:
    """Macro payloads are checked when they come; a stored definition never fails on lookup."""
    try:
        code, strings = macro_of(stage + payload)
    except ProtocolError:
        return
    macros = Macros()
    macros.define(code, strings)
    for name in names:
        value = macros.get(name)
        assert value is None or isinstance(value, str)


@given(st.binary(max_size=200), st.lists(st.integers(0, 200), max_size=4).map(sorted))
@budget(300)
def test_any_byte_stream_frames_the_same_however_it_is_cut(data, cuts):
    check_stream(data, [min(cut, len(data)) for cut in cuts])


@given(st.lists(st.tuples(st.binary(min_size=1, max_size=1), st.binary(max_size=40)), max_size=5),
       st.lists(st.integers(0, 300), max_size=4).map(sorted))
@budget(200)
def test_framed_packets_come_back_whole_however_they_are_cut(packets, cuts):
    stream = b"".join(frame(code, payload) for code, payload in packets)
    reader = PacketReader()
    pieces = [stream[a:b] for a, b in zip([0] + cuts, cuts + [len(stream)])]
    assert [packet for piece in pieces for packet in reader.feed(piece)] == packets
    assert reader.pending == 0


@given(st.sampled_from(sorted(COMMANDS)), st.binary(max_size=60))
@budget(400)
def test_any_payload_decodes_as_a_command_that_encodes_back_or_is_refused(code, payload):
    check_payload(COMMANDS, decode_command, code, payload)


@given(st.sampled_from(sorted(RESPONSES)), st.binary(max_size=60))
@budget(400)
def test_any_payload_decodes_as_a_response_that_encodes_back_or_is_refused(code, payload):
    check_payload(RESPONSES, decode_response, code, payload)


@given(st.sampled_from(sorted(COMMANDS)), st.data())
@budget(300)
def test_every_command_round_trips(code, data):
    kind = COMMANDS[code]
    packet = kind(*(data.draw(FIELDS[field]) for field in kind.layout))
    assert decode_command(code, packet.payload()) == packet


@given(st.sampled_from(sorted(RESPONSES)), st.data())
@budget(300)
def test_every_response_round_trips(code, data):
    kind = RESPONSES[code]
    packet = kind(*(data.draw(FIELDS[field]) for field in kind.layout))
    assert decode_response(code, packet.payload()) == packet


@given(st.sampled_from([codes.CONNECT, codes.MAIL, codes.RCPT, codes.HEADER, b"Z"]), st.binary(max_size=60),
       st.lists(st.sampled_from(["i", "{i}", "j", "{auth_authen}", "", "{", "{}", "\udcff"]), max_size=4))
@budget(300)
def test_any_macro_payload_is_refused_or_looked_up(stage, payload, names):
    check_macros(stage, payload, names)


@given(st.integers(0, 2**32 - 1), st.integers(0, 2**32 - 1), st.integers(0, 2**32 - 1),
       st.integers(0, 2**32 - 1), st.integers(0, 2**32 - 1))
@budget(200)
def test_negotiation_with_any_offer_agrees_with_its_own_answer(version, offered, steps, wanted, wanted_steps):
    offer = OptNeg(version, offered, steps)
    try:
        reply = answer(offer, Actions(wanted & 0x1FF), Steps(wanted_steps & 0x301FFFFF))
    except ProtocolError:
        assert version < 2
        return
    agreed = agree(offer, reply)
    assert agreed.actions & ~offered == 0 and agreed.version <= version


@given(st.text(st.characters(blacklist_characters=":\0\r\n", blacklist_categories=["Cs", "Zs", "Cc"]),
               min_size=1, max_size=10),
       st.text(st.characters(blacklist_characters="\0\r", blacklist_categories=["Cs"]), max_size=30), st.booleans())
@budget(300)
def test_a_header_goes_to_the_milter_form_and_back(name, value, leading_space):
    if not leading_space:
        value = value.lstrip(" ")
    if value.endswith("\n"):
        value = value.rstrip("\n")
    header = to_header(name, value, leading_space)
    assert from_header(header, leading_space) == (name, value)
    assert to_header(*from_header(header, leading_space), leading_space).raw == header.raw
