"""The pipe service's protocol with bytes alone: a request read whole at every split offset, each malformed
request refused, and the reply line both ways."""

from __future__ import annotations

import pytest

from filterd.pipe.protocol import (END, RECIPIENT_LIMIT, Content, EndOfMessage, ProtocolError, Request,
                                   RequestReader, encode_chunk, encode_reply, encode_request, parse_reply)

REQUEST = encode_request("alice@example.org", ["bob@example.net", "x;rm -rf /@example.net"])
WIRE = REQUEST + encode_chunk(b"Subject: hi\r\n\r\n") + encode_chunk(b"hello\r\n") + END


def read(*pieces: bytes) -> tuple[Request, bytes, bool]:
    """The request, the message and whether it ended, from bytes fed in these pieces."""
    reader, events = RequestReader(), []
    for piece in pieces:
        events += reader.feed(piece)
    [request] = [e for e in events if isinstance(e, Request)]
    assert events[0] == request
    return request, b"".join(e.data for e in events if isinstance(e, Content)), events[-1] == EndOfMessage()


def test_the_wire_form_of_a_request():
    assert WIRE == (b"sender=alice@example.org\nrecipient=bob@example.net\nrecipient=x;rm -rf /@example.net\n\n"
                    b"15\nSubject: hi\r\n\r\n7\nhello\r\n0\n")


@pytest.mark.parametrize("offset", range(len(WIRE) + 1))
def test_a_request_split_anywhere_reads_the_same(offset):
    request, message, ended = read(WIRE[:offset], WIRE[offset:])
    assert request == Request("alice@example.org", ("bob@example.net", "x;rm -rf /@example.net"))
    assert (message, ended) == (b"Subject: hi\r\n\r\nhello\r\n", True)


def test_byte_by_byte_and_the_null_sender():
    wire = encode_request("", ["bob@example.net"]) + encode_chunk(b"x") + END
    request, message, ended = read(*(wire[i:i + 1] for i in range(len(wire))))
    assert (request.sender, message, ended) == ("", b"x", True)


def test_a_message_cut_short_has_not_ended():
    reader = RequestReader()
    reader.feed(REQUEST + b"100\nonly part")
    assert not reader.done


@pytest.mark.parametrize("wire, reason", [
    (b"recipient=bob@example.net\n\n", "expected sender=ADDRESS"),
    (b"sender=a@example.org\n\n", "no recipient"),
    (b"sender=a@example.org\nrcpt=b@example.net\n", "expected recipient=ADDRESS"),
    (b"sender=a@example.org\nrecipient=b\r@example.net\n", "expected recipient=ADDRESS"),
    (b"sender=" + b"a" * 5000, "line longer than 4096 bytes"),
    (REQUEST + b"-1\n", "bad chunk size"),
    (REQUEST + b"0x10\n", "bad chunk size"),
    (REQUEST + b"99999999\n", "bad chunk size"),
    (REQUEST + b"123456789", "chunk size too long"),
    (WIRE + b"1\n", "data after the end of the message"),
])
def test_a_malformed_request_is_a_protocol_error(wire, reason):
    with pytest.raises(ProtocolError, match=reason):
        RequestReader().feed(wire)


def test_too_many_recipients_is_a_protocol_error():
    wire = b"sender=\n" + b"recipient=r@example.net\n" * (RECIPIENT_LIMIT + 1)
    with pytest.raises(ProtocolError, match="more than 1000 recipients"):
        RequestReader().feed(wire)


@pytest.mark.parametrize("recipients", [[], ["a\n@example.net"], ["a\0@example.net"], ["x" * 5000]])
def test_an_envelope_that_cannot_be_sent_is_a_value_error(recipients):
    with pytest.raises(ValueError):
        encode_request("alice@example.org", recipients)


def test_a_bad_address_is_shown_as_its_bytes():
    """Bytes escape the same whatever the Unicode tables, so that filterd-pipe (C) words it alike."""
    with pytest.raises(ValueError) as refused:
        encode_request("alice@example.org", ["caf\u00e9\n@example.net"])
    assert str(refused.value) == "bad recipient address: 'caf\\xc3\\xa9\\n@example.net'"


def test_the_reply_both_ways():
    assert encode_reply(75, "4.3.0 try\nlater") == b"75 4.3.0 try later\n"
    assert encode_reply(0, "") == b"0\n"
    assert parse_reply(b"69 5.7.1 Refused after queue\n") == (69, "5.7.1 Refused after queue")
    assert parse_reply(b"0\n") == (0, "")


@pytest.mark.parametrize("data", [b"", b"0", b"1 ok\n", b"75 a\n75 b\n", b"x\n", b"0\nmore"])
def test_a_malformed_reply_is_a_protocol_error(data):
    with pytest.raises(ProtocolError):
        parse_reply(data)
