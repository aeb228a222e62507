"""Whole SMTP sessions fuzzed (hypothesis), without sockets: filterd's SmtpServer (aiosmtpd's protocol) on a fake
transport, fed any sequence of commands, junk and DATA, pipelined all at once and cut anywhere. Every command gets
exactly one well-formed reply (code, and Postfix's enhanced status where Postfix gives one), the session ends
without deadlock once the client has sent everything, and the next hop is handed no more than was accepted: one
message per 250 at end of data, to recipients that got 250, holding the data that was sent."""

from __future__ import annotations

import re

from hypothesis import given, strategies as st

from filterd import Verdict, hookimpl
from tests.fixtures.fuzzing import budget
from tests.fixtures.smtp_session import SETTINGS, run_session

REPLY_LINE = re.compile(rb"([2-5][0-9][0-9])([ -])(.*)")
ENHANCED = re.compile(r"([245])\.[0-9]{1,3}\.[0-9]{1,3}( |$)")
WITHOUT_ENHANCED = re.compile(r"^(220 |354 |250 mx\.example$|250-mx\.example$)")


class Refusals:
    """Refuses a HELO with "bad", a sender with "spam", a message with Subject REJECTME."""

    @hookimpl
    def helo(self, hostname):
        return Verdict.reject("5.7.1 Go away") if "bad" in hostname else None

    @hookimpl
    def mail_from(self, sender):
        return Verdict.defer("4.7.1 Later") if "spam" in sender else None

    @hookimpl
    def header(self, header):
        return Verdict.reject("5.7.1 Subject refused") if "REJECTME" in header.value else None


ADDRESSES = ["<a@example.org>", "<>", "<no@example.net>", "<spam@x>", "<b@example.net>", "a@example.org",
             "<a@[127.0.0.1]>", "<\"q u\"@example.org>", "<@route:a@b>", "<", "", " <c@example.net>",
             "<é@example.org>", "<a@b> <c@d>"]
PARAMS = ["", " SIZE=100", " SIZE=99999", " SIZE=x", " BODY=8BITMIME", " BODY=BINARYMIME", " SMTPUTF8",
          " RET=HDRS", " ENVID=a+2Bb", " NOTIFY=SUCCESS,FAILURE", " NOTIFY=NEVER", " ORCPT=rfc822;a+40b",
          " ORCPT=junk", " FOO=bar", " =", " AUTH=<>"]
COMMANDS = st.one_of(
    st.tuples(st.sampled_from(["EHLO", "HELO", "ehlo", "Helo"]),
              st.sampled_from(["", " client.example", " bad.example", " [127.0.0.1]", " a b"])).map("".join),
    st.tuples(st.sampled_from(["MAIL FROM:", "mail from: ", "MAIL FROM "]), st.sampled_from(ADDRESSES),
              st.sampled_from(PARAMS)).map("".join),
    st.tuples(st.sampled_from(["RCPT TO:", "rcpt to: ", "RCPT TO "]), st.sampled_from(ADDRESSES),
              st.sampled_from(PARAMS)).map("".join),
    st.sampled_from(["DATA", "DATA", "DATA x", "RSET", "NOOP", "NOOP x", "QUIT", "VRFY a", "EXPN a", "HELP",
                     "STARTTLS", "AUTH PLAIN AGFAYg==", "BDAT", "BDAT", "BDAT x",
                     "XFORWARD NAME=x.example ADDR=192.0.2.1",
                     "XFORWARD PROTO=ESMTP HELO=h+2Bx PORT=x", "XFORWARD", "XFORWARD junk=", "", "   ", "X" * 3000,
                     "MAIL", "RCPT", "FOO bar", "\x00", "MAIL FROM:<a@b>\x00", "ÉHLO x", "EHLO \udcff"]))
DATA_LINES = st.lists(st.sampled_from(
    ["Subject: hello", "Subject: REJECTME", "From: a@example.org", " folded", "", "body", ".", "..", ".dot",
     "DEFERME", "x" * 300, "a\rb", "bare\nlf", "\r", "é"]), max_size=8)
CHUNKS = st.tuples(st.sampled_from(["Subject: hello\r\n\r\n", "Subject: REJECTME\r\n", "body\r\n", ".\r\n", "..x",
                                    "bare\nlf", "a\rb", "x" * 300, "", "DEFERME\r\n"]),
                   st.sampled_from(["", " LAST", " last"]))
"""A BDAT chunk and whether it is the last: the command is made to fit the chunk."""


@st.composite
def sessions(draw) -> list[tuple[str, list[str] | None]]:
    """Commands, each DATA with the lines that would follow a 354 (sent whatever the reply)."""
    out = []
    for command in draw(st.lists(COMMANDS, max_size=14)):
        if command == "BDAT":
            chunk, last = draw(CHUNKS)
            out.append((f"BDAT {len(chunk.encode())}{last}", [chunk]))
            continue
        out.append((command, draw(DATA_LINES) if command.upper() == "DATA" else None))
    return out


def wire_bytes(session: list[tuple[str, list[str] | None]], ending: bytes) -> tuple[bytes, list[tuple]]:
    """What the client sends, and the client's script: ("command", text) and ("data", lines) in order."""
    out, script = bytearray(), []
    for command, data in session:
        out += command.encode("utf-8", "surrogateescape") + b"\r\n"
        script.append(("command", command))
        if command.startswith("BDAT") and data is not None:
            out += data[0].encode()
            script[-1] = ("bdat", (command, data[0]))
        elif data is not None:
            for line in data:
                out += line.encode("utf-8", "surrogateescape") + ending
            out += b".\r\n"
            script.append(("data", data))
    return bytes(out), script


def replies(out: bytes) -> list[list[str]]:
    """The output as replies, each its lines; every line checked to be a reply line of the reply's code."""
    found, current = [], []
    for line in out.split(b"\r\n")[:-1]:
        match = REPLY_LINE.fullmatch(line)
        assert match, line
        assert not current or match[1] == current[0][:3].encode(), (current, line)
        current.append(line.decode("utf-8", "surrogateescape"))
        if match[2] == b" ":
            found.append(current)
            current = []
    assert out.endswith(b"\r\n") or not out, out[-80:]
    assert current == [], current
    return found


def check_enhanced(reply: list[str]) -> None:
    """Postfix's enhanced status (class as the code's first digit) on every reply but the greeting, 354 and the
    HELO/EHLO answer's first line."""
    first = reply[0]
    if WITHOUT_ENHANCED.match(first):
        return
    status = ENHANCED.match(first[4:])
    assert status and status[1] == first[0], reply


def check_session(session: list, ending: bytes, cuts: list[int], plugins: list) -> int:
    """Run the session and check it; the number of messages delivered."""
    data, script = wire_bytes(session, ending)
    out, delivered, ended = run_session(data, sorted(c for c in cuts if 0 < c < len(data)), plugins)
    assert ended, "the session did not end once all its input was in"
    answers = replies(out)
    assert answers and answers[0][0].startswith("220 ")
    assert not any("internal error" in reply[-1] for reply in answers), "an exception in the server or handler"
    answers = answers[1:]
    expected, sent = follow(script, answers, ending)
    assert answers == [], "more replies than commands"
    assert [len(recipients) for _, recipients, _ in delivered] == expected, "delivered without a 250"
    for (sender, recipients, content), lines in zip(delivered, sent):
        assert len(recipients) <= SETTINGS.recipient_limit
        assert content.startswith(b"Received: ")
        message = content.split(b"\r\n", 3)[3]
        text = "\n".join(lines).encode("utf-8", "surrogateescape")
        assert letters(message) == letters(text), "the next hop got other content than was sent"
        assert len(message) <= 2 * len(text) + 2 * len(lines) + 2
    return len(delivered)


def follow(script: list[tuple], answers: list[list[str]], ending: bytes) -> tuple[list[int], list[list[str]]]:
    """Walk the client's script along the replies, one a command (the lines after a refused DATA are commands
    too); the number of recipients accepted for each message that got 250 at its end, and its data lines."""
    expected, sent, rcpts, position, chunks = [], [], 0, 0, []
    while position < len(script):
        kind, item = script[position]
        position += 1
        if kind == "data":
            commands = (b"".join(line.encode("utf-8", "surrogateescape") + ending for line in item) + b".\r\n")
            steps = []
            for _ in commands.split(b"\n")[:-1]:
                steps.append(answer_of(answers))
                if closing(steps):
                    break
            if closing(steps):
                break
            continue
        if kind == "bdat":
            code = answer_of(answers)
            chunks = chunks + [item[1]] if code.startswith("250") else chunks
            if closing([code]):
                break
            if item[0].upper().endswith(" LAST"):
                if code.startswith("250"):
                    expected.append(rcpts)
                    sent.append(["".join(chunks)])
                rcpts, chunks = 0, []
            continue
        code = answer_of(answers)
        verb = item[:4].upper()
        if closing([code]):
            break
        if verb == "RCPT" and code.startswith("2"):
            rcpts += 1
        elif verb in ("MAIL", "RSET", "HELO", "EHLO") and code.startswith("2") or verb == "MAIL":
            rcpts = 0 if code.startswith("2") or verb != "MAIL" else rcpts
        if verb == "DATA" and code.startswith("354"):
            end, position = answer_of(answers), position + 1
            if end.startswith("250"):
                expected.append(rcpts)
                sent.append(script[position - 1][1])
            if closing([end]):
                break
            rcpts = 0
    return expected, sent


def answer_of(answers: list[list[str]]) -> str:
    """The next reply's last line, its enhanced status checked; a reply followed by Postfix's 421 for too many
    errors is that 421 (the server closes)."""
    assert answers, "a command got no reply"
    reply = answers.pop(0)
    check_enhanced(reply)
    if answers and answers[0][-1].endswith("Error: too many errors") and reply[-1][:1] in "45":
        return answer_of(answers)
    return reply[-1]


def closing(codes: list[str]) -> bool:
    """Did the server close the connection (421, 221)? Then no reply may follow."""
    return any(code[:3] in ("421", "221", "521") for code in codes)


def letters(content: bytes) -> bytes:
    """Content without its line ends and dots: what no dot-unstuffing or newline normalising changes."""
    return content.translate(None, b"\r\n.")


@given(sessions(), st.sampled_from([b"\r\n", b"\r\n", b"\n"]), st.lists(st.integers(0, 2000), max_size=4))
@budget(120)
def test_any_pipelined_session_without_plugins(session, ending, cuts):
    check_session(session, ending, cuts, [])


@given(sessions(), st.sampled_from([b"\r\n", b"\n"]), st.lists(st.integers(0, 2000), max_size=4))
@budget(120)
def test_any_pipelined_session_with_refusing_plugins(session, ending, cuts):
    check_session(session, ending, cuts, [Refusals()])


def test_the_check_follows_a_session_that_delivers_and_one_that_is_refused():
    session = [("EHLO x", None), ("MAIL FROM:<a@example.org> SIZE=100", None), ("RCPT TO:<b@example.net>", None),
               ("RCPT TO:<no@x>", None), ("DATA", ["Subject: hi", "", "..body", ".x"]), ("HELP", None),
               ("MAIL FROM:<a@example.org>", None), ("RCPT TO:<c@example.net>", None), ("DATA", ["DEFERME"]),
               ("DATA", ["x"]), ("QUIT", None)]
    assert check_session(session, b"\r\n", [7, 40], []) == 1


def test_the_check_follows_chunks_that_deliver_and_chunks_that_are_skipped():
    session = [("EHLO x", None), ("MAIL FROM:<a@example.org>", None), ("RCPT TO:<b@example.net>", None),
               ("BDAT 6", ["body\r\n"]), ("BDAT 3 LAST", ["..x"]), ("BDAT 0", [""]), ("BDAT 4 LAST", ["junk"]),
               ("MAIL FROM:<a@example.org>", None), ("RCPT TO:<c@example.net>", None), ("BDAT x", None)]
    assert check_session(session, b"\r\n", [30, 75], []) == 1
