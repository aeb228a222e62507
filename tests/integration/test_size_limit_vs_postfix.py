"""message_size_limit against a real Postfix 3.7: Postfix's cleanup holds the whole queue file to the limit, its
envelope and each line's record overhead included, so a message some hundred bytes under the limit is refused.
filterd's relay finds the largest message it takes within a few bytes of Postfix's (its queue ids are longer), for
short lines, long lines and more recipients; refuses with Postfix's reply and cleanup's warnings."""

from __future__ import annotations

import re
import socket
import time

import pytest

from tests.conftest import launched
from tests.harness import HOST, FilterdProcess, Postfix, SmtpSink, free_port, wait_until

pytestmark = pytest.mark.integration

LIMIT = 4000
SETTINGS = {"message_size_limit": str(LIMIT), "smtpd_error_sleep_time": "0"}
HEADERS = (b"From: a@example.org\r\nTo: b@example.net\r\nSubject: size\r\nDate: Thu, 03 Dec 2026 09:00:00 +0000\r\n"
           b"Message-ID: <size@example.org>\r\n\r\n")
SLACK = 24
"""filterd's long queue ids (log_ident and the Received: header) and the arrival time's microseconds."""


@pytest.fixture(scope="module")
def servers():
    with launched("filterd-size-") as launcher:
        sinks = [launcher.launch(SmtpSink(launcher.directory(f"sink-{name}"), dump=False))
                 for name in ("postfix", "filterd")]
        postfix = launcher.launch(Postfix.relay(launcher.directory("postfix"), sinks[0].port, SETTINGS))
        port = free_port()
        filterd = launcher.launch(FilterdProcess(launcher.directory("filterd"), {
            **SETTINGS, "filterd_listeners": f"relay:{HOST}:{port}", "relayhost": f"[{HOST}]:{sinks[1].port}",
            "smtp_dns_support_level": "disabled"}, port=port))
        yield {"postfix": postfix, "filterd": filterd}


def body(size: int, width: int) -> bytes:
    """`size` bytes of lines `width` bytes long with their CRLF (the last one shorter)."""
    lines, rest = divmod(size, width)
    text = (b"x" * (width - 2) + b"\r\n") * lines
    return text + (b"y" * (rest - 2) + b"\r\n" if rest >= 2 else b"")


def send(port: int, recipients: int, content: bytes) -> str:
    """One transaction; the reply to the end of data."""
    rcpts = "".join(f"RCPT TO:<b{n}@example.net>\r\n" for n in range(recipients))
    data = content.replace(b"\r\n.", b"\r\n..")
    with socket.create_connection((HOST, port), timeout=30) as sock:
        reader = sock.makefile("rb")
        reader.readline()
        sock.sendall(f"EHLO client.example\r\nMAIL FROM:<a@example.org>\r\n{rcpts}DATA\r\n".encode())
        for _ in range(2 + recipients):
            while reader.readline()[3:4] == b"-":
                pass
        assert reader.readline().startswith(b"354")
        sock.sendall(data + b".\r\nQUIT\r\n")
        return reader.readline().decode().strip()


def largest(port: int, recipients: int, width: int) -> int:
    """The largest message (headers and body) the server takes, found by bisection."""
    low, high = 0, LIMIT
    while low + 1 < high:
        middle = (low + high) // 2
        content = HEADERS + body(middle, width)
        if send(port, recipients, content).startswith("250"):
            low = middle
        else:
            high = middle
    return len(HEADERS + body(low, width))


@pytest.mark.parametrize(("recipients", "width"), [(1, 60), (1, 300), (5, 60)], ids=["short-lines", "long-lines",
                                                                                      "five-recipients"])
def test_the_largest_message_taken_is_postfix_s(servers, recipients, width):
    postfix = largest(servers["postfix"].port, recipients, width)
    filterd = largest(servers["filterd"].port, recipients, width)
    assert LIMIT - 1200 < postfix < LIMIT - 500
    assert postfix - SLACK <= filterd <= postfix, (postfix, filterd)


def test_a_message_under_the_limit_with_its_envelope_over_it_is_refused_as_postfix_refuses_it(servers):
    content = HEADERS + body(LIMIT - 300, 60)
    replies = {name: send(servers[name].port, 1, content) for name in ("postfix", "filterd")}
    assert replies["filterd"] == replies["postfix"] == "552 5.3.4 Error: message file too big"
    for name, read in (("postfix", servers["postfix"].maillog), ("filterd", servers["filterd"].log)):
        wait_until(lambda: "mail_stream_cleanup: close error" in read(), 10, f"{name}'s cleanup warnings")
    warnings = {name: [re.sub(r"^.*?\]: warning: ([0-9A-Za-z]{10,}: )?", lambda m: "QID: " if m.group(1) else "", line)
                       for line in read().splitlines() if "/cleanup[" in line and "warning:" in line][-2:]
                for name, read in (("postfix", servers["postfix"].maillog), ("filterd", servers["filterd"].log))}
    assert warnings["filterd"] == warnings["postfix"] == ["QID: queue file size limit exceeded",
                                                          "mail_stream_cleanup: close error"]
    assert not [line for line in servers["filterd"].log().splitlines() if "proxy-reject" in line]


def logged(service, read, send_it) -> dict[str, list[str]]:
    """The smtpd and the cleanup lines of the session `send_it` holds with `service` (each process's in order: the
    two write at once), queue ids as QID."""
    before = len(read().splitlines())
    send_it(service.port)
    wait_until(lambda: any("disconnect from" in line for line in read().splitlines()[before:]), 10, "disconnect")
    time.sleep(0.5)
    lines = read().splitlines()[before:]
    return {name: [re.sub(r"^(warning: )?[0-9A-Za-z]{10,}: ", r"\1QID: ", line.split("]: ", 1)[1])
                   for line in lines if f"/{name}[" in line] for name in ("smtpd", "cleanup")}


@pytest.mark.parametrize("session", ["size-declared", "content-over-limit"])
def test_a_refusal_for_size_is_logged_as_postfix_logs_it(servers, session):
    def declared(port: int) -> None:
        with socket.create_connection((HOST, port), timeout=30) as sock:
            reader = sock.makefile("rb")
            reader.readline()
            sock.sendall(b"EHLO client.example\r\nMAIL FROM:<a@example.org> SIZE=5000\r\nQUIT\r\n")
            while reader.readline():
                pass

    def over(port: int) -> None:
        assert send(port, 1, HEADERS + body(LIMIT + 500, 60)) == "552 5.3.4 Error: message file too big"

    sessions = {"size-declared": declared, "content-over-limit": over}
    lines = {name: logged(servers[name], read, sessions[session])
             for name, read in (("postfix", servers["postfix"].maillog), ("filterd", servers["filterd"].log))}
    assert lines["filterd"] == lines["postfix"]
