"""Tests of the mail-component harness itself (tests/harness.py): none of them needs filterd."""

from __future__ import annotations

import sys
from pathlib import Path

import aiosmtplib
import pytest
from aiosmtpd.controller import Controller

from tests.harness import HOST, FilterdProcess, MtaError, free_port, listening_sockets, parse_dump, swaks

SENDER = "a@example.org"
RECIPIENT = "b@example.net"
WORM = b"I-Worm.Test"

FAKE_FILTERD = """\
import sys, time
settings = dict(line.split(" = ", 1) for line in open(sys.argv[2]).read().splitlines())
host, port = settings["filterd_listeners"].split(":", 1)[1].rsplit(":", 1)
import socket
server = socket.create_server((host, int(port)))
open(settings["maillog_file"], "w").write("fake filterd listening\\n")
time.sleep(120)
"""


def send(port: int, *args: str):
    """Send one test message with swaks to 127.0.0.1:port."""
    return swaks("--server", f"{HOST}:{port}", "--from", SENDER, "--to", RECIPIENT, *args)


class ForwardingFilter:
    """A stand-in for filterd's proxy: add a header and relay to the downstream port, or reject."""

    def __init__(self, downstream_port: int) -> None:
        self.downstream_port = downstream_port

    async def handle_DATA(self, server, session, envelope) -> str:
        if WORM in envelope.content:
            return "550 5.7.1 worm"
        content = b"X-Stand-In: yes\r\n" + envelope.content
        try:
            await aiosmtplib.send(content, sender=envelope.mail_from, recipients=envelope.rcpt_tos,
                                  hostname=HOST, port=self.downstream_port, start_tls=False)
        except aiosmtplib.SMTPResponseException as error:
            return f"{error.code} {error.message}"
        return "250 2.0.0 Ok: relayed"


@pytest.fixture
def forwarding_filter():
    """Start a ForwardingFilter on a free port: forwarding_filter(downstream_port) -> port."""
    controllers = []

    def start(downstream_port: int) -> int:
        controller = Controller(ForwardingFilter(downstream_port), hostname=HOST, port=free_port())
        controller.start()
        controllers.append(controller)
        return controller.port

    yield start
    for controller in controllers:
        controller.stop()


@pytest.fixture
def proxy_postfix(smtp_sink, postfix_factory, forwarding_filter):
    """Postfix in SMTPD_PROXY_README's layout with a ForwardingFilter as its before-queue filter."""
    reinject_port = free_port()
    filter_port = forwarding_filter(reinject_port)
    return postfix_factory.before_queue_proxy(filter_port, smtp_sink.port, reinject_port=reinject_port)


def test_swaks_to_smtp_sink(smtp_sink):
    result = send(smtp_sink.port, "--header", "Subject: harness")
    assert result.returncode == 0, result.stdout
    [raw] = smtp_sink.wait_for(1)
    dump = parse_dump(raw)
    assert (dump.sender, dump.recipients, dump.client) == (SENDER, [RECIPIENT], HOST)
    assert b"\nSubject: harness\n" in b"\n" + dump.content
    assert b"\n\nThis is a test mailing\n" in dump.content


def test_smtp_sink_hard_reject_mode(smtp_sink_factory):
    sink = smtp_sink_factory(hard_reject=["RCPT"])
    result = send(sink.port)
    assert result.returncode != 0
    assert "500 5.3.0" in result.stdout
    assert sink.received() == 0


def test_smtp_sink_without_dump_counts_messages(smtp_sink_factory):
    sink = smtp_sink_factory(dump=False)
    for _ in range(3):
        assert send(sink.port).returncode == 0
    assert sink.wait_for(3) == []
    assert sink.received() == 3


def test_smtp_sink_stop_frees_port(smtp_sink_factory):
    sink = smtp_sink_factory()
    sink.stop()
    assert sink.process.returncode is not None
    assert listening_sockets(sink.port) == 0


def test_postfix_relay_delivers_to_sink(smtp_sink, postfix_factory):
    postfix = postfix_factory.relay(smtp_sink.port)
    result = send(postfix.port)
    assert result.returncode == 0, result.stdout + postfix.maillog()
    [raw] = smtp_sink.wait_for(1)
    assert parse_dump(raw).recipients == [RECIPIENT]
    [line] = postfix.wait_log(r"status=sent")
    assert f"to=<{RECIPIENT}>" in line and f"relay={HOST}[{HOST}]:{smtp_sink.port}" in line


def test_postfix_stop_ends_master(smtp_sink, postfix_factory):
    postfix = postfix_factory.relay(smtp_sink.port)
    master_pid = int((postfix.directory / "queue" / "pid" / "master.pid").read_text())
    postfix.stop()
    assert postfix.process.returncode is not None
    assert not Path(f"/proc/{master_pid}").exists()
    assert listening_sockets(postfix.port) == 0


def test_before_queue_proxy_relays_through_filter(smtp_sink, proxy_postfix):
    result = send(proxy_postfix.port)
    assert result.returncode == 0, result.stdout + proxy_postfix.maillog()
    [raw] = smtp_sink.wait_for(1)
    assert b"\nX-Stand-In: yes\n" in parse_dump(raw).content
    proxy_postfix.wait_log(r"proxy-accept: END-OF-MESSAGE: 250 2.0.0 Ok: relayed")
    proxy_postfix.wait_log(r"status=sent")


def test_before_queue_proxy_passes_filter_reject_to_client(smtp_sink, proxy_postfix):
    result = send(proxy_postfix.port, "--body", WORM.decode())
    assert result.returncode != 0
    assert "550 5.7.1 worm" in result.stdout
    proxy_postfix.wait_log(r"proxy-reject: END-OF-MESSAGE: 550 5.7.1 worm")
    assert smtp_sink.received() == 0


def test_filterd_process_writes_config_and_waits_for_port(filterd_factory, tmp_path):
    script = tmp_path / "fake_filterd.py"
    script.write_text(FAKE_FILTERD)
    filterd = filterd_factory({"filterd_worker_processes": "2"}, nexthop_port=2525,
                              command=[sys.executable, str(script)])
    config = filterd.config_path.read_text()
    assert f"filterd_listeners = proxy:{HOST}:{filterd.port}\n" in config
    assert f"filterd_proxy_nexthop = {HOST}:2525\n" in config
    assert "filterd_worker_processes = 2\n" in config
    assert filterd.log() == "fake filterd listening\n"
    assert filterd.pids()[0] == filterd.pid
    filterd.stop()
    assert filterd.process.returncode is not None


def test_filterd_process_start_failure_shows_output(mta_dir):
    command = [sys.executable, "-c", "import sys; sys.exit('bad parameter: no_such_thing')"]
    filterd = FilterdProcess(mta_dir / "filterd", {"myhostname": None}, command=command)
    with pytest.raises(MtaError, match="bad parameter: no_such_thing"):
        filterd.start()
    assert "myhostname" not in filterd.config_path.read_text()
