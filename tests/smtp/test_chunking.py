"""BDAT at the protocol level, bytes only: the command's syntax as Postfix's bdat_cmd() reads it, the size Postfix
counts (act_size: records of at most line_length_limit bytes, two more each), the transaction's chunk state and the
replies that depend on it."""

from __future__ import annotations

import pytest

from filterd.smtp.chunking import (CHUNK_OK, DATA_AFTER_BDAT, DISCARDED, MAIL_AFTER_BDAT, NEED_MAIL, NESTED_MAIL,
                                   NULL_REQUEST, RCPT_AFTER_BDAT, BdatCommand, Chunking, RecordCounter, State,
                                   parse_bdat, pieces, printable, queued_reply)


@pytest.mark.parametrize(("arg", "expected"), [
    ("5", BdatCommand(5, False)),
    ("0 LAST", BdatCommand(0, True)),
    ("12 last", BdatCommand(12, True)),
    ("007  LaSt", BdatCommand(7, True)),
    (str(2 ** 63 - 1), BdatCommand(2 ** 63 - 1, False)),
])
def test_a_well_formed_bdat_command(arg, expected):
    assert parse_bdat(arg) == expected


@pytest.mark.parametrize("arg", [None, "", "x", "-1", "+5", "5 FIRST", "5 LAST x", "5x", "٣", str(2 ** 63),
                                 "99999999999999999999999", "LAST"])
def test_a_malformed_bdat_command(arg):
    assert parse_bdat(arg) is None


def test_printable_shows_a_command_line_as_postfix_s_warning_does():
    assert printable(b"BDAT \x01x\r\n") == "BDAT ?x"


def counted(*chunks: bytes, limit: int = 0, last: bool = True) -> RecordCounter:
    counter = RecordCounter(limit)
    for chunk in chunks:
        counter.feed(chunk)
    if last:
        counter.end_of_chunks()
    return counter


@pytest.mark.parametrize(("data", "size"), [
    (b"", 0),
    (b"abc\r\n", 5),
    (b"abc\n", 5),
    (b"abc", 5),
    (b"abc\r", 6),
    (b"a\r\n\r\nb\r\n", 8),
    (b"x" * 2047 + b"\r\n", 2049),
    (b"x" * 2048 + b"\r\n", 2052),
    (b"x" * 4096 + b"\n", 4102),
    (b"x" * 2500, 2504),
], ids=["empty", "crlf", "bare-lf", "no-ending", "cr-ending", "empty-line", "2047", "2048", "4096", "2500-open"])
def test_the_size_is_postfix_s_count_of_records(data, size):
    assert counted(data).size == size


def test_the_size_is_the_same_however_the_chunks_are_cut():
    data = b"Subject: a\r\n\r\n" + b"y" * 2047 + b"\r\n" + b"z" * 5000 + b"\nend\r"
    whole = counted(data).size
    for cut in range(1, len(data)):
        assert counted(data[:cut], data[cut:]).size == whole, cut


def test_a_line_open_at_the_end_of_a_chunk_is_counted_once_it_ends():
    counter = counted(b"abc\r\nde", last=False)
    assert (counter.size, counter.received()) == (5, 7)
    counter.feed(b"f\r\n")
    assert (counter.size, counter.received()) == (10, 10)


def test_a_record_past_the_limit_makes_the_message_too_big_and_stops_the_count():
    counter = counted(b"x" * 1500, b"y" * 1000, limit=2000, last=False)
    assert counter.too_big and counter.size == 0
    assert not counted(b"x" * 1996 + b"\r\n", limit=1998).too_big
    assert counted(b"x" * 1997 + b"\r\n", limit=1998).too_big


def test_a_chunk_fits_while_the_count_so_far_leaves_room_for_it():
    counter = counted(b"x" * 98 + b"\r\n", limit=1000, last=False)
    assert counter.fits(900) and not counter.fits(901)
    assert RecordCounter().fits(10 ** 12)


def test_a_null_chunk_is_refused_but_bdat_0_last_is_not():
    chunks = Chunking()
    assert chunks.refusal(BdatCommand(0, False)) == NULL_REQUEST
    assert chunks.refusal(BdatCommand(0, True)) is None


def test_after_a_skipped_chunk_every_chunk_is_discarded_until_the_last():
    chunks = Chunking()
    chunks.skipped(BdatCommand(5, False), in_transaction=True)
    assert chunks.state is State.ERROR and chunks.processing
    assert chunks.refusal(BdatCommand(7, False)) == DISCARDED.format(size=7)
    assert chunks.refusal(BdatCommand(3, True)) == "551 5.0.0 Discarded 3 bytes after earlier error"
    chunks.skipped(BdatCommand(3, True), in_transaction=True)
    assert chunks.state is State.NONE and not chunks.processing


def test_a_skipped_last_chunk_ends_the_transaction():
    chunks = Chunking()
    chunks.skipped(BdatCommand(3, True), in_transaction=True)
    assert not chunks.processing and chunks.mail_refusal(False) is None


def test_mail_rcpt_and_data_while_chunks_are_taken():
    chunks = Chunking()
    assert (chunks.mail_refusal(True), chunks.rcpt_refusal(True), chunks.data_refusal()) == (None, None, None)
    chunks.accepted()
    assert chunks.mail_refusal(True) == NESTED_MAIL
    assert chunks.rcpt_refusal(True) == RCPT_AFTER_BDAT
    assert chunks.data_refusal() == DATA_AFTER_BDAT


def test_a_transaction_refused_at_its_first_chunk_still_counts_as_open_for_mail_and_rcpt():
    """Postfix's skip_bdat() keeps the transaction (a refusal by the chain ended filterd's): MAIL is nested."""
    chunks = Chunking()
    chunks.skipped(BdatCommand(5, False), in_transaction=True)
    assert chunks.mail_refusal(False) == NESTED_MAIL
    assert chunks.rcpt_refusal(False) == RCPT_AFTER_BDAT


def test_chunks_without_a_transaction_make_mail_come_after_bdat():
    chunks = Chunking()
    chunks.skipped(BdatCommand(5, False), in_transaction=False)
    assert chunks.mail_refusal(False) == MAIL_AFTER_BDAT
    assert chunks.rcpt_refusal(False) == NEED_MAIL


def test_a_failed_message_ends_the_transaction_and_skips_the_rest():
    chunks = Chunking(1000)
    chunks.accepted()
    chunks.counter.feed(b"abc\r\n")
    chunks.failed()
    assert chunks.state is State.ERROR and chunks.mail_refusal(False) == MAIL_AFTER_BDAT
    assert chunks.counter.size == 0 and chunks.counter.size_limit == 1000
    assert chunks.receiving and chunks.counter.received() == 0


def test_reset_forgets_everything():
    chunks = Chunking(1000)
    chunks.skipped(BdatCommand(5, False), in_transaction=True)
    chunks.reset()
    assert (chunks.state, chunks.in_transaction, chunks.receiving) == (State.NONE, False, False)


def test_the_queued_reply_names_the_size_unless_a_next_hop_gave_it():
    assert queued_reply("250 2.0.0 Ok: queued as ABC", "ABC", 42) == "250 2.0.0 Ok: 42 bytes queued as ABC"
    assert queued_reply("250 2.0.0 Ok: queued as XYZ", "ABC", 42) == "250 2.0.0 Ok: queued as XYZ"
    assert queued_reply("554 5.7.1 no", "ABC", 42) == "554 5.7.1 no"
    assert CHUNK_OK.format(size=5) == "250 2.0.0 Ok: 5 bytes"


@pytest.mark.parametrize(("data", "expected"), [
    (b"", [b""]),
    (b"abc", [b"abc"]),
    (b"abc\n", [b"abc\n"]),
    (b"a\nb\r\nc", [b"a\n", b"b\r\n", b"c"]),
    (b"\n\n", [b"\n", b"\n"]),
])
def test_a_chunk_is_cut_after_each_lf_for_the_decoder(data, expected):
    assert pieces(data) == expected


def test_the_bytes_of_a_lost_chunk_are_counted_as_postfix_reads_them_in_fragments():
    """Lines counted up to the last 4096-byte fragment read (a bare LF counted as CRLF), the line they left open,
    then the bytes of the fragment being read as they came."""
    counter = RecordCounter()
    counter.feed(b"ab\n" * 1365 + b"a")
    assert counter.received() == 1365 * 4 + 1
    counter.feed(b"b\nc\n")
    assert counter.received() == 1365 * 4 + 1 + 4
    counter.end_of_chunk()
    assert counter.received() == 1365 * 4 + 4 + 3
    counter.feed(b"xyz")
    assert counter.received() == 1365 * 4 + 4 + 3 + 3


def test_after_a_timeout_postfix_counts_its_own_reply_in_place_of_the_fragment():
    counter = RecordCounter()
    counter.feed(b"abc\r\n" * 10)
    reply = "421 4.4.2 mx.example Error: timeout exceeded"
    assert counter.received(reply) == len(reply)
    counter.end_of_chunk()
    assert counter.received(reply) == 50 + len(reply)
