"""Every SMFIC command and SMFIR response: wire bytes, encode/decode round trips through the framing split at
every offset, and malformed payloads. Both directions, as the filter side and an MTA side use them."""

import pytest

from filterd.milter.protocol import codes
from filterd.milter.protocol import commands as c
from filterd.milter.protocol import responses as r
from filterd.milter.protocol.commands import COMMANDS, decode_command
from filterd.milter.protocol.framing import PacketReader, ProtocolError
from filterd.milter.protocol.responses import RESPONSES, decode_response

COMMAND_EXAMPLES = [
    c.OptNeg(6, 0x1FF, 0x1FFFFF),
    c.Macro("C", (("j", "mx.example"), ("{daemon_name}", "smtpd"))),
    c.Macro("T"),
    c.Connect("client.example", "4", 2525, "192.0.2.1"),
    c.Connect("[2001:db8::1]", "6", 25, "2001:db8::1"),
    c.Connect("localhost", "L", 0, "/run/socket"),
    c.Connect("unknown"),
    c.Helo("client.example"),
    c.Mail(("<alice@example.org>", "SIZE=1000", "BODY=8BITMIME")),
    c.Mail(("<>",)),
    c.Rcpt(("<bob@example.net>",)),
    c.Data(),
    c.Header("Subject", " hello\n\tworld"),
    c.Header("X-Empty", ""),
    c.EndOfHeaders(),
    c.Body(b"line one\r\nline two\r\n\x00\xff"),
    c.EndOfBody(),
    c.EndOfBody(b"last chunk\r\n"),
    c.Abort(),
    c.Quit(),
    c.QuitNewConnection(),
    c.Unknown("XYZZY plugh"),
]

RESPONSE_EXAMPLES = [
    c.OptNeg(6, 0x3F, 0x1000, {0: "j {daemon_name}", 5: "i"}),
    c.OptNeg(2, 0, 0),
    r.Continue(), r.Accept(), r.Reject(), r.Tempfail(), r.Discard(), r.ConnFail(), r.Shutdown(), r.Skip(),
    r.Progress(),
    r.ReplyCode("550 5.7.1 no thanks"),
    r.ReplyCode("451-4.7.1 first\r\n451 4.7.1 second"),
    r.Quarantine("held for review"),
    r.AddHeader("X-Tag", " yes"),
    r.InsertHeader(0, "DKIM-Signature", " v=1;\n\tb=abc"),
    r.ChangeHeader(2, "Subject", ""),
    r.AddRecipient("<carol@example.net>"),
    r.AddRecipientPar("<carol@example.net>", "NOTIFY=NEVER"),
    r.AddRecipientPar("<carol@example.net>"),
    r.DeleteRecipient("<bob@example.net>"),
    r.ChangeFrom("<new@example.org>", "SIZE=10"),
    r.ChangeFrom("<>"),
    r.ReplaceBody(b"new body\r\n"),
    r.SetSymList(2, "{auth_authen} i"),
]


def test_every_command_and_response_has_an_example():
    assert {type(p) for p in COMMAND_EXAMPLES} == set(COMMANDS.values())
    assert {type(p) for p in RESPONSE_EXAMPLES} == set(RESPONSES.values())
    assert len(COMMANDS) == 15 and len(RESPONSES) == 21


ROUND_TRIPS = [(packet, decode_command) for packet in COMMAND_EXAMPLES] + \
              [(packet, decode_response) for packet in RESPONSE_EXAMPLES]


@pytest.mark.parametrize("packet, decode", ROUND_TRIPS, ids=repr)
def test_every_packet_round_trips(packet, decode):
    [(code, payload)] = PacketReader().feed(packet.encode())
    assert code == packet.code
    assert decode(code, payload) == packet


@pytest.mark.parametrize("examples, decode", [(COMMAND_EXAMPLES, decode_command),
                                              (RESPONSE_EXAMPLES, decode_response)], ids=["commands", "responses"])
def test_a_dialogue_split_at_every_offset_decodes_the_same(examples, decode):
    stream = b"".join(p.encode() for p in examples)
    for cut in range(len(stream) + 1):
        reader = PacketReader()
        packets = reader.feed(stream[:cut]) + reader.feed(stream[cut:])
        assert [decode(code, payload) for code, payload in packets] == examples


@pytest.mark.parametrize("packet, wire", [
    (c.OptNeg(6, 0x1FF, 0x1FFFFF), b"\0\0\0\x0dO\0\0\0\x06\0\0\x01\xff\0\x1f\xff\xff"),
    (c.Connect("h", "4", 25, "1.2.3.4"), b"\0\0\0\x0eCh\x004\x00\x191.2.3.4\x00"),
    (c.Connect("h"), b"\0\0\0\x04Ch\x00U"),
    (c.Macro("M", (("i", "Q1"),)), b"\0\0\0\x07DMi\x00Q1\x00"),
    (c.Mail(("<a@b>", "SIZE=1")), b"\0\0\0\x0eM<a@b>\x00SIZE=1\x00"),
    (c.Header("To", " x"), b"\0\0\0\x07LTo\x00 x\x00"),
    (r.InsertHeader(1, "A", "b"), b"\0\0\0\x09i\0\0\0\x01A\x00b\x00"),
    (r.ReplyCode("550 5.7.1 no"), b"\0\0\0\x0ey550 5.7.1 no\x00"),
    (r.Continue(), b"\0\0\0\x01c"),
])
def test_wire_bytes(packet, wire):
    assert packet.encode() == wire


@pytest.mark.parametrize("code, payload", [
    (codes.HELO, b"no terminator"),
    (codes.OPTNEG, b"\0\0\0\x06\0\0"),
    (codes.HEADER, b"name\0"),
    (codes.MACRO, b"Ci\0"),
    (codes.CONNECT, b"host\x004\x00"),
    (codes.CONNECT, b"host"),
    (codes.CONNECT, b"host\x004\x00\x191.2.3.4"),
    (codes.CONNECT, b"host\x004\x00\x191.2.3.4\x00junk\x00"),
    (codes.OPTNEG, b"\0\0\0\x06\0\0\0\0\0\0\0\0\0"),
    (codes.DATA, b"extra"),
    (b"Z", b""),
    (codes.MAIL, b""),
])
def test_malformed_commands_are_protocol_errors(code, payload):
    with pytest.raises(ProtocolError):
        decode_command(code, payload)


@pytest.mark.parametrize("code, payload", [
    (codes.INSHEADER, b"\0\0"),
    (codes.CONTINUE, b"x"),
    (codes.OPTNEG, b"\0\0\0\x06\0\0\0\0\0\0\0\0\0\0\0\x01abc"),
    (b"!", b""),
])
def test_malformed_responses_are_protocol_errors(code, payload):
    with pytest.raises(ProtocolError):
        decode_response(code, payload)


def test_decisions_end_an_answer_and_edits_do_not():
    assert codes.CONTINUE in r.DECISIONS and codes.REPLYCODE in r.DECISIONS
    assert codes.ADDHEADER not in r.DECISIONS and codes.PROGRESS not in r.DECISIONS
