"""Lines longer than smtp_line_length_limit (998) leave as a real Postfix 3.7 sends them: the same messages,
relayed by Postfix and by filterd (proxy, and relay mode), reach smtp-sink byte for byte alike but for each
MTA's own Received header; and the same on the wire, CRs and stuffing dots included."""

from __future__ import annotations

import shutil
import smtplib

import pytest

from tests.conftest import require_programs
from tests.fixtures.recording_server import RecordingServer
from tests.harness import (HOST, FilterdProcess, Postfix, SmtpSink, free_port, make_workdir, wait_until,
                           without_own_received)

RCPT = "bob@example.net"
LENGTHS = (997, 998, 999, 1995, 1996, 1997, 2046, 2047, 2048, 2049, 2050, 4096, 9 * 1024)
"""Body lines around each boundary: the limit, the second break (998 + 997), the reader's 2048."""


def message(sender: str, headers: list[bytes], body: bytes) -> bytes:
    top = [b"From: " + sender.encode(), b"To: " + RCPT.encode(), b"Subject: long lines",
           b"Date: Thu, 03 Dec 2026 09:00:00 +0000", b"Message-ID: <" + sender.encode() + b">", *headers]
    return b"\r\n".join(top) + b"\r\n\r\n" + body


def body_lines() -> bytes:
    lines = [bytes([48 + n % 10]) * length for n, length in enumerate(LENGTHS)]
    lines += [b"." + b"d" * 997, b"." + b"d" * 998, b"." * 2500, b"short", b"x" * 9 * 1024]
    return b"\r\n".join(lines) + b"\r\n"


MESSAGES = {
    "body@example.org": message("body@example.org", [], body_lines()),
    "header@example.org": message("header@example.org", [b"X-Long: " + b"h" * 9 * 1024], b"hello\r\n"),
    "folded@example.org": message("folded@example.org", [b"X-Folded: start", b"\t" + b"f" * 3000], b"hello\r\n"),
    "truncated@example.org": message("truncated@example.org", [b"X-Huge: " + b"t" * 110 * 1024], b"hello\r\n"),
}


def send_all(port: int) -> None:
    with smtplib.SMTP(HOST, port, timeout=60) as client:
        for sender, content in MESSAGES.items():
            client.sendmail(sender, [RCPT], content)


class WireSink:
    """The recording server in smtp-sink's place: the DATA bytes as sent, CRs and stuffing dots kept."""

    def __init__(self) -> None:
        self.server = RecordingServer()
        self.port = self.server.port

    def start(self) -> WireSink:
        self.server.start()
        return self

    def stop(self) -> None:
        self.server.stop()


def delivered(sink: SmtpSink | WireSink) -> dict[str, bytes]:
    """Each message the sink got by its sender, without the Received header of the MTA that sent it."""
    if isinstance(sink, SmtpSink):
        sink.wait_for(len(MESSAGES), timeout=60)
        return {dump.sender: without_own_received(dump.content) for dump in sink.dumps()}
    wait_until(lambda: len(sink.server.recorded) >= len(MESSAGES), 60, "every message at the recorder")
    return {item.sender: without_own_received(item.data) for item in sink.server.recorded}


@pytest.fixture(scope="module", params=["smtp-sink", "wire"])
def runs(request):
    """What the sink (smtp-sink's dump, or the bytes on the wire) got from Postfix, filterd's proxy and
    filterd's relay, and their logs."""
    require_programs()
    workdir = make_workdir("filterd-long-lines-")
    failed, services = request.session.testsfailed, []

    def start(service):
        services.append(service)
        return service.start()

    try:
        names = ("postfix", "proxy", "relay")
        sinks = [start(SmtpSink(workdir / f"sink-{name}") if request.param == "smtp-sink" else WireSink())
                 for name in names]
        postfix = start(Postfix.relay(workdir / "postfix", sinks[0].port))
        proxy = start(FilterdProcess(workdir / "proxy", nexthop_port=sinks[1].port))
        port = free_port()
        relay = start(FilterdProcess(workdir / "relay", {
            "filterd_listeners": f"relay:{HOST}:{port}", "relayhost": f"[{HOST}]:{sinks[2].port}",
            "smtp_dns_support_level": "disabled", "queue_run_delay": "1s"}, port=port))
        for mta in (postfix, proxy, relay):
            send_all(mta.port)
        yield ({name: delivered(sink) for name, sink in zip(names, sinks)},
               {"postfix": postfix.maillog, "proxy": proxy.log, "relay": relay.log})
    finally:
        for service in reversed(services):
            service.stop()
    if request.session.testsfailed == failed:
        shutil.rmtree(workdir, ignore_errors=True)


@pytest.mark.parametrize("mode", ["proxy", "relay"])
@pytest.mark.parametrize("sender", MESSAGES)
def test_filterd_delivers_what_postfix_delivers(runs, mode, sender):
    contents, _ = runs
    assert contents[mode][sender] == contents["postfix"][sender]


def test_postfix_did_break_the_lines(runs):
    contents, _ = runs
    lines = contents["postfix"]["body@example.org"].replace(b"\r\n", b"\n").split(b"\n")
    assert max(len(line.removeprefix(b".")) for line in lines) == 998
    assert b"9" * 998 in lines and b" " + b"9" * 997 in lines


@pytest.mark.parametrize("mode", ["postfix", "proxy", "relay"])
def test_each_logs_that_it_broke_lines(runs, mode):
    _, logs = runs
    wait_until(lambda: "breaking line > 998 bytes with <CR><LF>SPACE" in logs[mode](), 30, f"{mode}'s log line")
