"""DKIM signing benchmark, all in one run, with one 2048-bit RSA key:

1. signing alone, in this process: dkimpy's `dkim.sign` (relaxed/relaxed, its pure-Python RSA) against filterd's
   signing path (the dkim plugin's end_of_message hook: the body hashed as it streams, dkimpy's headers, OpenSSL's
   RSA), on the same 5,000-byte message, rounds alternating; `signing ratio:` filterd / dkimpy. Then ARC sealing
   the same way: dkimpy's `ARC.sign` against the arc plugin's end_of_message hook (`arc sealing:`, with the ratio).
2. end to end, as bench/milter.py runs milters: one Postfix relaying to smtp-sink, an smtpd listener for Postfix
   alone and one for each signing milter (OpenDKIM 2.11 in `Mode s`, filterd's milter with the dkim plugin, and
   Rspamd's proxy worker in milter mode with dkim_signing, network checks off), each over TCP and a unix socket,
   Postfix alone run before and after every milter run (P M1 P M2 ...); each milter's rate to the Postfix runs
   around it. `milter ratio tcp:` and `milter ratio unix:` are filterd / OpenDKIM, `rspamd ratio:` filterd / Rspamd.

    python -m bench.dkim [--messages N] [--rounds R] [--workers W] [--only opendkim filterd rspamd]

Every message reaching smtp-sink in a timed run is checked to carry the milter's DKIM-Signature.
"""

from __future__ import annotations

import argparse
import asyncio
import shutil
import statistics
import sys
import time
from collections.abc import Callable, Sequence
from contextlib import ExitStack
from pathlib import Path

import dkim

from bench.milter import Route, bracketed, check_header, endpoints, measure, sequence
from bench.proxy import MESSAGE_LENGTH, SENDER, in_workdir
from bench.rspamd_milter import RspamdMilter
from filterd import Message, Session
from filterd.plugins import arc as arc_plugin
from filterd.plugins import dkim as dkim_plugin
from filterd.testing import load_plugins
from tests.fixtures.dkim_keys import Key, make_key, tables
from tests.harness import HOST, FilterdProcess, Postfix, Service, SmtpSink, free_port, listening_sockets, \
    smtpd_listener

MILTERS = ("opendkim", "filterd", "rspamd")
TRANSPORTS = ("tcp", "unix")
SIGNED = b"DKIM-Signature: v=1; a=rsa-sha256"
ARC_AUTHSERV_ID = "mx.example.org"
RSPAMD_START = 300
"""Seconds Rspamd may take to start: it compiles its Hyperscan databases first, about a minute here."""


def sample_message(length: int = MESSAGE_LENGTH) -> bytes:
    """A message like smtp-source's, from SENDER, with a body of `length` bytes in lines of 78."""
    line = b"x" * 76 + b"\r\n"
    body = (line * (length // len(line) + 1))[:length]
    return (f"From: <{SENDER}>\r\nTo: <b@example.net>\r\nSubject: bench\r\nDate: Thu, 3 Dec 2026 12:00:00 +0000\r\n"
            f"Message-ID: <bench@example.org>\r\n\r\n").encode() + body


def dkimpy_rate(message: bytes, key: Key, count: int) -> float:
    """Signatures a second with dkimpy alone."""
    pem = key.path.read_bytes()
    started = time.perf_counter()
    for _ in range(count):
        dkim.sign(message, key.selector.encode(), key.domain.encode(), pem, canonicalize=(b"relaxed", b"relaxed"))
    return count / (time.perf_counter() - started)


def filterd_rate(message: bytes, settings, count: int) -> float:
    """Signatures a second through the dkim plugin's end_of_message hook, as the chain calls it."""
    parsed, session = Message.from_bytes(message), Session(client_address="127.0.0.1")

    async def sign_all() -> float:
        started = time.perf_counter()
        for _ in range(count):
            verdict = await dkim_plugin.end_of_message(session, parsed, settings)
            assert verdict.edits, "the dkim plugin did not sign"
        return count / (time.perf_counter() - started)

    return asyncio.run(sign_all())


def dkimpy_arc_rate(message: bytes, key: Key, count: int) -> float:
    """ARC sets a second sealed by dkimpy's ARC.sign, this host's results in an Authentication-Results on top."""
    pem = key.path.read_bytes()
    stamped = f"Authentication-Results: {ARC_AUTHSERV_ID}; arc=none\r\n".encode() + message
    started = time.perf_counter()
    for _ in range(count):
        dkim.ARC(stamped).sign(key.selector.encode(), key.domain.encode(), pem, ARC_AUTHSERV_ID.encode())
    return count / (time.perf_counter() - started)


def filterd_arc_rate(message: bytes, settings, count: int) -> float:
    """ARC sets a second through the arc plugin's end_of_message hook, as the chain calls it."""
    parsed = Message.from_bytes(message)

    async def seal_all() -> float:
        started = time.perf_counter()
        for _ in range(count):
            verdict = await arc_plugin.end_of_message(parsed, (), settings)
            assert len(verdict.edits) == 3, "the arc plugin did not seal"
        return count / (time.perf_counter() - started)

    return asyncio.run(seal_all())


def arc_settings(key: Key) -> dict[str, str]:
    return {"filterd_arc_domain": key.domain, "filterd_arc_selector": key.selector,
            "filterd_arc_key_file": str(key.path), "filterd_arc_authserv_id": ARC_AUTHSERV_ID}


def arc_sealing(key: Key, rounds: int, report: Callable[[str], None]) -> None:
    """dkimpy's ARC.sign and the arc plugin in alternating rounds on the signing benchmark's message and key."""
    message = sample_message()
    settings = load_plugins(arc_plugin, settings=arc_settings(key)).settings["filterd.plugins.arc"]
    rates: dict[str, list[float]] = {"dkimpy": [], "filterd": []}
    for _ in range(rounds):
        rates["dkimpy"].append(dkimpy_arc_rate(message, key, 50))
        rates["filterd"].append(filterd_arc_rate(message, settings, 500))
    dkimpy_median, filterd_median = statistics.median(rates["dkimpy"]), statistics.median(rates["filterd"])
    report(f"arc sealing: {filterd_median:.0f}/s (dkimpy's ARC.sign: {dkimpy_median:.0f}/s, ratio "
           f"{filterd_median / dkimpy_median:.2f})")


def signing(workdir: Path, key: Key, rounds: int, report: Callable[[str], None]) -> None:
    """dkimpy and filterd's path in alternating rounds; the medians and their ratio."""
    message = sample_message()
    settings = load_plugins(dkim_plugin, settings=tables(workdir, key)).settings["filterd.plugins.dkim"]
    rates: dict[str, list[float]] = {"dkimpy": [], "filterd": []}
    for _ in range(rounds):
        rates["dkimpy"].append(dkimpy_rate(message, key, 100))
        rates["filterd"].append(filterd_rate(message, settings, 1000))
    dkimpy_median, filterd_median = statistics.median(rates["dkimpy"]), statistics.median(rates["filterd"])
    report(f"dkimpy signing: {dkimpy_median:.0f} signatures/s")
    report(f"filterd signing: {filterd_median:.0f} signatures/s")
    report(f"signing ratio: {filterd_median / dkimpy_median:.2f}")


class OpenDkimMilter(Service):
    """OpenDKIM in the foreground, signing with one key, on an inet or unix socket."""

    name = "opendkim"

    def __init__(self, directory: Path, socket: str, key: Key, port: int, path: Path | None = None) -> None:
        super().__init__(directory)
        self.socket, self.key, self.port, self.path = socket, key, port, path

    def prepare(self) -> None:
        (self.directory / "opendkim.conf").write_text(
            f"Mode s\nDomain {self.key.domain}\nSelector {self.key.selector}\nKeyFile {self.key.path}\n"
            f"Socket {self.socket}\nCanonicalization relaxed/relaxed\nRequireSafeKeys false\nSyslog no\n"
            f"UMask 000\nBackground no\nPidFile {self.directory / 'opendkim.pid'}\n")

    def command(self) -> list[str]:
        return ["opendkim", "-f", "-x", str(self.directory / "opendkim.conf")]

    def ready(self) -> bool:
        return self.path.exists() if self.path else listening_sockets(self.port) > 0


def start_milter(stack: ExitStack, workdir: Path, milter: str, transport: str, key: Key,
                 workers: int) -> tuple[str, Service]:
    """Start one signing milter; return Postfix's smtpd_milters value for it, and the milter."""
    postfix_side, own, port = endpoints(workdir, milter, transport)
    directory = workdir / f"{milter}-{transport}"
    directory.mkdir(parents=True, exist_ok=True)
    path = Path(own[5:]) if transport == "unix" else None
    if milter == "filterd":
        listeners = f"milter:{own}" + (f" milter:inet:127.0.0.1:{port}" if transport == "unix" else "")
        settings = {"filterd_worker_processes": str(workers), "filterd_plugins": "dkim",
                    "filterd_listeners": listeners, **tables(directory, key)}
        return postfix_side, stack.enter_context(FilterdProcess(directory, settings, port=port))
    if milter == "opendkim":
        socket = f"local:{path}" if path else f"inet:{port}@127.0.0.1"
        return postfix_side, stack.enter_context(OpenDkimMilter(directory, socket, key, port, path))
    bind = f"{path}" if path else f"127.0.0.1:{port}"
    rspamd = RspamdMilter(directory, bind, key, port, path, workers).start(timeout=RSPAMD_START)
    stack.callback(rspamd.stop)
    return postfix_side, rspamd


def start_routes(stack: ExitStack, workdir: Path, key: Key, args: argparse.Namespace) -> tuple[SmtpSink, dict]:
    """smtp-sink, every milter, and one Postfix with an smtpd listener per route: name -> route."""
    sink = stack.enter_context(SmtpSink(workdir / "sink"))
    routes = {"postfix": Route(free_port())}
    listeners = [smtpd_listener(routes["postfix"].port)]
    for milter in args.only:
        for transport in TRANSPORTS:
            side, service = start_milter(stack, workdir, milter, transport, key, args.workers)
            route = routes[f"{milter} {transport}"] = Route(free_port(), service, SIGNED)
            listeners.append(smtpd_listener(route.port, f"smtpd_milters={side}"))
    settings = {"relayhost": f"[{HOST}]:{sink.port}", "milter_default_action": "tempfail", "milter_protocol": "6"}
    stack.enter_context(Postfix(workdir / "postfix", listeners, settings))
    return sink, routes


def milters(workdir: Path, key: Key, args: argparse.Namespace, report: Callable[[str], None]) -> None:
    """Every run in bench.milter's order; medians, CPU a message, and each milter's ratio to Postfix alone."""
    runs = []
    with ExitStack() as stack:
        sink, routes = start_routes(stack, workdir, key, args)
        names = [name for name in routes if name != "postfix"]
        for name in sequence(names, args.rounds):
            route = routes[name]
            runs.append((name, measure(workdir, sink, route.port, args.messages, route.milter)))
            if route.header:
                check_header(sink, route.header)
            report(f"{name}: {runs[-1][1].describe()}")
    ratios = {name: statistics.median(bracketed(runs, name)) for name in names}
    for name in routes:
        report(f"{name}: {statistics.median(run.rate for named, run in runs if named == name):.0f} msg/s")
    for name in names:
        report(f"{name} cpu: {statistics.median(run.cpu_per_message for named, run in runs if named == name):.2f} "
               "ms/msg")
        report(f"{name} ratio to postfix: {ratios[name]:.2f}")
    for peer, label in (("opendkim", "milter ratio"), ("rspamd", "rspamd ratio")):
        compared = {t: ratios[f"filterd {t}"] / ratios[f"{peer} {t}"] for t in TRANSPORTS
                    if f"filterd {t}" in ratios and f"{peer} {t}" in ratios}
        for transport, ratio in compared.items():
            report(f"{label} {transport}: {ratio:.2f}")
        if peer == "rspamd" and compared:
            report(f"{label}: {statistics.mean(compared.values()):.2f}")


def parse_args(argv: Sequence[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog="python -m bench.dkim", description="Benchmark filterd's DKIM signing.")
    parser.add_argument("--messages", type=int, default=1000, help="messages per throughput run")
    parser.add_argument("--rounds", type=int, default=4, help="runs of each milter (and of signing) for medians")
    parser.add_argument("--workers", type=int, default=2,
                        help="filterd_worker_processes and Rspamd's proxy workers (OpenDKIM's threads use every core)")
    parser.add_argument("--only", nargs="+", choices=MILTERS, default=[m for m in MILTERS
                                                                        if m != "rspamd" or shutil.which("rspamd")])
    parser.add_argument("--signing-only", action="store_true", help="the signing figures alone, no milters")
    return parser.parse_args(argv)


def run(workdir: Path, args: argparse.Namespace, report: Callable[[str], None]) -> None:
    key = make_key(workdir)
    signing(workdir, key, args.rounds, report)
    arc_sealing(key, args.rounds, report)
    if not args.signing_only:
        milters(workdir, key, args, report)


def main(argv: Sequence[str] | None = None) -> int:
    args = parse_args(argv)
    return in_workdir("filterd-bench-dkim-", lambda workdir: run(workdir, args, lambda line: print(line, flush=True)))


if __name__ == "__main__":
    sys.exit(main())
