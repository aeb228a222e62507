"""The client's service address and the answers it gives without a service: a bad filterd_pipe_service defers
as a configuration error, an address that cannot be sent bounces, a service that closes without a reply defers."""

from __future__ import annotations

import io
import socket
import threading

import pytest

from filterd.pipe.client import hand_over, parse_service


def test_service_addresses():
    assert parse_service("unix:/run/filterd/pipe") == (socket.AF_UNIX, "/run/filterd/pipe")
    assert parse_service("inet:127.0.0.1:10027") == (socket.AF_INET, ("127.0.0.1", 10027))
    assert parse_service("inet:[::1]:10027") == (socket.AF_INET6, ("::1", 10027))


@pytest.mark.parametrize("value", ["/run/pipe", "unix:run/pipe", "inet:127.0.0.1", "tcp:127.0.0.1:1",
                                   "inet:127.0.0.1:65536", "inet:127.0.0.1:\u0661"])
def test_a_bad_service_address_is_a_value_error(value):
    with pytest.raises(ValueError, match="expected unix:/PATH or inet:HOST:PORT"):
        parse_service(value)


def answer(service: str, recipients: list[str]) -> tuple[int, str]:
    out = io.StringIO()
    return hand_over(service, "a@example.org", recipients, io.BytesIO(b"x"), out), out.getvalue()


def test_a_bad_service_setting_defers_as_a_configuration_error():
    status, text = answer("/run/pipe", ["b@example.net"])
    assert status == 75 and text.startswith("4.3.5 filterd configuration error: filterd_pipe_service: bad value")


def test_an_address_with_a_newline_bounces(tmp_path):
    assert answer(f"unix:{tmp_path}/none", ["b\n@example.net"])[0] == 69


def test_a_service_that_closes_without_a_reply_defers(tmp_path):
    path = tmp_path / "pipe.sock"
    with socket.socket(socket.AF_UNIX) as listener:
        listener.bind(str(path))
        listener.listen(1)
        thread = threading.Thread(target=lambda: listener.accept()[0].close())
        thread.start()
        status, text = answer(f"unix:{path}", ["b@example.net"])
        thread.join()
    assert status == 75 and text.startswith(f"4.3.0 lost connection with the filterd pipe service unix:{path}: ")
