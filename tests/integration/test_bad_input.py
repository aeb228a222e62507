"""Bad input gets the right reply, nothing smuggled gets through, and other clients go on being served."""

from __future__ import annotations

import re
import smtplib
import socket
import time

import pytest

from tests.harness import CLIENT

SENDER, RCPT = "alice@example.org", "bob@example.net"


class RawClient:
    """A byte-exact SMTP client: sends what it is told, reads whole replies."""

    def __init__(self, port: int, timeout: float = 20.0):
        self.sock = socket.create_connection(("127.0.0.1", port), timeout=timeout)
        self.buffer = b""
        self.greeting = self.reply()

    def reply(self) -> str:
        lines = []
        while True:
            while b"\r\n" not in self.buffer:
                chunk = self.sock.recv(65536)
                if not chunk:
                    raise ConnectionError(f"closed after {lines!r} {self.buffer!r}")
                self.buffer += chunk
            line, self.buffer = self.buffer.split(b"\r\n", 1)
            lines.append(line.decode("utf-8", "replace"))
            if re.match(r"^\d{3}(?: |$)", lines[-1]):
                return "\n".join(lines)

    def send(self, data: bytes) -> None:
        self.sock.sendall(data)

    def command(self, line: bytes | str) -> str:
        self.send((line.encode() if isinstance(line, str) else line) + b"\r\n")
        return self.reply()

    def start(self) -> None:
        assert self.command("EHLO client.example").startswith("250")
        assert self.command(f"MAIL FROM:<{SENDER}>").startswith("250")
        assert self.command(f"RCPT TO:<{RCPT}>").startswith("250")
        assert self.command("DATA").startswith("354")

    def close(self) -> None:
        self.sock.close()


@pytest.fixture
def proxy(smtp_sink, filterd_factory):
    return filterd_factory({"message_size_limit": "200000", "smtpd_recipient_limit": "3",
                            "smtpd_error_sleep_time": "0", "smtpd_timeout": "3s"},
                           nexthop_port=smtp_sink.port)


SMUGGLING = {
    "bare LF dot bare LF": b"\n.\n",
    "CR dot LF": b"\r.\n",
    "bare LF dot CRLF": b"\n.\r\n",
    "CR dot CR": b"\r.\r",
    "CRLF dot LF": b"\r\n.\n",
}


@pytest.mark.parametrize("separator", SMUGGLING.values(), ids=SMUGGLING.keys())
def test_smuggled_end_of_data_never_ends_the_message(proxy, smtp_sink, separator):
    client = RawClient(proxy.port)
    client.start()
    smuggled = (b"MAIL FROM:<evil@example.com>\r\nRCPT TO:<victim@example.net>\r\nDATA\r\n"
                b"Subject: smuggled\r\n\r\nevil\r\n")
    client.send(b"Subject: outer\r\n\r\nbody" + separator + smuggled + b".\r\n")
    assert client.reply().startswith("250 2.0.0")
    assert client.command("QUIT").startswith("221")
    [dump] = smtp_sink.dumps()
    assert dump.sender == SENDER and dump.recipients == [RCPT]
    assert b"MAIL FROM:<evil@example.com>" in dump.content
    assert smtp_sink.counters()[2] == 1


def test_bare_newlines_are_normalised_before_they_go_on(proxy, smtp_sink):
    client = RawClient(proxy.port)
    client.start()
    client.send(b"Subject: lf\n\nline one\nline two\r\n.\r\n")
    assert client.reply().startswith("250")
    [raw] = smtp_sink.messages()
    assert b"line one\nline two" in raw.replace(b"\r\n", b"\n")


def test_bare_newline_reject_mode(smtp_sink, filterd_factory):
    proxy = filterd_factory({"smtpd_forbid_bare_newline": "reject", "smtpd_forbid_bare_newline_exclusions": ""},
                            nexthop_port=smtp_sink.port)
    client = RawClient(proxy.port)
    client.start()
    client.send(b"Subject: lf\n\nbody\r\n.\r\n")
    assert client.reply() == "550 5.5.2 filterd.test Error: bare <LF> received"
    assert smtp_sink.received() == 0


def test_bare_newline_exclusions_are_normalised_not_rejected(smtp_sink, filterd_factory):
    proxy = filterd_factory({"smtpd_forbid_bare_newline": "reject"}, nexthop_port=smtp_sink.port)
    client = RawClient(proxy.port)
    client.start()
    client.send(b"Subject: lf\n\nbody\r\n.\r\n")
    assert client.reply().startswith("250")


def send_overlong_line(port: int) -> bytes:
    client = RawClient(port)
    client.start()
    client.send(b"Subject: long\r\n\r\n" + b"x" * 50000 + b"\r\n.\r\n")
    return client.reply()


def test_overlong_lines_arrive_whole_broken_at_998_bytes(proxy, smtp_sink):
    assert send_overlong_line(proxy.port).startswith("250")
    lines = smtp_sink.messages()[0].split(b"\n")
    assert b"x" * 998 in lines and b" " + b"x" * 997 in lines
    assert b"".join(line.removeprefix(b" ") for line in lines if line.strip(b" x") == b"") == b"x" * 50000


def test_overlong_lines_pass_intact_without_a_line_length_limit(smtp_sink, filterd_factory):
    proxy = filterd_factory({"smtp_line_length_limit": "0"}, nexthop_port=smtp_sink.port)
    assert send_overlong_line(proxy.port).startswith("250")
    assert b"\n" + b"x" * 50000 + b"\n" in smtp_sink.messages()[0]


def test_an_overlong_command_line_is_refused(proxy):
    client = RawClient(proxy.port)
    assert client.command(b"MAIL FROM:<" + b"a" * 5000 + b"@example.org>") == "500 5.5.2 Error: command line too long"
    assert client.command("NOOP").startswith("250")


def test_nul_bytes_in_a_command_are_bad_syntax(proxy):
    client = RawClient(proxy.port)
    client.command("EHLO x")
    assert client.command(b"MAIL FROM:<a\x00b@example.org>") == "500 5.5.2 Error: bad syntax"


def test_nul_and_8bit_data_are_carried(proxy, smtp_sink):
    client = RawClient(proxy.port)
    client.start()
    client.send(b"Subject: bin\r\n\r\nnul:\x00: latin1:\xe9: utf8:\xc3\xa9\r\n.\r\n")
    assert client.reply().startswith("250")
    assert b"nul:\x00: latin1:\xe9: utf8:\xc3\xa9" in smtp_sink.messages()[0]


def test_size_declared_too_big_is_refused_at_mail(proxy):
    client = RawClient(proxy.port)
    client.command("EHLO x")
    assert client.command(f"MAIL FROM:<{SENDER}> SIZE=300000") == "552 5.3.4 Message size exceeds fixed limit"


def test_a_message_over_the_limit_gets_552_and_nothing_is_relayed(proxy, smtp_sink):
    client = RawClient(proxy.port)
    client.start()
    client.send(b"Subject: big\r\n\r\n" + (b"y" * 998 + b"\r\n") * 300 + b".\r\n")
    assert client.reply() == "552 5.3.4 Error: message file too big"
    assert client.command("NOOP").startswith("250")
    assert smtp_sink.received() == 0


def test_unknown_and_out_of_order_commands(proxy):
    client = RawClient(proxy.port)
    assert client.command("FOOBAR") == "500 5.5.2 Error: command not recognized"
    assert client.command(f"RCPT TO:<{RCPT}>") == "503 5.5.1 Error: need MAIL command"
    assert client.command("DATA") == "503 5.5.1 Error: need RCPT command"
    client.command("EHLO x")
    client.command(f"MAIL FROM:<{SENDER}>")
    assert client.command(f"MAIL FROM:<{SENDER}>") == "503 5.5.1 Error: nested MAIL command"
    assert client.command("DATA") == "554 5.5.1 Error: no valid recipients"


def test_too_many_recipients(proxy):
    client = RawClient(proxy.port)
    client.command("EHLO x")
    client.command(f"MAIL FROM:<{SENDER}>")
    replies = [client.command(f"RCPT TO:<r{i}@example.net>") for i in range(4)]
    assert replies[:3] == ["250 2.1.5 Ok"] * 3
    assert replies[3] == "452 4.5.3 Error: too many recipients"


def test_hard_error_limit_disconnects(smtp_sink, filterd_factory):
    proxy = filterd_factory({"smtpd_hard_error_limit": "3", "smtpd_error_sleep_time": "0"},
                            nexthop_port=smtp_sink.port)
    client = RawClient(proxy.port)
    client.command("BOGUS1")
    client.command("BOGUS2")
    client.send(b"BOGUS3\r\n")
    assert client.reply() == "500 5.5.2 Error: command not recognized"
    assert client.reply() == "421 4.7.0 filterd.test Error: too many errors"
    assert f"too many errors after UNKNOWN from {CLIENT}" in proxy.log()


def test_a_client_stalled_mid_data_times_out_while_others_are_served(proxy, smtp_sink):
    stalled = RawClient(proxy.port)
    stalled.start()
    stalled.send(b"Subject: stall\r\n\r\npartial line")
    with smtplib.SMTP("127.0.0.1", proxy.port, timeout=10) as other:
        other.sendmail(SENDER, [RCPT], "Subject: meanwhile\r\n\r\nok\r\n")
    assert smtp_sink.received() == 1
    started = time.monotonic()
    assert stalled.reply() == "421 4.4.2 filterd.test Error: timeout exceeded"
    assert time.monotonic() - started < 10
    assert "timeout after DATA (" in proxy.log()
    assert smtp_sink.received() == 1


def test_pipelined_commands_get_replies_in_order(proxy, smtp_sink):
    client = RawClient(proxy.port)
    client.command("EHLO x")
    client.send(f"MAIL FROM:<{SENDER}>\r\nRCPT TO:<{RCPT}>\r\nRCPT TO:<c@example.net>\r\nDATA\r\n".encode())
    assert [client.reply() for _ in range(4)] == ["250 2.1.0 Ok", "250 2.1.5 Ok", "250 2.1.5 Ok",
                                                   "354 End data with <CR><LF>.<CR><LF>"]
    client.send(b"Subject: piped\r\n\r\nx\r\n.\r\nQUIT\r\n")
    assert client.reply().startswith("250")
    assert client.reply().startswith("221")
    assert smtp_sink.dumps()[0].recipients == [RCPT, "c@example.net"]
