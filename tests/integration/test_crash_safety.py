"""kill -9 under load: every message that got 250 is delivered; duplicates are counted, never losses."""

from __future__ import annotations

import asyncio
import concurrent.futures
import contextlib
import math
import os
import random
import re
import signal
import smtplib
import statistics
import subprocess
import threading
import time

from aiosmtpd.controller import Controller

from tests.harness import MtaError, free_port, process_tree, wait_until
from tests.integration.test_relay import FAST_QUEUE

MESSAGES = 2000
CLIENTS = 8
KILLS = 5


class Load:
    """Clients sending numbered messages; each remembers which ones got 250."""

    def __init__(self, port: int):
        self.port = port
        self.next = 0
        self.acked: set[str] = set()
        self.lock = threading.Lock()

    def take(self) -> str | None:
        with self.lock:
            if self.next >= MESSAGES:
                return None
            self.next += 1
            return f"<crash-{self.next}@test>"

    def client(self) -> None:
        message_id = self.take()
        while message_id is not None:
            try:
                with smtplib.SMTP("127.0.0.1", self.port, timeout=10) as smtp:
                    while message_id is not None:
                        smtp.sendmail("a@example.org", ["b@example.net"],
                                      f"Message-ID: {message_id}\r\nSubject: crash\r\n\r\nbody\r\n")
                        with self.lock:
                            self.acked.add(message_id)
                        message_id = self.take()
            except (OSError, smtplib.SMTPException):
                time.sleep(0.05)


def test_kill_9_loses_no_acknowledged_message(filterd_factory, smtp_sink):
    port = free_port()
    relay = filterd_factory({**FAST_QUEUE, "filterd_listeners": f"relay:127.0.0.1:{port}",
                             "relayhost": f"[127.0.0.1]:{smtp_sink.port}", "filterd_worker_processes": "2"},
                            port=port)
    load = Load(port)
    threads = [threading.Thread(target=load.client) for _ in range(CLIENTS)]
    for thread in threads:
        thread.start()
    rng = random.Random(4)
    for _ in range(KILLS):
        time.sleep(rng.uniform(0.3, 1.2))
        relay.kill()
        relay.start()
    for thread in threads:
        thread.join(120)
    assert len(load.acked) > MESSAGES // 2
    wait_until(lambda: _delivered(smtp_sink) >= load.acked, 60,
               f"{len(load.acked)} acknowledged messages at the sink")
    counts = _counts(smtp_sink)
    duplicates = sum(n - 1 for n in counts.values())
    print(f"acknowledged={len(load.acked)} delivered={len(counts)} duplicates={duplicates}")
    assert duplicates <= 50


def _counts(sink) -> dict[str, int]:
    counts: dict[str, int] = {}
    for raw in sink.messages():
        match = re.search(rb"Message-ID: (<crash-\d+@test>)", raw)
        if match:
            counts[match.group(1).decode()] = counts.get(match.group(1).decode(), 0) + 1
    return counts


def _delivered(sink) -> set[str]:
    return set(_counts(sink))


SOURCE_MESSAGES = 2000
SOURCE_SESSIONS = 8
SOURCE_SENDER = "kill-9@example.org"


class SlowNextHop:
    """Takes its time over the end of DATA, so that a kill lands while the delivery agent waits for the 250."""

    def __init__(self):
        self.received: list[bytes] = []

    async def handle_DATA(self, server, session, envelope):
        self.received.append(envelope.content)
        await asyncio.sleep(SLOW_REPLY)
        return "250 2.0.0 Ok"


SLOW_REPLY = 3.0


def test_kill_9_of_the_queue_manager_alone_lets_its_agent_finish_and_delivers_once(filterd_factory):
    """As Postfix's smtp(8) finishes a delivery whose qmgr died, filterd's delivery agent reads the 250 and records
    it, and the next queue manager waits for it before it takes the message back: one delivery, not two (an agent
    that left with its manager would have dropped the connection before the 250, and the message gone out again)."""
    hop, hop_port, port = SlowNextHop(), free_port(), free_port()
    controller = Controller(hop, hostname="127.0.0.1", port=hop_port)
    controller.start()
    try:
        relay = filterd_factory({**FAST_QUEUE, "filterd_listeners": f"relay:127.0.0.1:{port}",
                                 "relayhost": f"[127.0.0.1]:{hop_port}"}, port=port)
        with smtplib.SMTP("127.0.0.1", port, timeout=30) as client:
            client.sendmail("a@example.org", ["b@example.net"], "Subject: slow\r\n\r\nbody\r\n")
        wait_until(lambda: hop.received, 30, "the message at the next hop")
        os.kill(int((relay.directory / "queue" / "pid" / "qmgr.pid").read_text()), signal.SIGKILL)
        log = relay.directory / "filterd.log"
        wait_until(lambda: "removed" in log.read_text(), 30, "the message's removal")
        time.sleep(1.0)
    finally:
        controller.stop()
    text = log.read_text()
    assert len(hop.received) == 1
    assert "waiting for the delivery agent of the previous queue manager to finish" in text
    assert text.count("status=sent") == 1


def test_kill_9_of_the_delivering_processes_loses_nothing_and_duplicates_no_more_than_postfix(
        filterd_factory, postfix_factory, smtp_sink_factory):
    """smtp-source sends 2,000 messages to filterd and 2,000 to Postfix at the same time, and the processes that
    deliver them are killed five times in each (filterd's queue manager and its delivery agent; Postfix's qmgr and
    smtp): none is lost, and filterd delivers no more messages twice than Postfix (issue 19). Side by side, both
    meet the same load.

    A kill finds a message delivered twice when it lands between the next hop's 250 and the record of it, so each
    count is a draw that depends on where the kills land (Postfix's is 0 when they find its smtp processes idle).
    The counts are compared summed over rounds: two, and more (up to ten) only while filterd's sum is above
    Postfix's. With the deliveries in a process of their own (qmgr/agent.py), whose loop does nothing else, the record
    follows the reply at once; what is left is the time the agent, one process sharing two busy cores with smtp-source,
    smtp-sink and Postfix, takes to read a 250 that Postfix's twenty smtp processes would each read at once. On
    2026-12-04, with Postfix logging through postlogd, the two expectations were equal (69 rounds: filterd 6.1 a
    round, Postfix 6.0); with Postfix logging nowhere (POSTFIX_UNDER_KILLS: postlogd froze it), Postfix is lighter
    and draws fewer (36 rounds: filterd 7.9, Postfix 5.1). The counts come in bursts (a kill finds none or a dozen),
    far wider than Poisson's: CI once drew filterd 3, 20, 5, 0 against Postfix 2, 3, 2, 2. So after ten rounds the
    per-round differences (filterd's minus Postfix's) are put to a one-sided t-test with their own spread: filterd
    fails when their mean is above zero by more than three standard errors (by chance about one run in a hundred
    when the two expectations are equal; those 36 rounds gave t = 1.4 to 1.9), as a recovery that delivered again
    what it had recorded would be, round after round."""
    filterd_sink, postfix_sink = smtp_sink_factory(), smtp_sink_factory()
    port = free_port()
    relay = filterd_factory({**FAST_QUEUE, "filterd_listeners": f"relay:127.0.0.1:{port}",
                             "relayhost": f"[127.0.0.1]:{filterd_sink.port}"}, port=port)
    postfix = postfix_factory.relay(postfix_sink.port, POSTFIX_UNDER_KILLS)
    qmgr_pid = relay.directory / "queue" / "pid" / "qmgr.pid"
    filterd_rounds: list[int] = []
    postfix_rounds: list[int] = []
    for done in range(1, MAX_ROUNDS + 1):
        with concurrent.futures.ThreadPoolExecutor(2) as pool:
            filterd_run = pool.submit(_source_under_kills, "filterd", port, filterd_sink,
                                      lambda: _filterd_qmgr(qmgr_pid), done, state=lambda: _unusual(relay.log()))
            postfix_run = pool.submit(_source_under_kills, "Postfix", postfix.port, postfix_sink,
                                      lambda: _postfix_delivery(postfix.pid), done, Waker(postfix),
                                      lambda: _postfix_state(postfix))
            filterd_rounds.append(filterd_run.result() - sum(filterd_rounds))
            postfix_rounds.append(postfix_run.result() - sum(postfix_rounds))
        print(f"after {done} rounds, duplicates: filterd={filterd_rounds} postfix={postfix_rounds}")
        if done >= ROUNDS and sum(filterd_rounds) <= sum(postfix_rounds):
            return
    assert _standard_errors_above_zero([f - p for f, p in zip(filterd_rounds, postfix_rounds)]) <= 3.0


def _standard_errors_above_zero(differences: list[int]) -> float:
    """The t statistic of the differences' mean against zero (infinite for a constant positive difference)."""
    n, mean = len(differences), statistics.fmean(differences)
    spread = statistics.stdev(differences) / math.sqrt(n)
    return mean / spread if spread else math.copysign(math.inf, mean) if mean else 0.0


ROUNDS, MAX_ROUNDS = 2, 10
POSTFIX_UNDER_KILLS = {"service_throttle_time": "1s", "transport_retry_time": "1s", "maillog_file": ""}
"""A killed smtp is restarted after a second, not a minute, and its transport is tried again after a second, not
transport_retry_time's minute (qmgr suspends a transport whose agent died: the test's 60 s wait ran out). And no
maillog_file: through postlogd, Postfix froze under the kills, once in about fifteen runs (its log and deliveries
stopped mid-round, `postfix stop` hung: every process blocked writing to the postlog socket that no postlogd
read), and its 10-second watchdog had killed a postlogd starved of CPU before; to syslog, which these machines do
not run, nothing waits. The test reads Postfix's deliveries at the sink, not its log."""


def _source_under_kills(relay: str, port: int, sink, delivery_pids, rounds: int, wake=lambda: None,
                        state=lambda: "") -> int:
    """Run smtp-source; each time another sixth of the messages has reached the sink, kill -9 the delivering
    processes (so that every kill lands mid-delivery, however fast the relay); all arrive; the duplicates of this
    round and those before it (`rounds` counts this one). A relay that does not deliver them all is described by
    `state()`."""
    started, before, arrived = time.monotonic(), (rounds - 1) * SOURCE_MESSAGES, sink.counters()[2]
    source = subprocess.Popen(["smtp-source", "-s", str(SOURCE_SESSIONS), "-m", str(SOURCE_MESSAGES),
                               "-f", SOURCE_SENDER, "-t", "b@example.net", f"127.0.0.1:{port}"],
                              stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    killed: set[int] = set()
    for kill in range(1, KILLS + 1):
        wait_until(lambda: set(delivery_pids()) - killed or wake(), 30, f"{relay}'s delivering processes to run again")
        wait_until(lambda: sink.counters()[2] - arrived >= kill * SOURCE_MESSAGES // (KILLS + 1) or wake(), 60,
                   f"{relay}'s deliveries")
        for pid in delivery_pids():
            killed.add(pid)
            with contextlib.suppress(ProcessLookupError):
                os.kill(pid, signal.SIGKILL)
    assert source.wait(60) == 0, source.stderr.read()
    try:
        wait_until(lambda: len(_by_queue_id(sink)) >= before + SOURCE_MESSAGES or wake(), 120,
                   f"{SOURCE_MESSAGES} messages from {relay} at the sink")
    except MtaError as exc:
        raise MtaError(f"{exc}; {len(_by_queue_id(sink)) - before} there\n{state()}") from None
    counts = _by_queue_id(sink)
    assert len(counts) == before + SOURCE_MESSAGES, relay
    print(f"{relay}: {SOURCE_MESSAGES} messages delivered in {time.monotonic() - started:.1f}s")
    return sum(n - 1 for n in counts.values())


class Waker:
    """postqueue -f, at most twice a second: Postfix's master starts a killed qmgr again only when something
    wakes it (new mail, a flush), and smtp-source may have sent its last message before the kill; and the mail a
    killed smtp left deferred waits for queue_run_delay unless flushed (a 60-second wait for Postfix's deliveries
    once ran out so)."""

    def __init__(self, postfix):
        self.postfix, self.last = postfix, 0.0

    def __call__(self) -> None:
        if time.monotonic() - self.last >= 0.5:
            self.last = time.monotonic()
            subprocess.run(["postqueue", "-c", str(self.postfix.config_dir), "-f"], check=True,
                           stdin=subprocess.DEVNULL)


def _postfix_state(postfix) -> str:
    """What Postfix still holds: postqueue -p's last lines (it logs nowhere here: POSTFIX_UNDER_KILLS)."""
    queue = subprocess.run(["postqueue", "-c", str(postfix.config_dir), "-p"], capture_output=True, text=True,
                           stdin=subprocess.DEVNULL).stdout.splitlines()
    return "\n".join(["postqueue -p:", *queue[-12:]])


def _unusual(log: str) -> str:
    """A maillog's last 40 lines other than a delivery's, a connection's or a queue file's routine ones."""
    routine = re.compile(r"status=sent|: (?:client|message-id|from|removed|(?:dis)?connect from)")
    return "\n".join(["unusual log lines:", *[line for line in log.splitlines() if not routine.search(line)][-40:]])


def _filterd_qmgr(pid_file) -> list[int]:
    """filterd's queue manager and its delivery agent, once a queue manager runs."""
    try:
        pid = int(pid_file.read_text())
        return process_tree(pid) if os.path.exists(f"/proc/{pid}") else []
    except (OSError, ValueError):
        return []


def _postfix_delivery(master: int) -> list[int]:
    """Postfix's qmgr and smtp processes (the queue manager and the delivery agents that cross recipients off),
    once a qmgr runs."""
    programs = {}
    for pid in process_tree(master):
        with contextlib.suppress(OSError):
            programs[pid] = open(f"/proc/{pid}/cmdline", "rb").read().split(b"\0")[0]
    if b"qmgr" not in programs.values():
        return []
    return [pid for pid, program in programs.items() if program in (b"qmgr", b"smtp")]


def _by_queue_id(sink) -> dict[str, int]:
    """How often the sink got each of smtp-source's messages, known by the id in the Received: header the relay
    added (a message from another test that found the port is not counted)."""
    counts: dict[str, int] = {}
    for path in sink.dump_dir.iterdir():
        try:
            raw = path.read_bytes()
        except FileNotFoundError:
            continue  # smtp-sink renames a dump file as it completes it
        match = re.search(rb"\((?:filterd|Postfix)\) with \w+ id (\w+)", raw)
        if match and f"X-Mail-Args: <{SOURCE_SENDER}>".encode() in raw:
            counts[match.group(1).decode()] = counts.get(match.group(1).decode(), 0) + 1
    return counts
