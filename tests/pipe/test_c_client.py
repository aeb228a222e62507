"""filterd-pipe, the C client (filterd-pipe.c), beside `filterd pipe`, the Python client: run as programs against
the same real pipe service (behind a proxy that records what it receives), both give the same exit status, the
same output and the same request bytes for every answer and every failure; a 50 MB message streams through either
in bounded memory; what only filterd's configuration loader could do, the C client defers with a reason."""

from __future__ import annotations

import os
import re
import subprocess
import sys
import threading
import time
from dataclasses import dataclass
from pathlib import Path

import pytest

from filterd.pipe.protocol import END, encode_chunk, encode_request
from tests.fixtures.c_client import compile_interrupting_shim
from tests.fixtures.pipe_service import PipeServiceThread, ScriptedPeer
from tests.harness import free_port
from tests.pipe.test_pipe import MESSAGE

PYTHON_CLIENT = (sys.executable, "-c", "import sys; from filterd.cli import main; sys.exit(main())")
SENDER = "alice@example.org"
SHELL_METACHARACTERS = ['"x;touch /tmp/pwned`id`$(id)|&>"@example.net', "$HOME'\\*?[a]{b,c}~!#@example.net",
                        "-rf@example.net", " spaced out @example.net"]
FEED_SIZE = 10000
"""stdin comes in pieces of this size, so that the clients see short reads and must fill their chunks."""


@dataclass
class Outcome:
    """What a client run shows: exit status, stdout, peak memory (KB)."""

    status: int
    output: bytes
    peak: int


def run_client(command: tuple[str, ...] | list[str], words: list[str], message: bytes = b"",
               env: dict[str, str] | None = None) -> Outcome:
    """The client run as pipe(8) runs it, the message fed through a pipe on stdin."""
    read, write = os.pipe()
    feeder = threading.Thread(target=_feed, args=(write, message))
    feeder.start()
    process = subprocess.Popen([*command, *words], stdin=read, stdout=subprocess.PIPE, env=env)
    os.close(read)
    watcher = PeakWatcher(process.pid)
    output = process.stdout.read()
    process.stdout.close()
    process.wait()
    feeder.join(60)
    return Outcome(process.returncode, output, watcher.stop())


class PeakWatcher(threading.Thread):
    """The program's own peak RSS (VmHWM), read while it runs. Not ru_maxrss: a child forked from this big
    process keeps the pre-exec size there, so ru_maxrss would measure pytest."""

    def __init__(self, pid: int):
        super().__init__(daemon=True)
        self.status, self.peak, self.running = Path(f"/proc/{pid}/status"), 0, True
        self.start()

    def run(self) -> None:
        while self.running:
            try:
                lines = self.status.read_text().splitlines()
            except OSError:
                return
            self.peak = max([self.peak, *(int(line.split()[1]) for line in lines if line.startswith("VmHWM:"))])
            time.sleep(0.02)

    def stop(self) -> int:
        self.running = False
        self.join(10)
        return self.peak


def _feed(fd: int, message: bytes) -> None:
    try:
        with open(fd, "wb", buffering=0) as pipe:
            for start in range(0, len(message), FEED_SIZE):
                pipe.write(message[start:start + FEED_SIZE])
    except BrokenPipeError:
        pass


def words(config: Path, recipients: list[str], sender: str = SENDER) -> list[str]:
    return ["-c", str(config), "pipe", "-f", sender, "--", *recipients]


def main_cf(directory: Path, text: str) -> Path:
    path = directory / "main.cf"
    path.write_text(text)
    return path


@pytest.fixture
def service(tmp_path):
    with PipeServiceThread(tmp_path) as running:
        yield running


@pytest.fixture
def both(c_client):
    """The two clients, C first."""
    return [(str(c_client),), PYTHON_CLIENT]


def reinjected(service: PipeServiceThread) -> tuple[list[str], bytes] | None:
    """What the service reinjected, its queue id (one a message) left out."""
    found = service.reinjected()
    return found and (found[0], re.sub(rb"(X-After-Queue: checked) \w+", rb"\1 QUEUEID", found[1]))


def request_bytes(recipients: list[str], message: bytes, sender: str = SENDER) -> bytes:
    """What a client must send: the envelope, stdin in chunks of 65536 bytes, the end."""
    chunks = [encode_chunk(message[start:start + 65536]) for start in range(0, len(message), 65536)]
    return encode_request(sender, recipients) + b"".join(chunks) + END


@pytest.mark.parametrize("recipients, subject, expected", [
    (["bob@example.net"], "fine", (0, b"")),
    (["bob@example.net"], "AQ-REJECT", (69, b"5.7.1 Refused after queue\n")),
    (["later@example.net"], "fine", (75, b"4.7.1 Try again later\n")),
    (SHELL_METACHARACTERS, "fine", (0, b"")),
], ids=["accept", "reject", "defer", "shell-metacharacters"])
def test_both_clients_send_the_same_bytes_and_answer_alike(service, both, recipients, subject, expected):
    config = main_cf(service.directory, f"filterd_pipe_service = unix:{service.path}\n")
    message = (MESSAGE % subject.encode()) + b"x" * 150000
    results = []
    for client in both:
        service.received.clear()
        outcome = run_client(client, words(config, recipients), message)
        [received] = service.received
        results.append(((outcome.status, outcome.output), received.summary(), reinjected(service)))
    assert results[0] == results[1]
    (answer, (_, _, sent), reinjection) = results[0]
    assert answer == expected
    assert sent == request_bytes(recipients, message)
    if expected[0] == 0:
        assert reinjection[0] == ["-G", "-i", "-f", SENDER, "--", *recipients]


def test_a_50_mb_message_streams_through_in_bounded_memory(service, both):
    config = main_cf(service.directory, f"filterd_pipe_service = unix:{service.path}\n")
    line = b"a line of a long message, in pieces of odd sizes ...........\r\n"
    message = MESSAGE % b"big" + line * (50_000_000 // len(line))
    outcomes, summaries = [], []
    for client in both:
        service.received.clear()
        outcomes.append(run_client(client, words(config, ["bob@example.net"]), message))
        summaries.append(service.received[0].summary()[:2])
        assert service.reinjected()[1].endswith(line.replace(b"\r\n", b"\n") * 100)
    assert [(o.status, o.output) for o in outcomes] == [(0, b""), (0, b"")]
    assert summaries[0] == summaries[1] and summaries[0][0] > 50_000_000
    c_peak, python_peak = outcomes[0].peak, outcomes[1].peak
    assert c_peak < 4_000, f"filterd-pipe peaked at {c_peak} KB"
    assert python_peak < 40_000, f"filterd pipe peaked at {python_peak} KB"


def test_interrupted_calls_and_short_writes_lose_no_byte(service, c_client, tmp_path):
    """Every other read, recv, send and connect fails with EINTR, and no send moves more than 1000 bytes."""
    config = main_cf(service.directory, f"filterd_pipe_service = unix:{service.path}\n")
    count = tmp_path / "interruptions"
    env = {**os.environ, "LD_PRELOAD": str(compile_interrupting_shim(tmp_path)), "INTERRUPTIONS_FILE": str(count)}
    message = MESSAGE % b"AQ-REJECT" + bytes(range(256)) * 2000
    outcome = run_client((str(c_client),), words(config, ["bob@example.net"]), message, env)
    assert (outcome.status, outcome.output) == (69, b"5.7.1 Refused after queue\n")
    assert service.received[0].summary()[2] == request_bytes(["bob@example.net"], message)
    assert int(count.read_text()) > 500


BAD_ADDRESSES = [
    (SENDER, ["b\n@example.net"]),
    (SENDER, ["ok@example.net", "b\r@example.net"]),
    ("a\nb@example.org", ["bob@example.net"]),
    (SENDER, ["it's\n@example.net"]),
    (SENDER, ["\"it's\"\n\t\\\x7f\x01\xe9@example.net"]),
    (SENDER, ["x" * 4086 + "@e.net"]),
    (SENDER, [f"r{n}@example.net" for n in range(1001)]),
]


@pytest.mark.parametrize("sender, recipients", BAD_ADDRESSES,
                         ids=["lf", "cr", "sender", "quote", "escapes", "too-long", "too-many"])
def test_an_address_the_protocol_cannot_carry_bounces_alike_and_nothing_is_sent(service, both, sender,
                                                                                recipients):
    config = main_cf(service.directory, f"filterd_pipe_service = unix:{service.path}\n")
    outcomes = [run_client(client, words(config, recipients, sender), b"x") for client in both]
    assert outcomes[0].status == outcomes[1].status == 69
    assert outcomes[0].output == outcomes[1].output
    assert outcomes[0].output.startswith(b"5.1.3 ") and outcomes[0].output.count(b"\n") == 1
    assert service.received == []


def test_the_bad_address_text(c_client, tmp_path):
    config = main_cf(tmp_path, f"filterd_pipe_service = unix:{tmp_path}/none.sock\n")
    outcome = run_client((str(c_client),), words(config, ["b\n@example.net"]))
    assert (outcome.status, outcome.output) == (69, b"5.1.3 bad recipient address: 'b\\n@example.net'\n")


@pytest.mark.parametrize("setting, reason", [
    ("unix:{tmp}/none.sock", "4.3.0 cannot connect to the filterd pipe service unix:{tmp}/none.sock: No such file "
                             "or directory"),
    ("inet:127.0.0.1:{port}", "4.3.0 cannot connect to the filterd pipe service inet:127.0.0.1:{port}: Connection "
                              "refused"),
    ("inet:[127.0.0.1]:{port}", "4.3.0 cannot connect to the filterd pipe service inet:[127.0.0.1]:{port}: "
                                "Connection refused"),
    ("unix:/" + "x" * 120, "4.3.0 cannot connect to the filterd pipe service unix:/" + "x" * 120 +
                           ": AF_UNIX path too long"),
    ("unix:run/pipe", '4.3.5 filterd configuration error: filterd_pipe_service: bad value "unix:run/pipe": '
                      'expected unix:/PATH or inet:HOST:PORT'),
    ("inet:127.0.0.1:65536", '4.3.5 filterd configuration error: filterd_pipe_service: bad value '
                             '"inet:127.0.0.1:65536": expected unix:/PATH or inet:HOST:PORT'),
], ids=["unix", "inet", "brackets", "long-path", "relative", "port"])
def test_a_service_not_there_defers_alike(tmp_path, both, setting, reason):
    values = {"tmp": tmp_path, "port": free_port()}
    config = main_cf(tmp_path, f"filterd_pipe_service = {setting.format(**values)}\n")
    outcomes = [run_client(client, words(config, ["bob@example.net"]), b"x") for client in both]
    expected = (75, (reason.format(**values) + "\n").encode())
    assert [(o.status, o.output) for o in outcomes] == [expected, expected]


def test_a_service_that_dies_mid_message_defers_alike(tmp_path, both):
    """The reason is the kernel's: ECONNRESET when the service left bytes unread, else EPIPE (timing decides)."""
    path = tmp_path / "dying.sock"
    config = main_cf(tmp_path, f"filterd_pipe_service = unix:{path}\n")
    with ScriptedPeer(path, close_after=200_000):
        outcomes = [run_client(client, words(config, ["bob@example.net"]), b"y" * 5_000_000) for client in both]
    prefix = f"4.3.0 lost connection with the filterd pipe service unix:{path}: "
    reasons = {f"{prefix}{reason}\n".encode() for reason in ("Broken pipe", "Connection reset by peer")}
    assert [(o.status, o.output in reasons) for o in outcomes] == [(75, True), (75, True)], outcomes


@pytest.mark.parametrize("reply", [
    b"", b"0\n", b"0 \n", b"069 spelt with a zero\n", b"75 try later\n", b"1 not a status\n", b"75 a\nb", b"75",
    b"7 5\n", b" 75\n", b"75 caf\xc3\xa9 \xff \xe2\x82 \xf0\x80x \xed\xa0\x80 \xf4\x90\x80\x80 \xe2\x82\n",
    b"69 " + b"x" * 5000 + b"\n", b"z" * 9000, b"'\"\\\t\x7f\x80\x00 quotes\n", b"it's\n", b"\"q\" 'x'\n",
], ids=lambda reply: repr(reply[:24]))
def test_every_reply_a_service_could_give_is_read_alike(tmp_path, both, reply):
    path = tmp_path / "scripted.sock"
    config = main_cf(tmp_path, f"filterd_pipe_service = unix:{path}\n")
    with ScriptedPeer(path, reply=reply):
        outcomes = [run_client(client, words(config, ["bob@example.net"]), b"hello\r\n") for client in both]
    assert (outcomes[0].status, outcomes[0].output) == (outcomes[1].status, outcomes[1].output)


@pytest.mark.parametrize("setting", ["inet:127.0.0.1:{port}", "inet:localhost:{port}", "inet:[localhost]:{port}"])
def test_an_inet_service_by_address_or_name_is_reached_alike(tmp_path, both, setting):
    port = free_port()
    config = main_cf(tmp_path, f"filterd_pipe_service = {setting.format(port=port)}\n")
    with ScriptedPeer(("127.0.0.1", port), reply=b"69 5.7.1 over TCP\n"):
        outcomes = [run_client(client, words(config, ["bob@example.net"]), b"hello\r\n") for client in both]
    assert [(o.status, o.output) for o in outcomes] == [(69, b"5.7.1 over TCP\n")] * 2


@pytest.mark.parametrize("text, options", [
    ("filterd_pipe_service = unix:/nowhere\nfilterd_pipe_service = unix:{path}\n", []),
    ("filterd_pipe_service =\n  unix:{path}\n# a comment\nother = 1\n", []),
    ("filterd_pipe_service = unix:{path}\r\nx = 1\r\n", []),
    ("x = 1\rfilterd_pipe_service = unix:{path}\r", []),
    ("filterd_pipe_service = unix:/nowhere\n", ["-o", " filterd_pipe_service = unix:{path}\u3000"]),
    ("filterd_pipe_service = unix:/nowhere\n", ["-o", "filterd_pipe_service=unix:{path}", "-o", "x=1"]),
], ids=["last", "continuation", "crlf", "cr", "override-spaces", "override"])
def test_main_cf_and_overrides_are_read_alike(service, both, text, options):
    config = main_cf(service.directory, text.format(path=service.path))
    options = [option.format(path=service.path) for option in options]
    for client in both:
        outcome = run_client(client, [*options, *words(config, ["bob@example.net"])], MESSAGE % b"fine")
        assert (outcome.status, outcome.output) == (0, b""), client


def test_filterd_config_and_a_directory_name_main_cf_alike(service, both):
    main_cf(service.directory, f"filterd_pipe_service = unix:{service.path}\n")
    environment = {**os.environ, "FILTERD_CONFIG": str(service.directory)}
    for client in both:
        outcome = run_client(client, ["pipe", "-f", "<>", "bob@example.net"], MESSAGE % b"fine", environment)
        assert (outcome.status, outcome.output) == (0, b""), client
        assert service.reinjected()[0] == ["-G", "-i", "-f", "", "--", "bob@example.net"]


def test_an_unreadable_main_cf_defers_alike(tmp_path, both):
    outcomes = [run_client(client, words(tmp_path / "none.cf", ["bob@example.net"])) for client in both]
    expected = f"4.3.5 filterd configuration error: open {tmp_path}/none.cf: No such file or directory\n"
    assert [(o.status, o.output.decode()) for o in outcomes] == [(75, expected)] * 2


@pytest.mark.parametrize("text, options, reason", [
    ("filterd_pipe_service = unix:$queue_directory/pipe\n", [],
     "4.3.5 filterd configuration error: filterd_pipe_service = unix:$queue_directory/pipe in {config}: "
     "filterd-pipe does not expand $name: give the address itself, or run filterd pipe"),
    ("", ["-o", "filterd_pipe_service=unix:$queue_directory/pipe"],
     "4.3.5 filterd configuration error: -o filterd_pipe_service=unix:$queue_directory/pipe: filterd-pipe does "
     "not expand $name: give the address itself, or run filterd pipe"),
    ("myhostname = example.org\n", [],
     "4.3.5 filterd configuration error: no filterd_pipe_service in {config}: filterd-pipe only hands messages to "
     "a pipe service; filterd pipe filters without one"),
    ("filterd_pipe_service = unix:/x\n", ["-o", "filterd_pipe_service="],
     "4.3.5 filterd configuration error: -o filterd_pipe_service is empty: filterd-pipe only hands messages to a "
     "pipe service; filterd pipe filters without one"),
], ids=["dollar", "override-dollar", "unset", "override-empty"])
def test_what_only_the_configuration_loader_can_do_defers_with_the_reason(tmp_path, c_client, text, options,
                                                                         reason):
    config = main_cf(tmp_path, text)
    outcome = run_client((str(c_client),), [*options, *words(config, ["bob@example.net"])], b"x")
    assert (outcome.status, outcome.output.decode()) == (75, reason.format(config=config) + "\n")


@pytest.mark.parametrize("argv", [["-f", "a@example.org"], ["pipe", "-f", "a@example.org", "--"],
                                  ["pipe", "-f", "a", "-x"], ["check", "-f", "a", "b"], ["-c"], []])
def test_a_command_line_pipe_8_would_not_give_defers_with_the_usage(c_client, argv):
    outcome = run_client((str(c_client),), argv)
    assert (outcome.status, outcome.output) == (
        75, b"4.3.5 filterd configuration error: usage: filterd-pipe [-c main.cf] [-o name=value]... pipe -f "
            b"SENDER -- RECIPIENT...\n")
