"""The pipe service on a unix socket, with `filterd pipe`'s client in a thread: a message filtered and
reinjected through a sendmail script, a refusal's status and text, a malformed request closed with a warning, and
the client's exit 75 when nobody listens."""

from __future__ import annotations

import asyncio
import io
import re
import socket
from pathlib import Path

from filterd.chain import Chain
from filterd.pipe.client import hand_over
from filterd.pipe.filtering import Reinjection
from filterd.pipe.protocol import encode_request
from filterd.pipe.service import PipeSettings, serve_pipe
from filterd.testing import load_plugins
from tests.fixtures.plugins import after_queue
from tests.pipe.test_pipe import MESSAGE, sendmail


def listening(path: Path) -> socket.socket:
    sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    sock.bind(str(path))
    sock.listen(8)
    sock.setblocking(False)
    return sock


def served(tmp_path: Path, client) -> object:
    """What client(service) returns while a pipe service listens, its reinjection a sendmail script."""
    async def run():
        path = tmp_path / "pipe.sock"
        settings = PipeSettings(Reinjection(None, str(sendmail(tmp_path))), 4096, 10.0)
        server = await serve_pipe(listening(path), Chain(load_plugins(after_queue)), settings)
        try:
            return await asyncio.to_thread(client, f"unix:{path}")
        finally:
            server.close()
    return asyncio.run(run())


def pipe(tmp_path: Path, subject: str, body: bytes = b"hello\r\n") -> tuple[int, str]:
    out = io.StringIO()
    message = (MESSAGE % subject.encode()).replace(b"hello\r\n", body)
    status = served(tmp_path, lambda service: hand_over(service, "alice@example.org", ["bob@example.net"],
                                                       io.BytesIO(message), out))
    return status, out.getvalue()


def test_an_accepted_message_is_filtered_and_reinjected(tmp_path):
    assert pipe(tmp_path, "fine") == (0, "")
    assert (tmp_path / "argv").read_text().splitlines() == ["-G", "-i", "-f", "alice@example.org", "--",
                                                            "bob@example.net"]
    assert b"X-After-Queue: checked " in (tmp_path / "stdin").read_bytes()


def test_a_message_larger_than_the_spool_s_memory_arrives_whole(tmp_path):
    body = b"".join(b"line %06d of a long message\r\n" % n for n in range(20000))
    assert pipe(tmp_path, "big", body) == (0, "")
    assert (tmp_path / "stdin").read_bytes().endswith(body.replace(b"\r\n", b"\n"))


def test_a_refusal_is_the_exit_status_and_its_reason(tmp_path, filterd_log):
    assert pipe(tmp_path, "AQ-REJECT") == (69, "5.7.1 Refused after queue\n")
    assert not (tmp_path / "argv").exists()
    assert re.search(r"\w+: from=<alice@example.org>, nrcpt=1, status=bounced \(5.7.1 Refused after queue\)$",
                     filterd_log.text, re.M)


def raw(service: str, data: bytes) -> bytes:
    with socket.socket(socket.AF_UNIX) as sock:
        sock.connect(service.removeprefix("unix:"))
        sock.sendall(data)
        sock.shutdown(socket.SHUT_WR)
        return sock.recv(1024)


def test_a_malformed_request_is_logged_and_the_connection_closed_unanswered(tmp_path, caplog):
    assert served(tmp_path, lambda service: raw(service, b"recipient=bob@example.net\n\n")) == b""
    assert "malformed request from local: expected sender=ADDRESS" in caplog.text


def test_a_message_cut_short_is_not_filtered(tmp_path, caplog):
    request = encode_request("alice@example.org", ["bob@example.net"])
    assert served(tmp_path, lambda service: raw(service, request + b"100\nonly part")) == b""
    assert "lost connection after DATA (9 bytes) from local" in caplog.text
    assert not (tmp_path / "argv").exists()


def test_nobody_listening_is_exit_75_with_a_4_3_0_reason(tmp_path):
    out = io.StringIO()
    status = hand_over(f"unix:{tmp_path}/none.sock", "a@example.org", ["b@example.net"], io.BytesIO(b"x"), out)
    assert status == 75
    assert out.getvalue().startswith(f"4.3.0 cannot connect to the filterd pipe service unix:{tmp_path}/none.sock: ")


def test_a_connection_closed_at_once_is_lost_after_connect(tmp_path, caplog):
    assert served(tmp_path, lambda service: raw(service, b"")) == b""
    assert "lost connection after CONNECT from local" in caplog.text
