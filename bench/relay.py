"""Relay-mode benchmark: filterd's durable queue (fsync on) against a Postfix relay, same load, same run.

    python -m bench.relay [--messages N] [--rounds R] [--skip-memory]

Prints delivered msg/s at smtp-sink for each (medians over the rounds, each round running both), the CPU time
each MTA's processes used a message (steadier than a rate on a shared host), and
`ratio: X` (filterd / postfix); then filterd's peak RSS while 20 concurrent 20 MB messages stream into
its queue.
"""

from __future__ import annotations

import argparse
import sys
from contextlib import ExitStack
from pathlib import Path

from bench.proxy import MEMORY_LENGTH, MEMORY_MESSAGES, RssSampler, Run, bench_postfix, deliver, in_workdir, \
    measured, report_runs, tree_memory_kb
from tests.harness import FilterdProcess, SmtpSink, free_port


def relay_settings(port: int, sink_port: int, **extra: str) -> dict[str, str]:
    return {"filterd_listeners": f"relay:127.0.0.1:{port}", "relayhost": f"[127.0.0.1]:{sink_port}",
            "smtp_dns_support_level": "disabled", "filterd_worker_processes": "2", **extra}


def bench_relay(workdir: Path, messages: int) -> Run:
    """filterd in relay mode (queue file fsynced before 250) delivering to smtp-sink."""
    with ExitStack() as stack:
        sink = stack.enter_context(SmtpSink(workdir / "sink-relay", dump=False))
        port = free_port()
        filterd = stack.enter_context(FilterdProcess(workdir / "filterd-relay", relay_settings(port, sink.port),
                                                     port=port))
        return measured(workdir, sink, filterd.port, messages, filterd.pid)


def memory_run(workdir: Path) -> float:
    """20 concurrent 20 MB messages into the queue and on to smtp-sink; filterd's peak RSS in MB."""
    with ExitStack() as stack:
        sink = stack.enter_context(SmtpSink(workdir / "sink-memory", dump=False))
        port = free_port()
        settings = relay_settings(port, sink.port, message_size_limit=str(50 * 1024 * 1024))
        filterd = stack.enter_context(FilterdProcess(workdir / "filterd-memory", settings, port=port))
        sampler = RssSampler(filterd.pid)
        sampler.start()
        deliver(workdir, sink, filterd.port, MEMORY_MESSAGES, MEMORY_LENGTH, timeout=600)
        return max(sampler.stop(), tree_memory_kb(filterd.pid, "VmHWM")) / 1024


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench.relay")
    parser.add_argument("--messages", type=int, default=2000)
    parser.add_argument("--rounds", type=int, default=5, help="rounds to take each median rate over")
    parser.add_argument("--skip-memory", action="store_true")
    args = parser.parse_args(argv)
    return in_workdir("filterd-bench-relay-", lambda workdir: run(workdir, args))


def run(workdir: Path, args: argparse.Namespace) -> None:
    runs: dict[str, list[Run]] = {"postfix": [], "filterd": []}
    for number in range(args.rounds):
        round_dir = workdir / f"round-{number}"
        round_dir.mkdir()
        runs["postfix"].append(bench_postfix(round_dir, args.messages))
        runs["filterd"].append(bench_relay(round_dir, args.messages))
    report_runs(runs, lambda line: print(line, flush=True))
    if not args.skip_memory:
        print(f"peak rss: {memory_run(workdir):.0f} MB", flush=True)


if __name__ == "__main__":
    sys.exit(main())
