"""Before-queue proxy benchmark: delivered msg/s at smtp-sink for smtp-sink alone, a Postfix relay
and filterd's proxy, then filterd's peak memory with 20 concurrent 20 MB messages.

    python -m bench.proxy [--messages N] [--rounds R] [--skip-memory] [--only sink postfix filterd]

Every path runs once a round; the rates printed are medians over the rounds (a machine whose load
changes during the run skews one round, not the result).
"""

from __future__ import annotations

import argparse
import shutil
import statistics
import subprocess
import sys
import threading
import time
from collections.abc import Callable, Sequence
from contextlib import ExitStack
from dataclasses import dataclass
from pathlib import Path

from bench.cpu import cpu_seconds
from tests.harness import (FilterdProcess, MtaError, Postfix, SmtpSink, make_workdir, process_tree,
                           wait_until)

SENDER = "a@example.org"
RECIPIENT = "b@example.net"
SESSIONS = 20
MESSAGE_LENGTH = 5000
WARM_UP_MESSAGES = 100
BENCH_HEADER = b"X-Filterd-Bench: yes"
BENCH_SETTINGS = {
    "filterd_worker_processes": "2",
    "filterd_plugins": "bench.plugins.add_header, bench.plugins.body_regex",
}
MEMORY_MESSAGES = 20
MEMORY_LENGTH = 20 * 1024 * 1024
MEMORY_SETTINGS = {**BENCH_SETTINGS, "message_size_limit": str(50 * 1024 * 1024)}
SAMPLE_INTERVAL = 0.02
PATHS = ("sink", "postfix", "filterd")


class Source:
    """One smtp-source run in the background, its output in a file."""

    def __init__(self, workdir: Path, port: int, messages: int, length: int) -> None:
        self.output = workdir / f"smtp-source-{port}-{time.monotonic_ns()}.out"
        command = ["smtp-source", "-s", str(SESSIONS), "-m", str(messages), "-l", str(length),
                   "-f", SENDER, "-t", RECIPIENT, f"127.0.0.1:{port}"]
        with self.output.open("wb") as out:
            self.process = subprocess.Popen(command, stdin=subprocess.DEVNULL, stdout=out,
                                            stderr=subprocess.STDOUT)

    def check(self) -> None:
        """Raise if smtp-source has failed."""
        if self.process.poll():
            output = self.output.read_text()
            raise MtaError(f"smtp-source exited with {self.process.returncode}: {output}")

    def finish(self) -> None:
        """Wait for smtp-source to exit successfully."""
        self.process.wait(60)
        self.check()


def deliver(workdir: Path, sink: SmtpSink, port: int, messages: int, length: int = MESSAGE_LENGTH,
            timeout: float | None = None) -> float:
    """Send messages to port with smtp-source; return seconds until the sink has them all."""
    target = sink.received() + messages
    started = time.monotonic()
    source = Source(workdir, port, messages, length)
    wait_until(lambda: sink.received() >= target, timeout or max(60.0, messages / 20),
               f"{messages} messages at smtp-sink", source.check)
    elapsed = time.monotonic() - started
    source.finish()
    return elapsed


def throughput(workdir: Path, sink: SmtpSink, port: int, messages: int) -> float:
    """Warm the path up, then return delivered msg/s for messages sent to port."""
    deliver(workdir, sink, port, WARM_UP_MESSAGES)
    return messages / deliver(workdir, sink, port, messages)


@dataclass(frozen=True)
class Run:
    """One path's run: delivered msg/s, and CPU ms a message of the MTA under test (0: not measured)."""

    rate: float
    cpu_ms: float = 0.0


def measured(workdir: Path, sink: SmtpSink, port: int, messages: int, pid: int) -> Run:
    """`throughput`, and the CPU the process tree `pid` used a message: steadier than a rate on a shared host."""
    deliver(workdir, sink, port, WARM_UP_MESSAGES)
    before = cpu_seconds(pid)
    rate = messages / deliver(workdir, sink, port, messages)
    return Run(rate, (cpu_seconds(pid) - before) * 1000 / messages)


def bench_sink(workdir: Path, messages: int) -> Run:
    """Measure smtp-source straight into smtp-sink: the loopback ceiling."""
    with SmtpSink(workdir / "sink-alone", dump=False) as sink:
        return Run(throughput(workdir, sink, sink.port, messages))


def bench_postfix(workdir: Path, messages: int) -> Run:
    """Measure a Postfix relay delivering to smtp-sink."""
    with ExitStack() as stack:
        sink = stack.enter_context(SmtpSink(workdir / "sink-postfix"))
        postfix = stack.enter_context(Postfix.relay(workdir / "postfix", sink.port))
        return measured(workdir, sink, postfix.port, messages, postfix.pid)


def bench_filterd(workdir: Path, messages: int) -> Run:
    """Measure filterd's proxy with the two bench plugins, forwarding to smtp-sink."""
    with ExitStack() as stack:
        sink = stack.enter_context(SmtpSink(workdir / "sink-filterd"))
        filterd = stack.enter_context(FilterdProcess(workdir / "filterd", BENCH_SETTINGS,
                                                     nexthop_port=sink.port))
        run = measured(workdir, sink, filterd.port, messages, filterd.pid)
        check_plugins_ran(sink)
        return run


def check_plugins_ran(sink: SmtpSink) -> None:
    """Fail the benchmark if filterd forwarded mail without running the bench plugins."""
    sample = next(sink.dump_dir.iterdir()).read_bytes()
    if BENCH_HEADER not in sample:
        raise MtaError(f"filterd forwarded a message without {BENCH_HEADER.decode()}")


def process_status_kb(pid: int, field: str) -> int:
    """Return a /proc/PID/status memory field in kB, 0 if the process is gone."""
    try:
        lines = Path(f"/proc/{pid}/status").read_text().splitlines()
    except OSError:
        return 0
    values = [line.split()[1] for line in lines if line.startswith(f"{field}:")]
    return int(values[0]) if values else 0


def tree_memory_kb(pid: int, field: str) -> int:
    """Sum a memory field over a process and its descendants."""
    return sum(process_status_kb(member, field) for member in process_tree(pid))


class RssSampler(threading.Thread):
    """Sample the summed VmRSS of a process tree until stopped; keep the peak."""

    def __init__(self, pid: int) -> None:
        super().__init__(daemon=True)
        self.pid = pid
        self.peak_kb = 0
        self.done = threading.Event()

    def run(self) -> None:
        while not self.done.wait(SAMPLE_INTERVAL):
            self.peak_kb = max(self.peak_kb, tree_memory_kb(self.pid, "VmRSS"))

    def stop(self) -> int:
        """Stop sampling and return the peak in kB."""
        self.done.set()
        self.join()
        return self.peak_kb


def memory_run(workdir: Path) -> float:
    """Send 20 concurrent 20 MB messages through filterd; return its peak RSS in MB."""
    with ExitStack() as stack:
        sink = stack.enter_context(SmtpSink(workdir / "sink-memory", dump=False))
        filterd = stack.enter_context(FilterdProcess(workdir / "filterd-memory", MEMORY_SETTINGS,
                                                     nexthop_port=sink.port))
        sampler = RssSampler(filterd.pid)
        sampler.start()
        deliver(workdir, sink, filterd.port, MEMORY_MESSAGES, MEMORY_LENGTH, timeout=600)
        peak_kb = max(sampler.stop(), tree_memory_kb(filterd.pid, "VmHWM"))
        return peak_kb / 1024


def parse_args(argv: Sequence[str] | None) -> argparse.Namespace:
    """Parse the command line."""
    parser = argparse.ArgumentParser(prog="python -m bench.proxy",
                                     description="Benchmark filterd's before-queue proxy.")
    parser.add_argument("--messages", type=int, default=2000, help="messages per throughput run")
    parser.add_argument("--rounds", type=int, default=5, help="rounds to take each path's median rate over")
    parser.add_argument("--skip-memory", action="store_true", help="skip the 20 x 20 MB memory run")
    parser.add_argument("--only", nargs="+", choices=PATHS, default=list(PATHS),
                        help="throughput runs to do (default: all)")
    return parser.parse_args(argv)


def run(workdir: Path, args: argparse.Namespace, report: Callable[[str], None]) -> None:
    """Run the selected benchmarks, every path once a round, and report each median rate and their ratio."""
    benches = {"sink": bench_sink, "postfix": bench_postfix, "filterd": bench_filterd}
    runs: dict[str, list[Run]] = {path: [] for path in PATHS if path in args.only}
    for number in range(args.rounds):
        round_dir = workdir / f"round-{number}"
        round_dir.mkdir()
        for path in runs:
            runs[path].append(benches[path](round_dir, args.messages))
    report_runs(runs, report)
    if not args.skip_memory:
        report(f"peak rss: {memory_run(workdir):.0f} MB")


def report_runs(runs: dict[str, list[Run]], report: Callable[[str], None]) -> None:
    """Each path's median rate and CPU a message, the rate ratio filterd/postfix and the CPU each used."""
    medians = {path: statistics.median(run.rate for run in values) for path, values in runs.items()}
    for path, rate in medians.items():
        report(f"{path}: {rate:.0f} msg/s")
    if "postfix" in medians and "filterd" in medians:
        report(f"ratio: {medians['filterd'] / medians['postfix']:.2f}")
    for path in ("postfix", "filterd"):
        if path in runs:
            report(f"{path} cpu: {statistics.median(run.cpu_ms for run in runs[path]):.2f} ms/msg")


def in_workdir(prefix: str, body: Callable[[Path], None]) -> int:
    """Run a benchmark in a scratch directory, kept only if something fails."""
    workdir = make_workdir(prefix)
    try:
        body(workdir)
    except BaseException:
        print(f"bench: files kept in {workdir}", file=sys.stderr)
        raise
    shutil.rmtree(workdir)
    return 0


def main(argv: Sequence[str] | None = None) -> int:
    args = parse_args(argv)
    return in_workdir("filterd-bench-", lambda workdir: run(workdir, args, lambda line: print(line, flush=True)))


if __name__ == "__main__":
    sys.exit(main())
