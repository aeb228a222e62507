"""The policy protocol's codec with bytes alone: records framed at every split, attributes checked strictly,
requests checked as Postfix sends them."""

from __future__ import annotations

import pytest

from filterd.policy.protocol import (MAX_LINE, ProtocolError, RecordReader, action_of, check_request, encode,
                                     encode_reply)

POSTFIX_REQUEST = (b"request=smtpd_access_policy\nprotocol_state=RCPT\nprotocol_name=ESMTP\nhelo_name=client.example\n"
                   b"queue_id=\nsender=alice@example.org\nrecipient=bob@example.net\nrecipient_count=0\n"
                   b"client_address=192.0.2.1\nclient_name=unknown\nreverse_client_name=unknown\ninstance=2d8c.6610\n"
                   b"sasl_method=\nsasl_username=\nsize=0\nclient_port=4321\nfuture_attribute=whatever\n\n")


def test_a_request_as_postfix_sends_it_at_every_split_offset():
    whole = RecordReader().feed(POSTFIX_REQUEST)
    assert len(whole) == 1 and whole[0]["recipient"] == "bob@example.net" and whole[0]["queue_id"] == ""
    for cut in range(len(POSTFIX_REQUEST) + 1):
        reader = RecordReader()
        assert reader.feed(POSTFIX_REQUEST[:cut]) + reader.feed(POSTFIX_REQUEST[cut:]) == whole
        assert reader.pending == 0


def test_two_requests_in_one_read_come_out_in_order():
    records = RecordReader().feed(b"a=1\n\nb=2\nc=x=y\n\n")
    assert records == [{"a": "1"}, {"b": "2", "c": "x=y"}]


def test_crlf_line_ends_are_taken_as_well():
    assert RecordReader().feed(b"a=1\r\nb=\r\n\r\n") == [{"a": "1", "b": ""}]


def test_a_repeated_attribute_keeps_its_last_value():
    assert RecordReader().feed(b"a=1\na=2\n\n") == [{"a": "2"}]


@pytest.mark.parametrize("data, message", [
    (b"novalue\n\n", "bad attribute line: novalue"),
    (b"=value\n\n", "bad attribute line: =value"),
    (b"a=\x00\n\n", "bad attribute line"),
    (b"a=\xff\xfe\n\n", "attribute line is not UTF-8"),
    (b"a=" + b"x" * MAX_LINE + b"\n\n", "attribute line longer than 2048 bytes"),
    (b"a=" + b"x" * MAX_LINE, "attribute line longer than 2048 bytes"),
])
def test_a_malformed_line_is_an_error_with_its_reason(data, message):
    with pytest.raises(ProtocolError, match=message):
        RecordReader().feed(data)


def test_a_record_without_an_empty_line_within_the_limit_is_an_error():
    reader = RecordReader(max_record=100)
    reader.feed(b"a=1\n" * 25)
    with pytest.raises(ProtocolError, match="request longer than 100 bytes without an empty line"):
        reader.feed(b"a=1\n")


def test_a_request_is_checked_as_postfix_sends_it():
    [record] = RecordReader().feed(POSTFIX_REQUEST)
    assert check_request(record) is record


@pytest.mark.parametrize("record, message", [
    ({"protocol_state": "RCPT"}, "request without a request attribute"),
    ({"request": "other"}, "unrecognized request type: other"),
    ({"request": "smtpd_access_policy", "client_port": "x1"}, "bad client_port attribute: x1"),
    ({"request": "smtpd_access_policy", "size": "-1"}, "bad size attribute: -1"),
    ({"request": "smtpd_access_policy", "size": "\u0663"}, "bad size attribute"),
])
def test_a_request_postfix_would_not_send_is_an_error(record, message):
    with pytest.raises(ProtocolError, match=message):
        check_request(record)


def test_records_encode_as_lines_and_an_empty_line():
    assert encode({"request": "smtpd_access_policy", "sender": ""}) == b"request=smtpd_access_policy\nsender=\n\n"
    assert encode_reply("REJECT no\nmore") == b"action=REJECT no more\n\n"


@pytest.mark.parametrize("record", [{"a=b": "1"}, {"": "1"}, {"a": "x\ny"}, {"a": "\0"}])
def test_what_cannot_be_sent_is_refused(record):
    with pytest.raises(ValueError):
        encode(record)


def test_a_reply_gives_its_action_and_one_without_is_an_error():
    assert action_of({"action": "DUNNO", "other": "x"}) == "DUNNO"
    with pytest.raises(ProtocolError, match="reply without an action attribute"):
        action_of({"result": "DUNNO"})
