"""anvil's table with a hand-driven clock: counts, rates, workers that go away, expiry, the peaks it logs."""

from __future__ import annotations

import time

from filterd.anvil.table import AnvilTable

KEY = "smtp:192.0.2.1"
WORKER_A, WORKER_B = 1, 2


def test_connections_from_any_worker_add_up():
    table = AnvilTable(60)
    assert (table.connect(WORKER_A, KEY, 0).count, table.connect(WORKER_B, KEY, 1).count) == (1, 2)
    assert table.connect(WORKER_A, "smtp:192.0.2.2", 1).count == 1


def test_a_disconnect_takes_one_away():
    table = AnvilTable(60)
    table.connect(WORKER_A, KEY, 0)
    table.connect(WORKER_B, KEY, 0)
    table.disconnect(WORKER_B, KEY, 1)
    assert table.remotes[KEY].count == 1


def test_a_disconnect_from_a_worker_that_did_not_report_the_connection_is_ignored():
    table = AnvilTable(60)
    table.connect(WORKER_A, KEY, 0)
    table.disconnect(WORKER_B, KEY, 1)
    table.disconnect(WORKER_B, "smtp:192.0.2.9", 1)
    assert table.remotes[KEY].count == 1


def test_the_rate_counts_connections_and_starts_afresh_once_a_time_unit_has_passed():
    table = AnvilTable(60)
    for now in (0, 10, 20):
        table.connect(WORKER_A, KEY, now)
        table.disconnect(WORKER_A, KEY, now)
    assert table.connect(WORKER_A, KEY, 60).rate == 4
    assert table.connect(WORKER_A, KEY, 61).rate == 1


def test_a_worker_that_goes_away_takes_its_connections_with_it():
    table = AnvilTable(60)
    table.connect(WORKER_A, KEY, 0)
    table.connect(WORKER_A, KEY, 0)
    table.connect(WORKER_B, KEY, 0)
    table.drop_local(WORKER_A, 1)
    assert table.remotes[KEY].count == 1
    assert WORKER_A not in table.locals


def test_an_idle_client_is_forgotten_a_time_unit_after_its_last_connection_ends():
    table = AnvilTable(60)
    table.connect(WORKER_A, KEY, 0)
    table.disconnect(WORKER_A, KEY, 10)
    table.expire(69)
    assert KEY in table.remotes
    table.expire(70)
    assert KEY not in table.remotes


def test_a_client_still_connected_is_never_forgotten():
    table = AnvilTable(60)
    table.connect(WORKER_A, KEY, 0)
    table.expire(10_000)
    assert table.remotes[KEY].count == 1


def test_requests_as_anvil_answers_them():
    table = AnvilTable(60)
    assert table.request(WORKER_A, {"request": "connect", "ident": KEY}, 0) == (
        {"status": "0", "count": "1", "rate": "1"}, None)
    assert table.request(WORKER_A, {"request": "lookup", "ident": KEY}, 0) == (
        {"status": "0", "count": "1", "rate": "1"}, None)
    assert table.request(WORKER_A, {"request": "disconnect", "ident": KEY}, 0) == ({"status": "0"}, None)
    assert table.request(WORKER_A, {"request": "lookup", "ident": "smtp:none"}, 0)[0]["count"] == "0"


def test_an_unknown_request_fails_with_anvil_s_warning():
    reply, warning = AnvilTable(60).request(WORKER_A, {"request": "frobnicate", "ident": KEY}, 0)
    assert reply == {"status": "-1"}
    assert warning == 'unrecognized request: "frobnicate", ignored'


def test_statistics_are_anvil_s_lines_for_the_peaks_then_start_afresh():
    table, when = AnvilTable(60), time.mktime((2026, 12, 3, 9, 7, 44, 0, 0, -1))
    table.connect(WORKER_A, KEY, when)
    table.connect(WORKER_B, KEY, when)
    assert table.statistics() == [
        "statistics: max connection rate 2/60s for (smtp:192.0.2.1) at Dec  3 09:07:44",
        "statistics: max connection count 2 for (smtp:192.0.2.1) at Dec  3 09:07:44",
        "statistics: max cache size 1 at Dec  3 09:07:44",
    ]
    assert table.statistics() == []


def test_auth_commands_are_counted_per_client_and_start_afresh_with_the_time_unit():
    table = AnvilTable(60)
    table.connect(1, "smtp:192.0.2.1", 0)
    assert [table.request(1, {"request": "auth", "ident": "smtp:192.0.2.1"}, t)[0] for t in (1, 2)] == [
        {"status": "0", "rate": "1"}, {"status": "0", "rate": "2"}]
    assert table.event("auth", "smtp:192.0.2.1", 61) == 1
    assert table.event("auth", "smtp:192.0.2.2", 0) == 1
    table.expire(60)
    assert "smtp:192.0.2.2" not in table.remotes


def test_mail_and_rcpt_are_counted_apart_and_their_peaks_reported_in_anvil_s_order():
    table, when = AnvilTable(60), time.mktime((2026, 12, 3, 9, 7, 44, 0, 0, -1))
    table.connect(WORKER_A, KEY, when)
    replies = [table.request(WORKER_A, {"request": name, "ident": KEY}, when)[0]
               for name in ("message", "recipient", "recipient", "auth", "message")]
    assert [reply["rate"] for reply in replies] == ["1", "1", "2", "1", "2"]
    assert table.statistics()[2:] == [
        "statistics: max message rate 2/60s for (smtp:192.0.2.1) at Dec  3 09:07:44",
        "statistics: max recipient rate 2/60s for (smtp:192.0.2.1) at Dec  3 09:07:44",
        "statistics: max auth rate 1/60s for (smtp:192.0.2.1) at Dec  3 09:07:44",
        "statistics: max cache size 1 at Dec  3 09:07:44",
    ]
    assert table.event("message", KEY, when + 61) == 1
