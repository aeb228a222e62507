"""Milter benchmark: delivered msg/s at smtp-sink for Postfix alone, Postfix with filterd's milter (a
header-editing plugin, 2 worker processes) and Postfix with a trivial pymilter milter adding one header,
each milter over TCP and over a unix socket, all in one run; then each ratio to Postfix alone.

    python -m bench.milter [--messages N] [--rounds R] [--only filterd pymilter filterd-message]
                           [--transports tcp unix]

filterd's plugin adds its header without reading the message, like the pymilter milter, so both ask
Postfix for the end of message only; `filterd-message` runs a plugin that takes the message, for which
filterd asks for headers and body too.

Each milter run follows its own run of Postfix alone, and its ratio is to that run; with several rounds
the figures printed are medians: a machine whose load changes during the run skews one pair, not the result.
"""

from __future__ import annotations

import argparse
import statistics
import sys
from collections.abc import Callable, Sequence
from contextlib import ExitStack
from pathlib import Path

from bench.proxy import bench_postfix, in_workdir, throughput
from tests.mta import (REPO_ROOT, FilterdProcess, MtaError, Postfix, Service, SmtpSink, free_port,
                       listening_sockets)

MILTERS = ("filterd", "pymilter")
VARIANTS = {"filterd": "bench.plugins.milter_tag", "filterd-message": "bench.plugins.add_header"}
TRANSPORTS = ("tcp", "unix")
HEADERS = {"filterd": b"X-Filterd-Bench: yes", "filterd-message": b"X-Filterd-Bench: yes",
           "pymilter": b"X-Pymilter-Bench: yes"}
POSTFIX_MILTER = {"milter_default_action": "tempfail", "milter_protocol": "6"}


class PymilterProcess(Service):
    """bench/pymilter_header.py on an inet or unix socket."""

    name = "pymilter"

    def __init__(self, directory: Path, socket: str, port: int = 0, path: Path | None = None) -> None:
        super().__init__(directory)
        self.socket, self.port, self.path = socket, port, path

    def command(self) -> list[str]:
        return [sys.executable, "-m", "bench.pymilter_header", self.socket]

    def environment(self) -> dict[str, str]:
        import os

        return {**os.environ, "PYTHONPATH": str(REPO_ROOT)}

    def ready(self) -> bool:
        return self.path.exists() if self.path else listening_sockets(self.port) > 0


def endpoints(workdir: Path, milter: str, transport: str) -> tuple[str, str, int]:
    """(Postfix's smtpd_milters value, the milter's own listener syntax, a TCP port to wait on)."""
    port = free_port()
    if transport == "unix":
        path = workdir / f"{milter}.sock"
        own = f"unix:{path}"
        return f"unix:{path}", own, port
    own = f"inet:{port}@127.0.0.1" if milter == "pymilter" else f"inet:127.0.0.1:{port}"
    return f"inet:127.0.0.1:{port}", own, port


def start_milter(stack: ExitStack, workdir: Path, milter: str, transport: str, workers: int) -> str:
    """Start the milter; return what Postfix's smtpd_milters says to reach it."""
    postfix_side, own, port = endpoints(workdir, milter, transport)
    directory = workdir / f"{milter}-{transport}"
    if milter in VARIANTS:
        listeners = f"milter:{own}" + (f" milter:inet:127.0.0.1:{port}" if transport == "unix" else "")
        settings = {"filterd_worker_processes": str(workers), "filterd_plugins": VARIANTS[milter],
                    "filterd_listeners": listeners}
        stack.enter_context(FilterdProcess(directory, settings, port=port))
    else:
        path = Path(own[5:]) if transport == "unix" else None
        stack.enter_context(PymilterProcess(directory, own, port, path))
    return postfix_side


def bench_milter(workdir: Path, milter: str, transport: str, messages: int, workers: int = 2) -> float:
    """Postfix with smtpd_milters pointing at one milter, relaying to smtp-sink."""
    with ExitStack() as stack:
        sink = stack.enter_context(SmtpSink(workdir / f"sink-{milter}-{transport}"))
        settings = {**POSTFIX_MILTER, "smtpd_milters": start_milter(stack, workdir, milter, transport, workers)}
        postfix = stack.enter_context(Postfix.relay(workdir / f"postfix-{milter}-{transport}", sink.port, settings))
        rate = throughput(workdir, sink, postfix.port, messages)
        check_header(sink, HEADERS[milter])
        return rate


def check_header(sink: SmtpSink, header: bytes) -> None:
    """Fail the benchmark if mail went through without the milter's header."""
    sample = next(sink.dump_dir.iterdir()).read_bytes()
    if header not in sample:
        raise MtaError(f"a message reached smtp-sink without {header.decode()}")


def parse_args(argv: Sequence[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog="python -m bench.milter", description="Benchmark filterd's milter.")
    parser.add_argument("--messages", type=int, default=2000, help="messages per throughput run")
    parser.add_argument("--rounds", type=int, default=1, help="rounds to take medians over")
    parser.add_argument("--workers", type=int, default=2, help="filterd_worker_processes for filterd's milter")
    parser.add_argument("--only", nargs="+", choices=[*MILTERS, "filterd-message"], default=list(MILTERS),
                        help="milters to run")
    parser.add_argument("--transports", nargs="+", choices=TRANSPORTS, default=list(TRANSPORTS))
    return parser.parse_args(argv)


def one_round(workdir: Path, args: argparse.Namespace, report: Callable[[str], None]) -> dict[str, tuple[float, float]]:
    """Each milter on each transport, each right after its own run of Postfix alone: name -> (alone, with)."""
    rates = {}
    for milter in args.only:
        for transport in args.transports:
            name = f"{milter} {transport}"
            alone = bench_postfix(workdir / name.replace(" ", "-"), args.messages)
            rates[name] = alone, bench_milter(workdir, milter, transport, args.messages, args.workers)
            report(f"postfix: {alone:.0f} msg/s")
            report(f"{name}: {rates[name][1]:.0f} msg/s")
    return rates


def run(workdir: Path, args: argparse.Namespace, report: Callable[[str], None]) -> None:
    """Every round, then the median rates and the median ratios (each to the Postfix run just before it)."""
    rounds = []
    for number in range(args.rounds):
        round_dir = workdir / f"round-{number}"
        round_dir.mkdir()
        rounds.append(one_round(round_dir, args, report if args.rounds == 1 else lambda line: None))
    if args.rounds > 1:
        alone = [pair[0] for rates in rounds for pair in rates.values()]
        report(f"postfix: {statistics.median(alone):.0f} msg/s")
        for name in rounds[0]:
            report(f"{name}: {statistics.median(r[name][1] for r in rounds):.0f} msg/s")
    for name in rounds[0]:
        ratio = statistics.median(r[name][1] / r[name][0] for r in rounds)
        report(f"{name} ratio: {ratio:.2f}")


def main(argv: Sequence[str] | None = None) -> int:
    args = parse_args(argv)
    return in_workdir("filterd-bench-milter-", lambda workdir: run(workdir, args, lambda line: print(line, flush=True)))


if __name__ == "__main__":
    sys.exit(main())
