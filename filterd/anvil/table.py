"""anvil's state: per (service, client) the simultaneous connections and the connections per time unit, the
connections each worker holds (dropped when a worker goes away), and the peaks it logs. No I/O; the clock is
passed in.

As Postfix's anvil.c: a rate is a plain counter reset once a time unit has passed since its first event, which
answers a hammering client sooner than a moving average would; an idle client is forgotten a time unit after
its last connection ends.
"""

from __future__ import annotations

import time
from collections import Counter
from dataclasses import dataclass

from filterd.anvil.protocol import STATUS_FAIL, STATUS_OK, Record


EVENTS = ("message", "recipient", "auth")
"""The per-client events anvil counts beside connections, in the order its statistics report their peaks."""


@dataclass
class Remote:
    """One (service, client) pair."""

    count: int
    rate: int
    start: float
    idle_since: float | None = None
    auth: int = 0
    message: int = 0
    recipient: int = 0

    def reset_rates(self, now: float) -> None:
        self.rate = self.auth = self.message = self.recipient = 0
        self.start = now


@dataclass
class Peak:
    """The largest value seen since the last report, whose it was and when (wall clock)."""

    value: int = 0
    ident: str = ""
    when: float = 0.0

    def update(self, value: int, ident: str, now: float) -> None:
        if value > self.value:
            self.value, self.ident, self.when = value, ident, now


def _at(when: float) -> str:
    """ctime's `Mmm dd hh:mm:ss`, as anvil's statistics print the time of a peak."""
    return time.ctime(when)[4:19]


class AnvilTable:
    """The counts and rates of every (service, client) pair, and which local client (worker) holds which."""

    def __init__(self, time_unit: float):
        self.time_unit = time_unit
        self.remotes: dict[str, Remote] = {}
        self.locals: dict[int, Counter[str]] = {}
        self.max_count, self.max_rate, self.max_cache = Peak(), Peak(), Peak()
        self.max_events = {event: Peak() for event in EVENTS}

    def connect(self, local: int, ident: str, now: float) -> Remote:
        """A client connected to a worker (`local`): count it, and its rate."""
        remote = self.remotes.get(ident)
        if remote is None:
            remote = self.remotes[ident] = Remote(1, 1, now)
            self.max_cache.update(len(self.remotes), "", now)
        else:
            if remote.start + self.time_unit < now:
                remote.reset_rates(now)
            remote.rate += 1
            remote.count += 1
            remote.idle_since = None
        self.locals.setdefault(local, Counter())[ident] += 1
        self.max_rate.update(remote.rate, ident, now)
        self.max_count.update(remote.count, ident, now)
        return remote

    def disconnect(self, local: int, ident: str, now: float) -> None:
        """A client left; ignored unless this worker reported it connected (after an anvil restart, it did not)."""
        held = self.locals.get(local)
        if not held or not held[ident]:
            return
        held[ident] -= 1
        if not held[ident]:
            del held[ident]
        remote = self.remotes.get(ident)
        if remote is not None and remote.count > 0:
            remote.count -= 1
            if remote.count == 0:
                remote.idle_since = now

    def drop_local(self, local: int, now: float) -> None:
        """A worker went away (exited, crashed): the connections it held are gone too."""
        for ident, held in self.locals.pop(local, Counter()).items():
            remote = self.remotes.get(ident)
            if remote is not None:
                remote.count = max(0, remote.count - held)
                if remote.count == 0:
                    remote.idle_since = now

    def expire(self, now: float) -> None:
        """Forget clients idle for a time unit."""
        for ident in [i for i, r in self.remotes.items() if r.idle_since is not None
                      and r.idle_since + self.time_unit <= now]:
            del self.remotes[ident]

    def request(self, local: int, record: Record, now: float) -> tuple[Record, str | None]:
        """One request from a worker: the reply, and a warning to log when the request is not understood."""
        name, key = record.get("request"), record.get("ident")
        if key is None or name not in ("connect", "disconnect", "lookup", *EVENTS):
            return {"status": STATUS_FAIL}, f'unrecognized request: "{name}", ignored'
        if name == "disconnect":
            self.disconnect(local, key, now)
            return {"status": STATUS_OK}, None
        if name in EVENTS:
            return {"status": STATUS_OK, "rate": str(self.event(name, key, now))}, None
        remote = self.connect(local, key, now) if name == "connect" else self._looked_up(key, now)
        return {"status": STATUS_OK, "count": str(remote.count), "rate": str(remote.rate)}, None

    def event(self, event: str, ident: str, now: float) -> int:
        """A client sent AUTH, MAIL or RCPT (smtpd_client_auth_rate_limit, _message_rate_limit,
        _recipient_rate_limit): how many this time unit, this one included."""
        remote = self.remotes.get(ident)
        if remote is None:
            remote = self.remotes[ident] = Remote(0, 0, now, idle_since=now)
        elif remote.start + self.time_unit < now:
            remote.reset_rates(now)
        rate = getattr(remote, event) + 1
        setattr(remote, event, rate)
        self.max_events[event].update(rate, ident, now)
        return rate

    def _looked_up(self, key: str, now: float) -> Remote:
        remote = self.remotes.get(key)
        if remote is None:
            return Remote(0, 0, 0.0)
        if remote.start + self.time_unit < now:
            remote.rate = 0
        return remote

    def statistics(self) -> list[str]:
        """anvil's `statistics:` lines for the peaks since the last call, which starts the peaks afresh."""
        unit = round(self.time_unit)
        lines = []
        if self.max_rate.value:
            peak = self.max_rate
            lines.append(f"statistics: max connection rate {peak.value}/{unit}s for ({peak.ident}) at {_at(peak.when)}")
        if self.max_count.value:
            peak = self.max_count
            lines.append(f"statistics: max connection count {peak.value} for ({peak.ident}) at {_at(peak.when)}")
        for event, peak in self.max_events.items():
            if peak.value:
                lines.append(f"statistics: max {event} rate {peak.value}/{unit}s for ({peak.ident}) at "
                             f"{_at(peak.when)}")
        if self.max_cache.value:
            lines.append(f"statistics: max cache size {self.max_cache.value} at {_at(self.max_cache.when)}")
        self.max_count, self.max_rate, self.max_cache = Peak(), Peak(), Peak()
        self.max_events = {event: Peak() for event in EVENTS}
        return lines
