"""The queue file size Postfix's cleanup writes, counted from a real Postfix 3.7 queue file (`postcat -o -v` of a
message received over ESMTP: the envelope's records end at offset 650, the content's at 945, the file at 949)."""

from __future__ import annotations

import io

import pytest

from filterd.content import Header
from filterd.model import Message, Session
from filterd.queue.postfix_size import content_size, envelope_size, exceeds, line, record
from filterd.queue.queuefile import QueueEnvelope, Recipient

ARRIVAL = 1764851019.012345
SESSION = Session(client_address="127.0.0.1", client_port=57136, client_name="localhost",
                  reverse_client_name="localhost", server_address="127.0.0.1", server_port=36229,
                  helo="client.example", protocol="ESMTP")
POSTFIX_RECEIVED = (b"Received: from client.example (localhost [127.0.0.1])\r\n"
                    b"\tby postfix.test (Postfix) with ESMTP id 1916220C241\r\n"
                    b"\tfor <x@y.example>; Fri,  4 Dec 2026 12:23:39 +0000 (UTC)\r\n")
HEADERS = (b"From: a@b.example\r\nTo: x@y.example\r\nDate: Thu, 03 Dec 2026 10:00:00 +0000\r\n"
           b"Message-ID: <1@b.example>\r\nSubject: t\r\n")


def envelope(**fields) -> QueueEnvelope:
    return QueueEnvelope(**{"queue_id": "1916220C241", "sender": "a@b.example", "arrival": ARRIVAL,
                            "recipients": [Recipient("x@y.example")], **fields})


def message(body: bytes = b"body line\r\n", headers: bytes = POSTFIX_RECEIVED + HEADERS) -> Message:
    parsed = Message.from_bytes(headers + b"\r\n" + body)
    return Message(parsed.headers, io.BytesIO(body))


def test_the_envelope_is_postfix_s_records_to_the_byte():
    assert envelope_size(envelope(), SESSION, local=True) == 650 + 4


def test_the_content_is_postfix_s_records_to_the_byte():
    assert content_size(message()) == 945 - 650


@pytest.mark.parametrize(("length", "size"), [(0, 2), (127, 129), (128, 131), (2047, 2050), (2048, 2051 + 2),
                                              (5000, 2 * 2051 + 907)])
def test_a_line_is_records_of_line_length_limit_bytes(length, size):
    assert line(length) == size


def test_a_long_record_spends_a_byte_more_on_its_length():
    assert (record(127), record(128), record(16383), record(16384)) == (129, 131, 16386, 16388)


def test_long_body_lines_cost_a_byte_each_and_a_line_split_across_chunks_counts_once():
    body = (b"x" * 200 + b"\r\n") * 40 + b"y" * 3000 + b"\r\n" + b"z" * 10 + b"\r\n"
    expected = record(0) + sum(line(len(part)) for header in message().headers
                               for part in header.raw.removesuffix(b"\r\n").split(b"\r\n"))
    expected += 40 * line(200) + line(3000) + line(10)
    assert content_size(message(body)) == expected
    assert expected == message(body).size + 40 + 4


def test_recipients_and_options_add_postfix_s_records():
    base = envelope_size(envelope(), SESSION, local=True)
    more = envelope(recipients=[Recipient("x@y.example"), Recipient("x0@y.example", notify="SUCCESS,FAILURE",
                                                                        orcpt="rfc822;X0@y.example")],
                    envid="abc", ret="HDRS", body_type="8BITMIME", filter="scan:[127.0.0.1]:10025")
    added = (record(len("notify_flags=6")) + record(len("dsn_orig_rcpt=rfc822;X0@y.example")) + 2 * record(12)
             + record(len("envelope_id=abc")) + record(len("ret_flags=2")) + record(len("encoding=8bit"))
             + record(len("scan:[127.0.0.1]:10025")))
    assert envelope_size(more, SESSION, local=True) == base + added
    assert envelope_size(envelope(), SESSION, local=False) == base + 1


def test_forwarded_clients_are_logged_and_the_connection_s_own_kept():
    forwarded = Session(**{**SESSION.__dict__, "client_name": "mail.example.org", "client_address": "192.0.2.1",
                           "xforwarded": {"client_name": "localhost", "client_address": "127.0.0.1"}})
    grown = 2 * (len("mail.example.org") - len("localhost")) + len("192.0.2.1") - len("127.0.0.1")
    assert envelope_size(envelope(), forwarded, local=True) == envelope_size(envelope(), SESSION, True) + grown


def test_only_a_message_near_the_limit_has_its_lines_counted():
    small = message()
    total = envelope_size(envelope(), SESSION, local=True) + content_size(small)
    assert not exceeds(total, 654, small) and exceeds(total - 1, 654, small)
    assert not exceeds(0, 654, small)
    long_lines = message((b"x" * 300 + b"\r\n") * 10)
    exact = 654 + content_size(long_lines)
    assert exact == 654 + long_lines.size + 10
    assert not exceeds(exact, 654, long_lines) and exceeds(exact - 1, 654, long_lines)
