"""anvil's records as bytes: Postfix's plain attribute protocol, split anywhere."""

from __future__ import annotations

import pytest

from filterd.anvil.protocol import Counts, ProtocolError, RecordReader, connect_request, disconnect_request, \
    encode, ident

CONNECT = b"request=connect\nident=smtp:192.0.2.1\n\n"
REPLY = b"status=0\ncount=3\nrate=7\n\n"


def test_a_request_is_name_value_lines_and_an_empty_line():
    assert connect_request("smtp:192.0.2.1") == CONNECT
    assert disconnect_request("smtp:192.0.2.1") == b"request=disconnect\nident=smtp:192.0.2.1\n\n"
    assert encode({"protocol": "anvil"}) == b"protocol=anvil\n\n"


def test_the_ident_is_service_and_address_made_printable():
    assert ident("127.0.0.1:10025", "192.0.2.1") == "127.0.0.1:10025:192.0.2.1"
    assert ident("smtp", "a\nb=c") == "smtp:a?b?c"


@pytest.mark.parametrize("cut", range(len(CONNECT + REPLY) + 1))
def test_records_split_at_every_offset_come_out_whole_and_in_order(cut):
    data, reader = CONNECT + REPLY, RecordReader()
    records = reader.feed(data[:cut]) + reader.feed(data[cut:])
    assert records == [{"request": "connect", "ident": "smtp:192.0.2.1"}, {"status": "0", "count": "3", "rate": "7"}]


def test_a_value_may_hold_equals_signs_and_colons():
    assert RecordReader().feed(b"ident=smtp:[2001:db8::1]=x\n\n") == [{"ident": "smtp:[2001:db8::1]=x"}]


@pytest.mark.parametrize("data", [b"\n\n", b"no equals sign\n\n", b"=value\n\n", b"a=1\n\nb\n\n"])
def test_a_malformed_record_is_a_protocol_error(data):
    with pytest.raises(ProtocolError):
        RecordReader().feed(data)


def test_a_record_that_never_ends_is_refused_before_it_grows_without_bound():
    reader = RecordReader(max_record=64)
    with pytest.raises(ProtocolError, match="longer than 64"):
        reader.feed(b"ident=" + b"x" * 100)


def test_a_connect_reply_gives_the_count_and_the_rate():
    assert Counts.from_reply({"status": "0", "count": "3", "rate": "7"}) == Counts(3, 7)


@pytest.mark.parametrize("record", [{"status": "-1"}, {"status": "0", "count": "x", "rate": "1"}, {"status": "0"}])
def test_a_failed_or_incomplete_connect_reply_is_a_protocol_error(record):
    with pytest.raises(ProtocolError):
        Counts.from_reply(record)
