"""After-queue filter benchmark, all paths in one run, each into smtp-sink:

    python -m bench.after_queue [--messages N] [--simple-messages N] [--rounds R]

postfix: Postfix alone. null: Postfix's own smtpd as a pass-through filter in the content_filter slot (a before-queue
proxy, smtpd_proxy_filter, between the scan transport and the 10026 smtpd: C, no queue file, no inspection, a
session to 10026 a message): what a filter that does nothing costs on the host, FILTER_README's "about a factor of
two". advanced: Postfix with
filterd as its content_filter (examples/postfix/after-queue as it is: the filter listener, no queue file).
advanced-queued: the same with filterd's relay in the slot, which queues each message before it hands it back.
simple: Postfix with filterd-pipe (the C client) as a pipe(8) simple filter, handing each message to filterd's
resident pipe service (examples/postfix/simple-filter as it is, the plugins as empty as the script's `cat`).
simple-python: the same with `filterd pipe` (the Python client) as the command. script: the same with
FILTER_README's shell script in its place (a file, `cat`, then reinjection) as the simple filter's anchor.
relay-pipe: filterd's relay with its pipe plugin running `cat`. Prints delivered msg/s (medians over the rounds),
`advanced ratio: X`, `null ratio: X`, `advanced-queued ratio: X` and `simple ratio: X` (to Postfix alone),
`advanced/null: X` (how near filterd comes to a filter that costs nothing but its SMTP passes), `simple/script: X`
and `simple-python/script: X`.
"""

from __future__ import annotations

import argparse
import re
import socket
import statistics
import sys
from contextlib import ExitStack
from pathlib import Path

from bench.proxy import WARM_UP_MESSAGES, Run, bench_postfix, deliver, in_workdir
from tests.fixtures.c_client import compile_c_client
from tests.harness import HOST, REPO_ROOT, FilterdProcess, Postfix, SmtpSink, free_port, smtpd_listener

EXAMPLES = REPO_ROOT / "examples" / "postfix"
FILTER_USER = "nobody"
SIMPLE_WARM_UP = 10
SLOW_HOST = {"plugin_timeout": "300s", "filterd_pipe_time_limit": "120s"}
"""A burst of 500 active messages waits for the 20 pipe slots longer than plugin_timeout's 30s on a loaded host:
those would be deferred for minimal_backoff_time and the run would measure the backoff, not the filter."""
SCRIPT = """#!/bin/sh
# FILTER_README's simple filter script: the message into a file, inspected (here: cat), reinjected; smtp-source
# reinjects by SMTP where the README's sendmail would need /etc/postfix to trust this Postfix's configuration.
INSPECT_DIR={directory}
EX_TEMPFAIL=75
cd $INSPECT_DIR || {{ echo $INSPECT_DIR does not exist; exit $EX_TEMPFAIL; }}
trap "rm -f in.$$ out.$$" 0 1 2 3 15
cat >in.$$ || {{ echo Cannot save mail to file; exit $EX_TEMPFAIL; }}
cat in.$$ >out.$$ || {{ echo Message content rejected; exit 69; }}
shift; sender=$1; shift; shift
exec /usr/sbin/smtp-source -F out.$$ -f "$sender" -t "$1" {reinject} >/dev/null || exit $EX_TEMPFAIL
"""


def example(name: str, ports: dict[str, int]) -> str:
    """An example file with its ports 10025 and 10026 replaced."""
    return re.sub(r"\b(10025|10026)\b", lambda m: str(ports[m.group(1)]), (EXAMPLES / name).read_text())


def settings_of(text: str) -> dict[str, str]:
    pairs = (line.partition("=")[::2] for line in text.splitlines() if line and not line.startswith("#"))
    return {name.strip(): value.strip() for name, value in pairs}


QUEUED = {"filterd_listeners": "relay:127.0.0.1:10025", "relayhost": "[127.0.0.1]:10026",
          "smtp_send_xforward_command": "yes", "default_destination_concurrency_limit": "10"}
"""examples/postfix/after-queue/filterd.cf turned into the relay that queues each message before it delivers it to
10026 (at most 10 connections: the 10026 smtpd's maxproc)."""


def bench_advanced(workdir: Path, messages: int, queued: bool = False) -> Run:
    """Postfix -> scan transport -> filterd's filter listener (10025; with `queued`, its relay) -> Postfix's 10026
    smtpd -> smtp-sink."""
    ports = {"10025": free_port(), "10026": free_port()}
    name = "advanced-queued" if queued else "advanced"
    settings = settings_of(example("after-queue/filterd.cf", ports))
    if queued:
        del settings["filterd_proxy_nexthop"]
        settings.update({key: re.sub(r"\b(10025|10026)\b", lambda m: str(ports[m.group(1)]), value)
                         for key, value in QUEUED.items()})
    with ExitStack() as stack:
        sink = stack.enter_context(SmtpSink(workdir / f"sink-{name}", dump=False))
        stack.enter_context(FilterdProcess(workdir / f"filterd-{name}", {**settings, "filterd_worker_processes": "2"},
                                           port=ports["10025"]))
        postfix = stack.enter_context(Postfix(
            workdir / f"postfix-{name}", [smtpd_listener(free_port()), example("after-queue/master.cf", ports)],
            {**settings_of(example("after-queue/main.cf", ports)), "relayhost": f"[{HOST}]:{sink.port}"}))
        deliver(workdir, sink, postfix.port, WARM_UP_MESSAGES)
        return Run(messages / deliver(workdir, sink, postfix.port, messages))


def bench_null(workdir: Path, messages: int) -> Run:
    """Postfix -> scan transport -> Postfix's smtpd proxying (smtpd_proxy_filter) -> the 10026 smtpd -> smtp-sink."""
    ports = {"10025": free_port(), "10026": free_port()}
    null = smtpd_listener(ports["10025"], f"smtpd_proxy_filter={HOST}:{ports['10026']}",
                          "smtpd_authorized_xforward_hosts=127.0.0.0/8", "mynetworks=127.0.0.0/8",
                          "smtpd_client_restrictions=", "smtpd_helo_restrictions=", "smtpd_sender_restrictions=",
                          "smtpd_relay_restrictions=", "smtpd_recipient_restrictions=permit_mynetworks,reject",
                          "smtpd_data_restrictions=", maxproc="10")
    with ExitStack() as stack:
        sink = stack.enter_context(SmtpSink(workdir / "sink-null", dump=False))
        postfix = stack.enter_context(Postfix(
            workdir / "postfix-null", [smtpd_listener(free_port()), example("after-queue/master.cf", ports), null],
            {**settings_of(example("after-queue/main.cf", ports)), "relayhost": f"[{HOST}]:{sink.port}"}))
        deliver(workdir, sink, postfix.port, WARM_UP_MESSAGES)
        return Run(messages / deliver(workdir, sink, postfix.port, messages))


def _simple_postfix(workdir: Path, name: str, sink: SmtpSink, command: str, reinject: int) -> Postfix:
    master = example("simple-filter/master.cf", {"10026": reinject})
    port = free_port()
    master = master.replace("smtp      inet", f"{HOST}:{port} inet").replace("user=filter", f"user={FILTER_USER}")
    master = master.replace("/usr/local/bin/filterd-pipe -c /etc/filterd/main.cf pipe", command)
    return Postfix(workdir / f"postfix-{name}", [master], {"relayhost": f"[{HOST}]:{sink.port}"})


def _scratch(workdir: Path, name: str) -> Path:
    directory = workdir / name
    directory.mkdir()
    directory.chmod(0o777)
    return directory


def simple_settings(directory: Path, reinject: int) -> dict[str, str]:
    """examples/postfix/simple-filter/filterd.cf without header_checks, its socket, log and queue in directory."""
    text = example("simple-filter/filterd.cf", {"10026": reinject}).replace(
        "/run/filterd/pipe", str(directory / "pipe.sock")).replace(
        "/var/log/filterd/filterd.log", str(directory / "filterd.log"))
    settings = settings_of(text)
    del settings["header_checks"]
    return {**settings, "filterd_plugins": "", "queue_directory": str(directory)}


def write_main_cf(directory: Path, settings: dict[str, str]) -> Path:
    """directory/main.cf, and the log that pipe(8)'s unprivileged user may write."""
    config, log = directory / "main.cf", directory / "filterd.log"
    config.write_text("".join(f"{name} = {value}\n" for name, value in settings.items()))
    log.touch()
    log.chmod(0o666)
    return config


def c_client_command(directory: Path, settings: dict[str, str]) -> str:
    """`filterd-pipe -c main.cf pipe`, compiled with the installer's own step where pipe(8)'s user can run it."""
    config = write_main_cf(directory, settings)
    program = compile_c_client(directory)
    program.chmod(0o755)
    return f"{program} -c {config} pipe"


def filterd_command(directory: Path, settings: dict[str, str]) -> str:
    """`filterd -c main.cf pipe` for pipe(8)'s unprivileged user: a console script of the system's Python on this
    checkout, with -IS (no site-packages to scan: with filterd_pipe_service the client needs only the standard
    library) and no shell between pipe(8) and Python."""
    config = write_main_cf(directory, settings)
    wrapper = directory / "filterd"
    wrapper.write_text(f"#!/usr/bin/python3 -IS\nimport sys\nsys.path.insert(0, {str(REPO_ROOT)!r})\n"
                       "from filterd.cli import main\nsys.exit(main())\n")
    wrapper.chmod(0o755)
    return f"{wrapper} -c {config} pipe"


def script_command(directory: Path, reinject: int) -> str:
    script = directory / "filter.sh"
    script.write_text(SCRIPT.format(directory=directory, reinject=f"{HOST}:{reinject}"))
    script.chmod(0o755)
    return str(script)


class PipeService(FilterdProcess):
    """The resident filterd that `filterd pipe` hands its messages to, ready once its socket answers."""

    def ready(self) -> bool:
        with socket.socket(socket.AF_UNIX) as sock:
            return sock.connect_ex(self.settings["filterd_pipe_service"].removeprefix("unix:")) == 0


def bench_simple(workdir: Path, messages: int, name: str) -> Run:
    """Postfix -> pipe(8) -> filterd-pipe (simple) or `filterd pipe` (simple-python) -> filterd's pipe service, or
    the shell script (script) -> Postfix's 10026 smtpd -> smtp-sink."""
    reinject = free_port()
    directory = _scratch(workdir, f"filter-{name}")
    with ExitStack() as stack:
        if name in ("simple", "simple-python"):
            settings = simple_settings(directory, reinject)
            stack.enter_context(PipeService(workdir / f"filterd-{name}", {**settings, "plugin_timeout": "300s"}))
            client = c_client_command if name == "simple" else filterd_command
            command = client(directory, settings)
        else:
            command = script_command(directory, reinject)
        sink = stack.enter_context(SmtpSink(workdir / f"sink-{name}", dump=False))
        postfix = stack.enter_context(_simple_postfix(workdir, name, sink, command, reinject))
        deliver(workdir, sink, postfix.port, SIMPLE_WARM_UP)
        return Run(messages / deliver(workdir, sink, postfix.port, messages, timeout=max(120.0, messages)))


def bench_relay_pipe(workdir: Path, messages: int) -> Run:
    """filterd's relay, its pipe plugin running cat on every message, into smtp-sink."""
    port = free_port()
    with ExitStack() as stack:
        sink = stack.enter_context(SmtpSink(workdir / "sink-relay-pipe", dump=False))
        stack.enter_context(FilterdProcess(workdir / "filterd-relay-pipe", {
            "filterd_listeners": f"relay:{HOST}:{port}", "relayhost": f"[{HOST}]:{sink.port}",
            "smtp_dns_support_level": "disabled", "filterd_worker_processes": "2", "filterd_plugins": "pipe",
            "filterd_pipe_command": "/bin/cat", **SLOW_HOST}, port=port))
        deliver(workdir, sink, port, WARM_UP_MESSAGES)
        return Run(messages / deliver(workdir, sink, port, messages))


def run(workdir: Path, args: argparse.Namespace) -> None:
    runs: dict[str, list[float]] = {name: [] for name in ("postfix", "null", "advanced", "advanced-queued", "simple",
                                                          "simple-python", "script", "relay-pipe")}
    for number in range(args.rounds):
        round_dir = workdir / f"round-{number}"
        round_dir.mkdir()
        round_dir.chmod(0o755)
        runs["postfix"].append(bench_postfix(round_dir, args.messages).rate)
        runs["null"].append(bench_null(round_dir, args.messages).rate)
        runs["advanced"].append(bench_advanced(round_dir, args.messages).rate)
        runs["advanced-queued"].append(bench_advanced(round_dir, args.messages, queued=True).rate)
        for name in ("simple", "simple-python", "script"):
            runs[name].append(bench_simple(round_dir, args.simple_messages, name).rate)
        runs["relay-pipe"].append(bench_relay_pipe(round_dir, args.messages).rate)
    medians = {name: statistics.median(rates) for name, rates in runs.items()}
    for name, rate in medians.items():
        print(f"{name}: {rate:.1f} msg/s", flush=True)
    print(f"advanced ratio: {medians['advanced'] / medians['postfix']:.2f}")
    print(f"null ratio: {medians['null'] / medians['postfix']:.2f}")
    print(f"advanced/null: {medians['advanced'] / medians['null']:.2f}")
    print(f"advanced-queued ratio: {medians['advanced-queued'] / medians['postfix']:.2f}")
    print(f"simple ratio: {medians['simple'] / medians['postfix']:.3f}")
    print(f"script ratio: {medians['script'] / medians['postfix']:.3f}")
    print(f"simple/script: {medians['simple'] / medians['script']:.2f}")
    print(f"simple-python/script: {medians['simple-python'] / medians['script']:.2f}")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench.after_queue")
    parser.add_argument("--messages", type=int, default=1000)
    parser.add_argument("--simple-messages", type=int, default=200, help="for the paths that start a process a "
                                                                          "message")
    parser.add_argument("--rounds", type=int, default=3)
    args = parser.parse_args(argv)
    return in_workdir("filterd-bench-after-queue-", lambda workdir: run(workdir, args))


if __name__ == "__main__":
    sys.exit(main())
