"""Content-check benchmark: what 100 header_checks and 100 body_checks pcre rules (none matching)
cost filterd's proxy, against what the same tables cost Postfix, in one run.

    python -m bench.checks [--messages N] [--rounds N]

bench.proxy's load (smtp-source, 20 sessions, 5,000-byte messages, delivered msg/s at smtp-sink) on
four paths started side by side: filterd's proxy with the bench plugins, the same plus the
header_checks plugin and the tables, a Postfix relay, and the same relay with the tables. The paths
are measured in turn, --rounds times; each round gives a ratio per system, and the median of those
counts, so that a burst of other load on the machine does not decide it. Prints one line per system
(rates are medians too), then the CPU time each system's processes used per message (the least of the
rounds) and its ratio, without tables to with them, a figure that other load disturbs less:

    filterd: 697 msg/s without tables, 620 msg/s with 100 header + 100 body pcre rules, ratio: 0.89
    filterd cpu: 2.90 ms/msg without tables, 3.35 ms/msg with them, cpu ratio: 0.87
"""

from __future__ import annotations

import argparse
import shutil
import statistics
import sys
from collections.abc import Callable, Sequence
from contextlib import ExitStack
from pathlib import Path

from bench.cpu import cpu_seconds
from bench.proxy import BENCH_SETTINGS, WARM_UP_MESSAGES, check_plugins_ran, deliver
from tests.harness import FilterdProcess, Postfix, Service, SmtpSink, make_workdir
from tests.plugins.header_checks.corpus import pcre_settings

RULES = 100
WORDS = ("cheap", "free", "winner", "offer", "urgent", "casino", "loan", "pills", "crypto", "prize")


HEADER_RULES = (
    lambda i: rf"/^Subject:.*\b{WORDS[i % 10]}\s+deal{i}\b/ REJECT Subject refused ({i})",
    lambda i: rf"/^X-Mailer:.*\bBulkMailer {i}\./ REJECT bulk mailer",
    lambda i: rf"/^From:.*@(?:[a-z0-9-]+\.)*spam{i}\.example>?$/ DISCARD",
    lambda i: rf"/^Content-Type:.*charset=\"?x-bogus-{i}/ REJECT bad charset",
    lambda i: rf"/^X-Campaign-{i}:/ IGNORE",
)
"""Rules of the kinds people write for headers: Subject words, mailers, sender domains, odd headers."""

BODY_RULES = (
    lambda i: rf"/\b{WORDS[i % 10]} meds {i}\b/ REJECT body refused ({i})",
    lambda i: rf"/https?:\/\/[^\/\s]*\bbadsite{i}\.example\b/ REJECT bad link",
    lambda i: rf"/\$\d+(?:,\d{{3}})* million {WORDS[i % 10]}{i}/ REJECT advance fee",
    lambda i: rf"/^<iframe src=(3D)?cid:{i}[^>]*>$/ REJECT iframe",
    lambda i: rf"/click here to {WORDS[i % 10]}-{i}/ WARN click",
)
"""Unanchored phrases, links and worm strings: each may match anywhere in a body line."""


def rules(kinds: tuple, count: int = RULES) -> str:
    """`count` rules, taking the kinds in turn, none of which matches what smtp-source sends."""
    return "".join(kinds[i % len(kinds)](i) + "\n" for i in range(count))


def write_tables(workdir: Path) -> dict[str, str]:
    """The two tables, readable by Postfix's cleanup; the main.cf settings that name them."""
    return pcre_settings(workdir, {"header_checks": rules(HEADER_RULES), "body_checks": rules(BODY_RULES)})


def filterd_settings(tables: dict[str, str]) -> dict[str, str]:
    """bench.proxy's filterd, plus the header_checks plugin (first, as cleanup runs first) and the tables."""
    if not tables:
        return dict(BENCH_SETTINGS)
    return {**BENCH_SETTINGS, **tables, "filterd_plugins": "header_checks, " + BENCH_SETTINGS["filterd_plugins"]}


def start_all(stack: ExitStack, workdir: Path, tables: dict[str, str]) -> dict[str, tuple[SmtpSink, Service]]:
    """The four paths, each with its own smtp-sink: name -> (sink, server to send to)."""
    paths = {}
    for name, with_tables in (("filterd", False), ("filterd+tables", True), ("postfix", False),
                              ("postfix+tables", True)):
        directory = workdir / name.replace("+", "-")
        sink = stack.enter_context(SmtpSink(directory / "sink", dump=name.startswith("filterd")))
        if name.startswith("filterd"):
            server = FilterdProcess(directory / "server", filterd_settings(tables if with_tables else {}),
                                    nexthop_port=sink.port)
        else:
            server = Postfix.relay(directory / "server", sink.port, tables if with_tables else {})
        paths[name] = (sink, stack.enter_context(server))
    return paths


def measure(workdir: Path, paths: dict[str, tuple[SmtpSink, Service]], messages: int,
            rounds: int) -> tuple[dict[str, list[float]], dict[str, list[float]]]:
    """Warm every path up, then measure them in turn, `rounds` times (in reverse order every other
    round): each path's rate and its server's CPU seconds per message, in each round."""
    for sink, server in paths.values():
        deliver(workdir, sink, server.port, WARM_UP_MESSAGES)
    rates: dict[str, list[float]] = {name: [] for name in paths}
    cpu: dict[str, list[float]] = {name: [] for name in paths}
    for turn in range(rounds):
        for name in list(paths)[::-1 if turn % 2 else 1]:
            sink, server = paths[name]
            used = cpu_seconds(server.pid)
            rates[name].append(messages / deliver(workdir, sink, server.port, messages))
            cpu[name].append((cpu_seconds(server.pid) - used) / messages)
    for name in ("filterd", "filterd+tables"):
        check_plugins_ran(paths[name][0])
    return rates, cpu


def run(workdir: Path, messages: int, rounds: int, report: Callable[[str], None]) -> dict[str, float]:
    """Both systems without and with the tables: their throughput ratio (the median of the rounds'
    ratios, each from two runs close in time, so that load from elsewhere weighs on both alike), then
    what the tables cost in CPU time per message, which other load disturbs less."""
    with ExitStack() as stack:
        rates, cpu = measure(workdir, start_all(stack, workdir, write_tables(workdir)), messages, rounds)
    ratios = {}
    for system in ("filterd", "postfix"):
        plain, checked = rates[system], rates[system + "+tables"]
        ratios[system] = statistics.median(b / a for a, b in zip(plain, checked))
        report(f"{system}: {statistics.median(plain):.0f} msg/s without tables, {statistics.median(checked):.0f} "
               f"msg/s with {RULES} header + {RULES} body pcre rules, ratio: {ratios[system]:.2f}")
    for system in ("filterd", "postfix"):
        plain, checked = min(cpu[system]), min(cpu[system + "+tables"])
        report(f"{system} cpu: {plain * 1000:.2f} ms/msg without tables, {checked * 1000:.2f} ms/msg with them, "
               f"cpu ratio: {plain / checked:.2f}")
    return ratios


def main(argv: Sequence[str] | None = None) -> int:
    """Run the benchmark in a scratch directory, kept only if something fails."""
    parser = argparse.ArgumentParser(prog="python -m bench.checks", description=__doc__.split("\n\n")[0])
    parser.add_argument("--messages", type=int, default=1000, help="messages per throughput run")
    parser.add_argument("--rounds", type=int, default=7, help="runs per path; the median ratio counts")
    args = parser.parse_args(argv)
    workdir = make_workdir("filterd-bench-checks-")
    try:
        run(workdir, args.messages, args.rounds, lambda line: print(line, flush=True))
    except BaseException:
        print(f"bench: files kept in {workdir}", file=sys.stderr)
        raise
    shutil.rmtree(workdir)
    return 0


if __name__ == "__main__":
    sys.exit(main())
