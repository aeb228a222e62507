"""STARTTLS benchmark: the before-queue proxy with TLS on both sides against a Postfix relay with the same
certificate, and what the TLS sessions cost each in CPU.

    python -m bench.tls [--messages N] [--rounds R]

smtp-source speaks no TLS and smtp-sink takes none, so each path runs between two helper Postfix instances:

    smtp-source -> feeder Postfix --TLS--> MTA under test --TLS--> sink Postfix -> smtp-sink (counted)

The feeder and the MTA under test open one session a message (no connection cache, as Postfix's smtp client
with TLS and filterd's proxy do anyway), so each message is one TLS session into the MTA under test and one out
of it. Every path runs in the same round twice, with TLS and without (the same helpers, TLS off); the rates are
medians over the rounds, `tls ratio` is filterd's rate over Postfix's with TLS, and the TLS cost a session is
the CPU a message each MTA used with TLS less without, halved (one session in, one out).
"""

from __future__ import annotations

import argparse
import statistics
import sys
from collections.abc import Callable, Sequence
from contextlib import ExitStack
from pathlib import Path

from bench.proxy import BENCH_SETTINGS, Run, check_plugins_ran, in_workdir, measured
from tests.certificates import make_certificate
from tests.harness import FilterdProcess, Postfix, SmtpSink, free_port, smtpd_listener

PATHS = ("postfix", "filterd")
NO_CACHE = {"smtp_connection_cache_on_demand": "no"}
FEEDER = {"in_flow_delay": "0", "initial_destination_concurrency": "20", "default_destination_concurrency_limit": "40"}
"""The feeder keeps the MTA under test busy: no flow control against smtp-source, no slow start, more parallel
sessions than smtp-source's 20 (the proxy answers only once its next hop has the message)."""


def server_tls(cert: Path, key: Path, tls: bool) -> dict[str, str]:
    """The smtpd side: STARTTLS offered with the bench's certificate, or not at all."""
    if not tls:
        return {"smtpd_tls_security_level": "none"}
    return {"smtpd_tls_security_level": "may", "smtpd_tls_cert_file": str(cert), "smtpd_tls_key_file": str(key)}


def client_tls(tls: bool) -> dict[str, str]:
    return {"smtp_tls_security_level": "encrypt" if tls else "none"}


def helpers(stack: ExitStack, workdir: Path, cert: Path, key: Path, tls: bool) -> tuple[SmtpSink, Postfix]:
    """smtp-sink, and the sink Postfix in front of it that takes the MTA under test's mail over TLS."""
    sink = stack.enter_context(SmtpSink(workdir / "sink", dump=True))
    receiver = stack.enter_context(Postfix(workdir / "receiver", [smtpd_listener(free_port())],
                                           {**server_tls(cert, key, tls), "relayhost": f"[127.0.0.1]:{sink.port}"}))
    return sink, receiver


def feeder(stack: ExitStack, workdir: Path, port: int, tls: bool) -> Postfix:
    """The Postfix that smtp-source sends to, relaying each message in a TLS session of its own to `port`."""
    return stack.enter_context(Postfix(workdir / "feeder", [smtpd_listener(free_port())],
                                       {**client_tls(tls), **NO_CACHE, **FEEDER, "relayhost": f"[127.0.0.1]:{port}"}))


def bench_postfix(workdir: Path, messages: int, cert: Path, key: Path, tls: bool) -> Run:
    """A Postfix relay with STARTTLS in and out."""
    with ExitStack() as stack:
        sink, receiver = helpers(stack, workdir, cert, key, tls)
        relay = stack.enter_context(Postfix(workdir / "postfix", [smtpd_listener(free_port())], {
            **server_tls(cert, key, tls), **client_tls(tls), **NO_CACHE,
            "relayhost": f"[127.0.0.1]:{receiver.port}"}))
        source = feeder(stack, workdir, relay.port, tls)
        return measured(workdir, sink, source.port, messages, relay.pid)


def bench_filterd(workdir: Path, messages: int, cert: Path, key: Path, tls: bool) -> Run:
    """filterd's proxy with the two bench plugins, STARTTLS in and out."""
    with ExitStack() as stack:
        sink, receiver = helpers(stack, workdir, cert, key, tls)
        filterd = stack.enter_context(FilterdProcess(workdir / "filterd", {
            **BENCH_SETTINGS, **server_tls(cert, key, tls), **client_tls(tls)}, nexthop_port=receiver.port))
        source = feeder(stack, workdir, filterd.port, tls)
        run = measured(workdir, sink, source.port, messages, filterd.pid)
        check_plugins_ran(sink)
        return run


def parse_args(argv: Sequence[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog="python -m bench.tls",
                                     description="Benchmark filterd's proxy with STARTTLS on both sides.")
    parser.add_argument("--messages", type=int, default=1000, help="messages per throughput run")
    parser.add_argument("--rounds", type=int, default=3, help="rounds to take each path's median over")
    return parser.parse_args(argv)


def run(workdir: Path, args: argparse.Namespace, report: Callable[[str], None]) -> None:
    """Every path with and without TLS once a round; then the medians, the ratio and the TLS cost a session."""
    cert, key = make_certificate(workdir / "certs", "localhost")
    benches = {"postfix": bench_postfix, "filterd": bench_filterd}
    runs: dict[tuple[str, bool], list[Run]] = {(path, tls): [] for path in PATHS for tls in (True, False)}
    for number in range(args.rounds):
        for (path, tls), results in runs.items():
            directory = workdir / f"round-{number}-{path}-{'tls' if tls else 'plain'}"
            directory.mkdir(parents=True)
            results.append(benches[path](directory, args.messages, cert, key, tls))
    report_runs(runs, report)


def report_runs(runs: dict[tuple[str, bool], list[Run]], report: Callable[[str], None]) -> None:
    rate = {key: statistics.median(r.rate for r in values) for key, values in runs.items()}
    cpu = {key: statistics.median(r.cpu_ms for r in values) for key, values in runs.items()}
    for path in PATHS:
        report(f"{path} tls: {rate[path, True]:.0f} msg/s, plain: {rate[path, False]:.0f} msg/s")
    report(f"tls ratio: {rate['filterd', True] / rate['postfix', True]:.2f}")
    report(f"plain ratio: {rate['filterd', False] / rate['postfix', False]:.2f}")
    for path in PATHS:
        report(f"{path} cpu: {cpu[path, True]:.2f} ms/msg with tls, {cpu[path, False]:.2f} without")
        report(f"{path} tls cost: {(cpu[path, True] - cpu[path, False]) / 2:.2f} ms/session")


def main(argv: Sequence[str] | None = None) -> int:
    args = parse_args(argv)
    return in_workdir("filterd-bench-tls-", lambda workdir: run(workdir, args, lambda line: print(line, flush=True)))


if __name__ == "__main__":
    sys.exit(main())
