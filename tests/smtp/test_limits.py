"""A worker's gate: its session cap, which clients anvil counts, the end of a burst."""

from __future__ import annotations

import ipaddress

from filterd.anvil.client import AnvilClient
from filterd.smtp.limits import RECYCLE_PEAK, ConnectionGate, ConnectionLimits

SERVICE = "127.0.0.1:10025"


def test_sessions_beyond_the_cap_are_turned_away_with_one_warning(filterd_log):
    gate = ConnectionGate(ConnectionLimits(sessions_per_worker=2), None, "mx.example")
    assert [gate.enter(SERVICE, "smtpd") for _ in range(4)] == [True, True, False, False]
    gate.leave()
    assert gate.enter(SERVICE, "smtpd")
    warnings = [r.getMessage() for r in filterd_log.records if "session limit" in r.getMessage()]
    assert len(warnings) == 1 and warnings[0].startswith(f'service "{SERVICE}" has reached its session limit "2"')


def test_no_cap_when_the_limit_is_zero():
    gate = ConnectionGate(ConnectionLimits(sessions_per_worker=0), None, "mx.example")
    assert all(gate.enter(SERVICE, "smtpd") for _ in range(5000))


def test_anvil_counts_clients_outside_the_exceptions_while_a_limit_is_in_force(tmp_path):
    anvil = AnvilClient(str(tmp_path / "anvil"))
    exceptions = (ipaddress.ip_network("127.0.0.0/8"), ipaddress.ip_network("2001:db8::/32"))
    gate = ConnectionGate(ConnectionLimits(count_limit=50, exceptions=exceptions), anvil, "mx.example")
    assert [gate.limited(a) for a in ("192.0.2.1", "127.0.0.1", "2001:db8::1", "2001:db9::1")] == [
        True, False, False, True]
    off = ConnectionGate(ConnectionLimits(count_limit=0, rate_limit=0), anvil, "mx.example")
    assert not off.limited("192.0.2.1")
    assert not ConnectionGate(ConnectionLimits(), None, "mx.example").limited("192.0.2.1")


def test_the_end_of_a_burst_is_announced_once_its_last_session_leaves():
    ended: list[int] = []
    gate = ConnectionGate(ConnectionLimits(), None, "mx.example", lambda: ended.append(gate.sessions))
    for _ in range(RECYCLE_PEAK):
        gate.enter(SERVICE, "smtpd")
    for _ in range(RECYCLE_PEAK - 1):
        gate.leave()
    assert ended == []
    gate.leave()
    assert ended == [0] and gate.idle.is_set()


def test_a_quiet_worker_is_not_replaced():
    ended: list[int] = []
    gate = ConnectionGate(ConnectionLimits(), None, "mx.example", lambda: ended.append(1))
    for _ in range(3):
        gate.enter(SERVICE, "smtpd")
        gate.leave()
    assert ended == []
