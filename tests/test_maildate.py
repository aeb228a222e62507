"""Dates as Postfix writes them: headers in mail_date()'s form (day padded with a space), maillog stamps."""

import time

import pytest

from filterd.maildate import log_stamp, mail_date
from filterd.model import Envelope, Session
from filterd.qmgr.bounce import compose
from filterd.queue.queuefile import QueueEnvelope, QueueFile, Recipient
from filterd.queue.spool import Spool
from filterd.received import received_header

DEC_3 = 1_796_277_605  # Thu Dec  3 06:00:05 2026 UTC
DEC_13 = DEC_3 + 10 * 86400


@pytest.mark.parametrize("zone, when, expected", [
    ("UTC", DEC_3, "Thu,  3 Dec 2026 06:00:05 +0000 (UTC)"),
    ("UTC", DEC_13, "Sun, 13 Dec 2026 06:00:05 +0000 (UTC)"),
    ("Asia/Kolkata", DEC_3, "Thu,  3 Dec 2026 11:30:05 +0530 (IST)"),
    ("America/New_York", DEC_3, "Thu,  3 Dec 2026 01:00:05 -0500 (EST)"),
    ("America/St_Johns", DEC_3, "Thu,  3 Dec 2026 02:30:05 -0330 (NST)"),
    ("America/New_York", DEC_3 - 5 * 3600 - 5, "Wed,  2 Dec 2026 20:00:00 -0500 (EST)"),
    ("Europe/Berlin", 1_783_000_000, "Thu,  2 Jul 2026 15:46:40 +0200 (CEST)"),
])
def test_header_dates_are_postfixs_mail_date(local_zone, zone, when, expected):
    local_zone(zone)
    assert mail_date(when) == expected


@pytest.mark.parametrize("zone", ["UTC", "Asia/Kolkata", "America/St_Johns", "Australia/Lord_Howe"])
def test_mail_date_is_cs_strftime_with_a_space_padded_day(local_zone, zone):
    local_zone(zone)
    for when in range(DEC_3 - 400 * 86400, DEC_3, 86400 * 7 + 3607):
        assert mail_date(when) == time.strftime("%a, %e %b %Y %H:%M:%S %z (%Z)", time.localtime(when))


def test_maillog_stamps_pad_the_day_with_a_zero_as_postlogd_does(local_zone):
    local_zone("UTC")
    assert log_stamp(DEC_3) == "Dec 03 06:00:05"
    assert log_stamp(DEC_13 + 0.9) == "Dec 13 06:00:05"


def test_a_bounce_dates_its_arrival_and_itself_in_postfixs_form(tmp_path, local_zone):
    local_zone("UTC")
    envelope = QueueEnvelope("4ABCDEFGHIzJ", "alice@example.org", [Recipient("bob@example.net")], arrival=DEC_3,
                             size=15)
    qf = QueueFile.read(str(Spool(tmp_path).create().store("deferred", envelope, iter([b"Subject: hi\r\n\r\n"]))))
    bounce, content = compose(qf, qf.envelope.recipients, "mx.example.org")
    assert b"\r\nArrival-Date: Thu,  3 Dec 2026 06:00:05 +0000 (UTC)\r\n" in content
    assert f"\r\nDate: {mail_date(bounce.arrival)}\r\n".encode() in content


def test_the_received_header_is_dated_at_mail_from_as_smtpd_dates_it(local_zone):
    local_zone("Asia/Kolkata")
    envelope = Envelope(queue_id="4ABCDEFGHIzJ", sender="alice@example.org", recipients=["bob@example.net"],
                        arrival=DEC_3)
    header = received_header(Session(helo="client.example.org"), envelope, "mx.example.org")
    assert header.raw.endswith(b"\tfor <bob@example.net>; Thu,  3 Dec 2026 11:30:05 +0530 (IST)\r\n")
