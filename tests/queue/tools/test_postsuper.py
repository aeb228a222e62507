"""postsuper -d, -h, -H, -r on a spool in tmp_path: what moves where, what is said and what is logged."""

from __future__ import annotations

import os
import re
import time

import pytest

from tests.queue.tools.conftest import queue_message


@pytest.fixture
def queued(spool):
    """One message in each of maildrop, incoming, active, deferred, hold and corrupt: Q1 ... Q6."""
    for number, queue in enumerate(("maildrop", "incoming", "active", "deferred", "hold", "corrupt"), 1):
        queue_message(spool, queue, f"Q{number}", "s@example.org", ["r@example.net"])
    return spool


def where(spool) -> dict[str, list[str]]:
    return {queue: spool.ids(queue) for queue in ("maildrop", "incoming", "active", "deferred", "hold", "corrupt")}


def test_delete_one_message(queued, tools, maillog):
    result = tools("postsuper", "-d", "Q4")
    assert (result.status, result.err) == (0, "postsuper: Q4: removed\npostsuper: Deleted: 1 message\n")
    assert where(queued)["deferred"] == []
    assert re.search(r" filterd/postsuper\[\d+\]: Q4: removed\n", maillog())
    assert re.search(r" filterd/postsuper\[\d+\]: Deleted: 1 message\n", maillog())


def test_delete_all_takes_every_message_queue_but_not_corrupt_and_logs_only_the_total(queued, tools, maillog):
    result = tools("postsuper", "-d", "ALL")
    assert result.err == "postsuper: Deleted: 5 messages\n"
    assert where(queued) == {"maildrop": [], "incoming": [], "active": [], "deferred": [], "hold": [],
                             "corrupt": ["Q6"]}
    assert ": removed" not in maillog()


def test_delete_all_of_named_queues(queued, tools):
    assert tools("postsuper", "-d", "ALL", "deferred", "corrupt").err == "postsuper: Deleted: 2 messages\n"
    assert where(queued)["incoming"] == ["Q2"] and where(queued)["corrupt"] == []


def test_an_unknown_id_deletes_nothing_and_a_path_is_refused(queued, tools):
    assert tools("postsuper", "-d", "NOSUCH").err == "postsuper: Deleted: 0 messages\n"
    result = tools("postsuper", "-d", "../hold/Q5")
    assert result.err == ("postsuper: warning: invalid mail queue id: ../hold/Q5\n"
                          "postsuper: Deleted: 0 messages\n")
    assert where(queued)["hold"] == ["Q5"]


def test_ids_from_standard_input(queued, tools):
    result = tools("postsuper", "-d", "-", stdin=b"Q2\nQ3\nNOSUCH\n")
    assert result.err == "postsuper: Q2: removed\npostsuper: Q3: removed\npostsuper: Deleted: 2 messages\n"


def test_all_with_other_ids_warns_that_they_are_ignored(queued, tools):
    result = tools("postsuper", "-h", "Q2", "-h", "ALL")
    assert result.err == ('postsuper: warning: option "-h ALL" will ignore other command line queue IDs\n'
                          "postsuper: Placed on hold: 3 messages\n")


def test_hold_takes_from_incoming_active_and_deferred_never_from_maildrop(queued, tools):
    assert tools("postsuper", "-h", "Q1").err == "postsuper: Placed on hold: 0 messages\n"
    assert tools("postsuper", "-h", "Q4").err == "postsuper: Q4: placed on hold\npostsuper: Placed on hold: 1 message\n"
    assert tools("postsuper", "-h", "ALL").err == "postsuper: Placed on hold: 2 messages\n"
    assert where(queued)["hold"] == ["Q2", "Q3", "Q4", "Q5"] and where(queued)["maildrop"] == ["Q1"]


def test_release_moves_hold_to_deferred_keeping_the_next_attempt_time(queued, tools):
    os.utime(queued.path("hold", "Q5"), (1000, 1000))
    result = tools("postsuper", "-H", "Q5")
    assert result.err == "postsuper: Q5: released from hold\npostsuper: Released from hold: 1 message\n"
    assert where(queued)["deferred"] == ["Q4", "Q5"]
    assert os.stat(queued.path("deferred", "Q5")).st_mtime == 1000
    assert tools("postsuper", "-H", "Q4").err == "postsuper: Released from hold: 0 messages\n"


def test_requeue_goes_through_maildrop_with_fresh_time_stamps(queued, tools):
    os.utime(queued.path("deferred", "Q4"), (1000, 1000))
    result = tools("postsuper", "-r", "Q4")
    assert result.err == "postsuper: Q4: requeued\npostsuper: Requeued: 1 message\n"
    assert where(queued)["maildrop"] == ["Q1", "Q4"]
    assert time.time() - os.stat(queued.path("maildrop", "Q4")).st_mtime < 60
    assert tools("postsuper", "-r", "ALL").err == "postsuper: Requeued: 3 messages\n"
    assert where(queued)["maildrop"] == ["Q1", "Q2", "Q3", "Q4", "Q5"]


def test_several_operations_report_in_postfixs_order(queued, tools):
    result = tools("postsuper", "-h", "Q2", "-d", "Q3", "-r", "Q4")
    assert result.err == ("postsuper: Q3: removed\n"
                          "postsuper: Q4: requeued\n"
                          "postsuper: Q2: placed on hold\n"
                          "postsuper: Requeued: 1 message\n"
                          "postsuper: Deleted: 1 message\n"
                          "postsuper: Placed on hold: 1 message\n")


def test_an_unknown_queue_and_no_operation_are_fatal(queued, tools):
    result = tools("postsuper", "-d", "ALL", "deferrred")
    assert result.status == 1
    assert result.err.startswith("postsuper: fatal: unknown queue: deferrred")
    assert where(queued)["deferred"] == ["Q4"]
    assert tools("postsuper").err.startswith("postsuper: fatal: usage: postsuper")
