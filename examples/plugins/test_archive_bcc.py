"""The archive_bcc example: the after-queue `queue` hook, run with filterd.testing.run_queue."""

import archive_bcc

from filterd.testing import make_message, run_queue

ARCHIVE = {"archive_bcc_address": "archive@example.org"}


def test_a_message_gets_a_blind_copy_to_the_archive():
    outcome = run_queue(archive_bcc, message=make_message(), settings=ARCHIVE)
    assert outcome.accepted and outcome.bcc == ["archive@example.org"]


def test_bounces_and_an_empty_address_get_none():
    assert run_queue(archive_bcc, message=make_message(), sender="", settings=ARCHIVE).bcc == []
    assert run_queue(archive_bcc, message=make_message()).bcc == []
