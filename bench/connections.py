"""Many sessions at once: memory while 1,000 clients sit in DATA, and after they have gone, filterd against Postfix.

    python -m bench.connections [--sessions N] [--size BYTES] [--only filterd postfix]

Each client connects, sends EHLO, MAIL, RCPT, DATA and a message of --size bytes, then waits before the final
dot until every client has done the same; then all finish, QUIT and leave. Both servers relay to smtp-sink
(filterd in relay mode with 2 worker processes; Postfix with a master.cf process limit of --sessions, so that
every client gets an smtpd of its own). The RSS summed over each server's processes is reported at the start
(after one warm-up message), at the peak, and once the sessions have ended and smtp-sink has every message:

    filterd: start 144 MB, peak 194 MB, after 150 MB
    filterd pss: peak 108 MB
    memory after: 6 MB over start
    postfix: start 62 MB, peak 16535 MB, after 16645 MB
    postfix pss: peak 1893 MB
    postfix memory after: 16583 MB over start
    ratio: 0.01                        # peak RSS, filterd / postfix

RSS counts the pages that processes share once in each (Postfix's 1,000 smtpd and cleanup processes share
most of theirs); `pss:` lines give the proportional set size, which counts a shared page once in all.
"""

from __future__ import annotations

import argparse
import asyncio
import sys
import time
from collections.abc import Callable, Sequence
from contextlib import ExitStack
from dataclasses import dataclass
from pathlib import Path

from bench.proxy import RssSampler, in_workdir, tree_memory_kb
from tests.harness import FilterdProcess, MtaError, Postfix, SmtpSink, free_port, process_tree, smtpd_listener, \
    wait_until

SENDER = "a@example.org"
RECIPIENT = "b@example.net"
CONNECTING_AT_ONCE = 100
SETTLE_SECONDS = 3.0
REPLY_TIMEOUT = 300.0
SERVERS = ("filterd", "postfix")


@dataclass(frozen=True)
class Figures:
    """One server's summed memory in kB: at the start, at the peak, after the sessions; and PSS at the peak."""

    start: int
    peak: int
    after: int
    peak_pss: int

    def line(self, name: str) -> str:
        return f"{name}: start {mb(self.start)} MB, peak {mb(self.peak)} MB, after {mb(self.after)} MB"


def mb(kb: int) -> int:
    return round(kb / 1024)


def message(size: int) -> bytes:
    """A message of about `size` bytes: a few headers, then 78-byte lines."""
    head = f"From: <{SENDER}>\r\nTo: <{RECIPIENT}>\r\nSubject: held in DATA\r\n\r\n".encode()
    line = b"x" * 76 + b"\r\n"
    return head + line * max(1, (size - len(head)) // len(line))


class Client:
    """One SMTP session that stops before the final dot until released."""

    def __init__(self, port: int, body: bytes) -> None:
        self.port, self.body = port, body
        self.reader: asyncio.StreamReader | None = None
        self.writer: asyncio.StreamWriter | None = None

    async def reply(self) -> str:
        """One (possibly multi-line) reply; its last line."""
        while True:
            line = (await asyncio.wait_for(self.reader.readline(), REPLY_TIMEOUT)).decode()
            if not line:
                raise MtaError("connection closed by the server")
            if line[3:4] != "-":
                return line.rstrip()

    async def command(self, text: str, expect: str) -> None:
        self.writer.write(text.encode() + b"\r\n")
        reply = await self.reply()
        if not reply.startswith(expect):
            raise MtaError(f"{text}: {reply}")

    async def open(self, gate: asyncio.Semaphore) -> None:
        """Connect, greet, and send everything but the final dot."""
        async with gate:
            self.reader, self.writer = await asyncio.open_connection("127.0.0.1", self.port)
            greeting = await self.reply()
            if not greeting.startswith("220"):
                raise MtaError(f"greeting: {greeting}")
        await self.command("EHLO client.example", "250")
        await self.command(f"MAIL FROM:<{SENDER}>", "250")
        await self.command(f"RCPT TO:<{RECIPIENT}>", "250")
        await self.command("DATA", "354")
        self.writer.write(self.body)
        await self.writer.drain()

    async def finish(self) -> None:
        await self.command(".", "250")
        await self.command("QUIT", "221")
        self.writer.close()
        await self.writer.wait_closed()


async def hold_sessions(port: int, sessions: int, size: int, at_peak: Callable[[], None]) -> None:
    """Bring every session to the final dot, call at_peak, then let them all finish."""
    body, gate = message(size), asyncio.Semaphore(CONNECTING_AT_ONCE)
    clients = [Client(port, body) for _ in range(sessions)]
    await asyncio.gather(*(client.open(gate) for client in clients))
    await asyncio.sleep(1.0)
    at_peak()
    await asyncio.gather(*(client.finish() for client in clients))


def tree_pss_kb(pid: int) -> int:
    """Sum the proportional set size over a process and its descendants (/proc/PID/smaps_rollup)."""
    total = 0
    for member in process_tree(pid):
        try:
            lines = Path(f"/proc/{member}/smaps_rollup").read_text().splitlines()
        except OSError:
            continue
        total += sum(int(line.split()[1]) for line in lines if line.startswith("Pss:"))
    return total


def measure(pid: int, port: int, sink: SmtpSink, sessions: int, size: int) -> Figures:
    """Warm up, then hold the sessions in DATA; the server's memory before, at the peak and after."""
    asyncio.run(hold_sessions(port, 1, 1000, lambda: None))
    wait_until(lambda: sink.received() >= 1, 60, "the warm-up message at smtp-sink", sink.check_alive)
    time.sleep(SETTLE_SECONDS)
    start = tree_memory_kb(pid, "VmRSS")
    sampler, pss = RssSampler(pid), []
    sampler.start()
    asyncio.run(hold_sessions(port, sessions, size, lambda: pss.append(tree_pss_kb(pid))))
    peak = sampler.stop()
    wait_until(lambda: sink.received() >= sessions + 1, 600, f"{sessions} messages at smtp-sink", sink.check_alive)
    time.sleep(SETTLE_SECONDS)
    return Figures(start, peak, tree_memory_kb(pid, "VmRSS"), pss[0])


def bench_filterd(workdir: Path, sessions: int, size: int) -> Figures:
    """filterd in relay mode, 2 worker processes, delivering to smtp-sink."""
    with ExitStack() as stack:
        sink = stack.enter_context(SmtpSink(workdir / "sink-filterd", dump=False))
        port = free_port()
        settings = {"filterd_listeners": f"relay:127.0.0.1:{port}", "relayhost": f"[127.0.0.1]:{sink.port}",
                    "smtp_dns_support_level": "disabled", "filterd_worker_processes": "2"}
        filterd = stack.enter_context(FilterdProcess(workdir / "filterd", settings, port=port))
        return measure(filterd.pid, filterd.port, sink, sessions, size)


def bench_postfix(workdir: Path, sessions: int, size: int) -> Figures:
    """Postfix relaying to smtp-sink, with an smtpd process for every session."""
    with ExitStack() as stack:
        sink = stack.enter_context(SmtpSink(workdir / "sink-postfix", dump=False))
        port = free_port()
        postfix = Postfix(workdir / "postfix", [smtpd_listener(port, maxproc=str(sessions))],
                          {"relayhost": f"[127.0.0.1]:{sink.port}", "default_process_limit": str(sessions)})
        stack.enter_context(postfix)
        return measure(postfix.pid, port, sink, sessions, size)


def parse_args(argv: Sequence[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog="python -m bench.connections", description=__doc__.split("\n\n")[0])
    parser.add_argument("--sessions", type=int, default=1000, help="clients held in DATA at once")
    parser.add_argument("--size", type=int, default=250 * 1024, help="bytes each client sends before the dot")
    parser.add_argument("--only", nargs="+", choices=SERVERS, default=list(SERVERS))
    return parser.parse_args(argv)


def run(workdir: Path, args: argparse.Namespace, report: Callable[[str], None]) -> None:
    benches = {"filterd": bench_filterd, "postfix": bench_postfix}
    figures = {name: benches[name](workdir, args.sessions, args.size) for name in args.only}
    for name, found in figures.items():
        report(found.line(name))
        report(f"{name} pss: peak {mb(found.peak_pss)} MB")
        over = f"memory after: {mb(found.after - found.start)} MB over start"
        report(over if name == "filterd" else f"{name} {over}")
    if len(figures) == 2:
        report(f"ratio: {figures['filterd'].peak / figures['postfix'].peak:.2f}")


def main(argv: Sequence[str] | None = None) -> int:
    args = parse_args(argv)
    return in_workdir("filterd-bench-connections-", lambda workdir: run(workdir, args, lambda line: print(line, flush=True)))


if __name__ == "__main__":
    sys.exit(main())
