"""BDAT (RFC 3030 CHUNKING) sent to a real Postfix 3.7 and to filterd's relay: the same sessions, pipelined whole
after the greeting (good, refused, malformed, oversized, after an error, mixed with DATA, refused by header_checks),
get the same replies line by line; the messages delivered are the same bytes (but for each MTA's own Received
header), the same as DATA delivers for the same text and as the proxy hands on with DATA; the log lines for a lost
connection, a timeout and the session summary are Postfix's; with smtpd_discard_ehlo_keywords = chunking, BDAT
ends the session as in Postfix."""

from __future__ import annotations

import re
import socket
import time

import pytest

from tests.conftest import Launcher, require_programs
from tests.harness import (HOST, FilterdProcess, Postfix, SmtpSink, free_port, make_workdir, read_text,
                           smtpd_listener, wait_until, without_own_received)

pytestmark = pytest.mark.integration

COMMON = {"smtpd_error_sleep_time": "0", "message_size_limit": "20000", "smtpd_timeout": "3s"}
SENDER, RCPT = "<a@example.org>", "<b@example.net>"
ENVELOPE = f"EHLO client.example\r\nMAIL FROM:{SENDER}\r\nRCPT TO:{RCPT}\r\n".encode()


def message(tag: str, body: bytes = b"hello\r\n") -> bytes:
    return (f"From: a@example.org\r\nTo: b@example.net\r\nSubject: {tag}\r\nDate: Thu, 03 Dec 2026 09:00:00 +0000"
            f"\r\nMessage-ID: <{tag}@example.org>\r\n\r\n").encode() + body


def bdat(*chunks: bytes, last: bool = True) -> bytes:
    """BDAT commands for the chunks, the final one LAST."""
    out = b""
    for index, chunk in enumerate(chunks):
        out += f"BDAT {len(chunk)}{' LAST' if last and index == len(chunks) - 1 else ''}\r\n".encode() + chunk
    return out


def converse(port: int, data: bytes) -> list[str]:
    """Send `data` at once after the greeting; the reply lines until the server hangs up, host names and queue ids
    normalised."""
    with socket.create_connection((HOST, port), timeout=30) as sock:
        received = sock.recv(4096)
        while not received.endswith(b"\r\n"):
            received += sock.recv(4096)
        sock.sendall(data)
        received = b""
        while chunk := sock.recv(65536):
            received += chunk
    text = re.sub(r"queued as \w+", "queued as QID", received.decode())
    text = text.replace("postfix.test", "HOST").replace("filterd.test", "HOST")
    return text.split("\r\n")[:-1]


@pytest.fixture(scope="module")
def servers():
    """Postfix and filterd relaying to their own smtp-sink; a second listener of each with CHUNKING discarded."""
    require_programs()
    workdir = make_workdir("filterd-chunking-")
    launcher = Launcher(workdir)
    (workdir / "header_checks").write_text(HEADER_CHECKS)
    checks = {"header_checks": f"regexp:{workdir / 'header_checks'}"}
    try:
        sinks = [launcher.launch(SmtpSink(launcher.directory(f"sink-{name}"))) for name in ("postfix", "filterd",
                                                                                            "proxy")]
        ports = free_port(), free_port(), free_port()
        postfix = launcher.launch(Postfix(launcher.directory("postfix"), [
            smtpd_listener(ports[0]), smtpd_listener(ports[1], "smtpd_discard_ehlo_keywords=chunking"),
            smtpd_listener(ports[2], *(f"{name}={value}" for name, value in STRICT.items()))],
            {**COMMON, **checks, "relayhost": f"[{HOST}]:{sinks[0].port}"}))
        relay = {**COMMON, **checks, "filterd_plugins": "header_checks", "relayhost": f"[{HOST}]:{sinks[1].port}",
                 "smtp_dns_support_level": "disabled", "queue_run_delay": "1s"}
        filterd = [launcher.launch(FilterdProcess(launcher.directory("filterd"), {
            **relay, "filterd_listeners": f"relay:{HOST}:{port}", **extra}, port=port))
            for port, extra in ((free_port(), {}), (free_port(), {"smtpd_discard_ehlo_keywords": "chunking"}),
                                (free_port(), STRICT))]
        proxy = launcher.launch(FilterdProcess(launcher.directory("proxy"), COMMON, nexthop_port=sinks[2].port))
        yield {"postfix": postfix, "filterd": filterd[0], "filterd-off": filterd[1], "filterd-strict": filterd[2],
               "proxy": proxy, "sinks": dict(zip(("postfix", "filterd", "proxy"), sinks)),
               "ports": {"postfix-off": ports[1], "postfix-strict": ports[2]}}
    finally:
        launcher.stop_all()


STRICT = {"smtpd_forbid_bare_newline": "reject", "smtpd_forbid_bare_newline_exclusions": ""}
"""A listener of each that refuses bare newlines, for this client too."""
HEADER_CHECKS = """\
/^Subject: refuse-me/ REJECT no thanks
/^Subject: later-please/ DEFER try later
/^Subject: drop-me/ DISCARD
"""


def both(servers, data: bytes) -> tuple[list[str], list[str]]:
    return converse(servers["postfix"].port, data), converse(servers["filterd"].port, data)


SESSIONS = {
    "one-last-chunk": ENVELOPE + bdat(message("one")) + b"QUIT\r\n",
    "three-chunks": ENVELOPE + bdat(message("three")[:20], message("three")[20:41], message("three")[41:])
    + b"QUIT\r\n",
    "cut-inside-crlf": ENVELOPE + bdat(message("crlf")[:40] + b"\r", b"\n" + message("crlf")[41:]) + b"QUIT\r\n",
    "two-transactions": ENVELOPE + bdat(message("first")) + f"MAIL FROM:{SENDER}\r\nRCPT TO:{RCPT}\r\n".encode()
    + bdat(message("second"), last=False) + bdat(b"") + b"QUIT\r\n",
    "bdat-0-last": ENVELOPE + b"BDAT 0 LAST\r\nQUIT\r\n",
    "lowercase-last": ENVELOPE + b"bdat 5 last\r\nhi\r\n\r\nQUIT\r\n",
    "before-mail": b"EHLO client.example\r\nBDAT 5\r\nhelloBDAT 3 LAST\r\nabcNOOP\r\nMAIL FROM:<a@example.org>\r\n"
    b"RSET\r\nMAIL FROM:<a@example.org>\r\nQUIT\r\n",
    "before-rcpt": b"EHLO client.example\r\nMAIL FROM:<a@example.org>\r\nBDAT 5\r\nhelloMAIL FROM:<a@example.org>\r\n"
    b"RCPT TO:<b@example.net>\r\nDATA\r\nBDAT 3 LAST\r\nabcRCPT TO:<b@example.net>\r\nRSET\r\nQUIT\r\n",
    "last-before-rcpt": b"EHLO client.example\r\nMAIL FROM:<a@example.org>\r\nBDAT 3 LAST\r\nabc"
    b"MAIL FROM:<a@example.org>\r\nQUIT\r\n",
    "after-chunks": ENVELOPE + b"BDAT 5\r\nhelloDATA\r\nMAIL FROM:<a@example.org>\r\nRCPT TO:<c@example.net>\r\n"
    + bdat(b"\r\nworld\r\n") + b"QUIT\r\n",
    "data-then-bdat": ENVELOPE + b"DATA\r\n" + message("data") + b".\r\nBDAT 3 LAST\r\nabcQUIT\r\n",
    "null-chunk": ENVELOPE + b"BDAT 0\r\nBDAT 5\r\nhelloBDAT 3 LAST\r\nabcMAIL FROM:<a@example.org>\r\nQUIT\r\n",
    "rset-after-error": ENVELOPE + b"BDAT 0\r\nRSET\r\nBDAT 2 LAST\r\nabMAIL FROM:<a@example.org>\r\nQUIT\r\n",
    "chunk-too-big": ENVELOPE + bdat(b"x" * 30000) + b"QUIT\r\n",
    "second-chunk-too-big": ENVELOPE + bdat(b"x\r\n" * 5000, b"y" * 10000, b"z" * 10) + b"QUIT\r\n",
    "too-big-in-a-chunk": ENVELOPE + bdat(b"x" * 15000, b"y" * 5600, b"z" * 10) + b"RCPT TO:<b@example.net>\r\n"
    b"QUIT\r\n",
    "malformed-word": b"EHLO client.example\r\nBDAT x\r\nhello\r\nNOOP\r\n",
    "malformed-first": b"EHLO client.example\r\nBDAT 5 FIRST\r\nhello",
    "malformed-empty": b"EHLO client.example\r\nBDAT\r\nNOOP\r\n",
    "malformed-negative": b"EHLO client.example\r\nBDAT -1\r\nNOOP\r\n",
    "malformed-huge": b"EHLO client.example\r\nBDAT 99999999999999999999999\r\nNOOP\r\n",
    "data-without-mail": b"EHLO client.example\r\nDATA\r\nDATA x\r\nQUIT\r\n",
    "data-without-rcpt": b"EHLO client.example\r\nMAIL FROM:<a@example.org>\r\nDATA x\r\nDATA\r\n"
    b"RCPT TO:<b@example.net>\r\nDATA x\r\nRSET\r\nQUIT\r\n",
    "data-after-bdat-last": ENVELOPE + bdat(b"abc\r\n") + b"DATA\r\nQUIT\r\n",
    "header-checks-reject": ENVELOPE + bdat(message("refuse-me")[:30], message("refuse-me")[30:]) + b"QUIT\r\n",
    "header-checks-defer": ENVELOPE + bdat(message("later-please")) + b"NOOP\r\n" + ENVELOPE[21:]
    + bdat(message("next")) + b"QUIT\r\n",
    "header-checks-discard": ENVELOPE + bdat(message("drop-me"), b"more\r\n") + b"QUIT\r\n",
    "helo-then-bdat": b"HELO client.example\r\nMAIL FROM:<a@example.org>\r\nRCPT TO:<b@example.net>\r\n"
    + bdat(message("helo")) + b"QUIT\r\n",
}


@pytest.mark.parametrize("name", SESSIONS)
def test_a_bdat_session_gets_postfix_s_replies(servers, name):
    expected, got = both(servers, SESSIONS[name])
    assert any(line.startswith(("250 2.0.0 Ok:", "5")) for line in expected), expected
    assert got == expected


def test_ehlo_offers_chunking_last_as_postfix(servers):
    expected, got = both(servers, b"EHLO client.example\r\nQUIT\r\n")
    assert expected[-2:] == ["250 CHUNKING", "221 2.0.0 Bye"]
    assert got == expected


def test_a_bdat_reply_names_the_bytes_postfix_counts(servers):
    """`Ok: N bytes queued as`: N is Postfix's count (each line without its ending, two bytes more), not the
    bytes sent: a bare LF and a missing last line ending count as CRLF."""
    data = ENVELOPE + bdat(message("count", b"bare\nlf\r\nno ending")) + b"QUIT\r\n"
    expected, got = both(servers, data)
    size = len(message("count", b"bare\r\nlf\r\nno ending\r\n"))
    assert f"250 2.0.0 Ok: {size} bytes queued as QID" in expected
    assert got == expected


def test_pipelined_chunks_and_transactions_get_their_replies_in_order(servers):
    transactions = b"".join(f"MAIL FROM:<s{n}@example.org>\r\nRCPT TO:{RCPT}\r\n".encode()
                            + bdat(*[message(f"pipe{n}")[i:i + 37] for i in range(0, 200, 37)]) for n in range(5))
    expected, got = both(servers, b"EHLO client.example\r\n" + transactions + b"QUIT\r\n")
    assert expected.count("250 2.0.0 Ok: 37 bytes") >= 15
    assert got == expected


def delivered(servers, subjects: list[str]) -> dict[str, dict[str, bytes]]:
    """Each MTA's messages with these subjects as its sink got them, without the MTA's own Received header."""
    out = {}
    for name in ("postfix", "filterd"):
        sink = servers["sinks"][name]
        wait_until(lambda: len(by_subject(sink, subjects)) == len(subjects), 60, f"{name}'s messages at the sink")
        out[name] = by_subject(sink, subjects)
    return out


def by_subject(sink: SmtpSink, subjects: list[str]) -> dict[str, bytes]:
    """The sink's messages with these subjects, once every dump file it started is complete."""
    if sink.received() < len(list(sink.dump_dir.iterdir())):
        return {}
    found = {}
    for dump in sink.dumps():
        content = without_own_received(dump.content)
        subject = re.search(rb"^Subject: (\S+)", content, re.M)
        if subject and subject[1].decode() in subjects:
            found[subject[1].decode()] = content
    return found


BODIES = {
    "dots": b".\r\n..\r\n.x\r\n. \r\n",
    "bare-lf": b"one\ntwo\r\nthree\n",
    "no-ending": b"first\r\nlast line",
    "long-line": b"a" * 5000 + b"\r\n" + b"b" * 3000,
    "empty": b"",
}


def test_what_bdat_delivers_is_what_postfix_delivers(servers):
    subjects = [f"deliver-{name}" for name in BODIES]
    for port in (servers["postfix"].port, servers["filterd"].port):
        for subject, body in zip(subjects, BODIES.values()):
            text = message(subject, body)
            chunks = [text[i:i + 777] for i in range(0, len(text), 777)]
            replies = converse(port, ENVELOPE + bdat(*chunks) + b"QUIT\r\n")
            assert replies[-2].startswith("250 2.0.0 Ok: "), replies
    messages = delivered(servers, subjects)
    assert messages["filterd"] == messages["postfix"]


def test_bdat_delivers_what_data_delivers_for_the_same_text(servers):
    text = message("same-as-data", b".dot\r\nbare\nlf\r\n" + b"c" * 2500 + b"\r\n")
    stuffed = re.sub(rb"(^|\n)\.", rb"\1..", text) + b".\r\n"
    port = servers["filterd"].port
    assert converse(port, ENVELOPE + bdat(text[:50], text[50:]) + b"QUIT\r\n")[-2].startswith("250 2.0.0 Ok: ")
    data = ENVELOPE + b"DATA\r\n" + stuffed.replace(b"same-as-data", b"same-as-DATA")
    assert converse(port, data + b"QUIT\r\n")[-2].startswith("250 2.0.0 Ok: queued as")
    sink = servers["sinks"]["filterd"]
    wait_until(lambda: len(by_subject(sink, ["same-as-data", "same-as-DATA"])) == 2, 60, "both messages")
    found = by_subject(sink, ["same-as-data", "same-as-DATA"])
    assert found["same-as-DATA"].replace(b"same-as-DATA", b"same-as-data") == found["same-as-data"]


def log_lines(text: str, marker: str) -> list[str]:
    return [line.split(": ", 1)[1] for line in text.splitlines() if marker in line and "/smtpd[" in line]


def logged(servers, data: bytes, *, close: bool = True, wait: float = 0.0,
           pick: str = r"(lost connection|timeout|disconnect) ") -> dict[str, list[str]]:
    """Send `data` after the greeting and hang up (or wait to be timed out): the lines matching `pick` (the
    lost-connection or timeout line and the summary) each MTA logged for that session, queue ids as QID."""
    out = {}
    for name in ("postfix", "filterd"):
        service = servers[name]
        read = service.maillog if name == "postfix" else service.log
        before = len(log_lines(read(), "disconnect from"))
        with socket.create_connection((HOST, service.port), timeout=30) as sock:
            sock.recv(4096)
            sock.sendall(data)
            time.sleep(0.5 if close else wait)
        wait_until(lambda: len(log_lines(read(), "disconnect from")) > before, 30, f"{name}'s disconnect line")
        lines = [line for line in read().splitlines() if "/smtpd[" in line]
        session = lines[[i for i, line in enumerate(lines) if "connect from" in line and "dis" not in line][-1]:]
        out[name] = [re.sub(r"^(warning: )?[0-9A-Za-z]{10,}: ", r"\1QID: ", line.split(": ", 1)[1])
                     for line in session if re.search(pick, line)]
    return out


@pytest.mark.parametrize(("data", "where"), [
    (ENVELOPE + b"BDAT 100\r\n" + b"x" * 30, "BDAT (30 bytes)"),
    (ENVELOPE + b"BDAT 100\r\n", "BDAT (0 bytes)"),
    (ENVELOPE + b"BDAT 10\r\nabc\r\nd\r\nefBDAT 50\r\nghi\r\n", "BDAT (15 bytes)"),
    (ENVELOPE + b"BDAT 3\r\nabc", "BDAT (3 bytes)"),
    (ENVELOPE + b"BDAT 0\r\nBDAT 20\r\nabc", "BDAT"),
    (ENVELOPE + b"BDAT 3\r\nabcNOOP\r\n", "NOOP"),
    (ENVELOPE + bdat(b"x" * 15000, b"y" * 5600, last=False), "BDAT (0 bytes)"),
], ids=["mid-chunk", "before-chunk", "second-chunk", "after-chunk", "skipping", "after-noop", "after-refusal"])
def test_a_client_that_hangs_up_is_logged_as_postfix_logs_it(servers, data, where):
    lines = logged(servers, data)
    assert lines["postfix"][0] == f"lost connection after {where} from localhost[127.0.0.1]"
    assert lines["filterd"] == lines["postfix"]


def test_a_timeout_in_a_chunk_is_logged_as_postfix_logs_it(servers):
    """Postfix counts the bytes of its own 421 reply in place of those of the fragment it was reading (smtpd.c
    formats the reply into the buffer it then measures): 46 bytes, with a host name of 12 characters."""
    lines = logged(servers, ENVELOPE + b"BDAT 100\r\n" + b"y" * 42, close=False, wait=8)
    assert lines["postfix"][0] == "timeout after BDAT (46 bytes) from localhost[127.0.0.1]"
    assert lines["filterd"] == lines["postfix"]


@pytest.mark.parametrize("data", [
    ENVELOPE + bdat(message("log1"), last=False) + bdat(b"") + b"QUIT\r\n",
    ENVELOPE + b"BDAT 0\r\nBDAT 2 LAST\r\nabRSET\r\nQUIT\r\n",
], ids=["delivered", "refused"])
def test_the_summary_counts_bdat_where_postfix_does(servers, data):
    lines = logged(servers, data)
    assert "bdat=" in lines["postfix"][-1]
    assert lines["filterd"] == lines["postfix"]


def test_with_chunking_discarded_bdat_ends_the_session_as_in_postfix(servers):
    session = ENVELOPE + bdat(message("off")) + b"QUIT\r\n"
    expected = converse(servers["ports"]["postfix-off"], session)
    assert "250 CHUNKING" not in expected and expected[-1] == "521 5.5.1 Error: command not implemented"
    assert converse(servers["filterd-off"].port, session) == expected
    wait_until(lambda: "discarding EHLO keywords: CHUNKING" in read_text(servers["filterd-off"].log_path), 10,
               "filterd's discarding line")
    assert "discarding EHLO keywords: CHUNKING" in servers["postfix"].maillog()


def test_the_proxy_hands_a_chunked_message_on_with_data_and_relays_the_next_hop_s_reply(servers):
    """As Postfix's smtpd_proxy_filter: the last chunk gets the next hop's own reply (smtp-sink's, no byte count);
    the next hop gets DATA, and the message the relay would queue."""
    text = message("via-proxy", b".dot\r\nbare\nlf\r\nend")
    replies = converse(servers["proxy"].port, ENVELOPE + bdat(text[:33], text[33:]) + b"QUIT\r\n")
    assert replies[-3:] == ["250 2.0.0 Ok: 33 bytes", "250 2.0.0 Ok", "221 2.0.0 Bye"]
    relayed = text.replace(b"via-proxy", b"via-relay")
    assert converse(servers["filterd"].port, ENVELOPE + bdat(relayed) + b"QUIT\r\n")[-2].startswith("250 2.0.0 Ok: ")
    sinks = servers["sinks"]
    wait_until(lambda: by_subject(sinks["proxy"], ["via-proxy"]) and by_subject(sinks["filterd"], ["via-relay"]), 60,
               "both messages")
    assert by_subject(sinks["proxy"], ["via-proxy"])["via-proxy"] == \
        by_subject(sinks["filterd"], ["via-relay"])["via-relay"].replace(b"via-relay", b"via-proxy")


@pytest.mark.parametrize("data", [
    ENVELOPE + bdat(message("lf", b"bare\nlf\r\n")) + b"QUIT\r\n",
    ENVELOPE + bdat(b"Subject: x\r\n\r\nabc\ndef", b"ghi\r\n") + b"MAIL FROM:<a@example.org>\r\nRSET\r\nQUIT\r\n",
    ENVELOPE + b"DATA\r\nSubject: x\r\n\r\nbare\nlf\r\n.\r\nQUIT\r\n",
], ids=["last-chunk", "first-of-two", "data"])
def test_a_refused_bare_newline_gets_postfix_s_reply(servers, data):
    expected = converse(servers["ports"]["postfix-strict"], data)
    assert "550 5.5.2 HOST Error: bare <LF> received" in expected
    assert converse(servers["filterd-strict"].port, data) == expected


@pytest.mark.parametrize(("data", "warning"), [
    (ENVELOPE + b"BDAT 0\r\nBDAT 2 LAST\r\nabQUIT\r\n", "warning: QID: null BDAT request from"),
    (b"EHLO client.example\r\nBDAT 0\r\nQUIT\r\n", "warning: NOQUEUE: null BDAT request from"),
    (ENVELOPE + bdat(b"x" * 30000) + b"QUIT\r\n", "warning: QID: BDAT request from localhost[127.0.0.1] exceeds"),
    (ENVELOPE + bdat(b"x" * 15000, b"y" * 5600) + b"QUIT\r\n", "warning: QID: queue file size limit exceeded"),
    (b"EHLO client.example\r\nBDAT 12 LAST junk\x01\r\n", "warning: NOQUEUE: malformed BDAT command syntax"),
], ids=["null", "null-noqueue", "chunk-too-big", "too-big-in-a-chunk", "malformed"])
def test_bdat_warnings_are_postfix_s(servers, data, warning):
    lines = logged(servers, data, pick=r"warning: ")
    assert any(line.startswith(warning) for line in lines["postfix"]), lines["postfix"]
    assert lines["filterd"] == lines["postfix"]
