"""A milter's answers as filterd verdicts and edits, the MTA's hidden Received: header counted as Postfix does."""

from __future__ import annotations

from pathlib import Path

from filterd.edits import apply
from filterd.milter.client.answers import BODY_MEMORY, BodySink, ModificationRequests, verdict_of
from filterd.milter.protocol import responses as r
from filterd.model import Message
from filterd.verdict import (Action, AddRecipient, ChangeHeader, ChangeSender, DeleteRecipient, InsertHeader,
                             ReplaceBody)

RAW = (b"Received: from a (b [1.2.3.4])\r\n\tby mx (filterd) with ESMTP id Q\r\n"
       b"Received: from earlier\r\nSubject: hi\r\nX-Tag: one\r\nX-Tag: two\r\n\r\nbody\r\n")


def edited(*requests, leading_space=False) -> tuple[list, Message]:
    message = Message.from_bytes(RAW)
    collected = ModificationRequests(message.headers, message.headers[0], leading_space)
    for request in requests:
        collected.add(request)
    edits = collected.finish()
    return edits, apply(message, edits)


def names(message: Message) -> list[str]:
    return [h.text.split("\n")[0] for h in message.headers]


def test_replies_become_verdicts():
    assert verdict_of(None).action is Action.DUNNO
    assert verdict_of("D").action is Action.DISCARD
    assert (verdict_of("H").action, verdict_of("H").text) == (Action.HOLD, "milter triggers HOLD action")
    assert verdict_of("S").reply() == (421, "4.7.0", "Server closing connection")
    assert verdict_of("550 5.7.1 Subject refused").reply() == (550, "5.7.1", "Subject refused")
    tempfail = verdict_of("451 4.7.1 Service unavailable - try again later")
    assert tempfail.action is Action.DEFER and tempfail.reply()[0] == 451
    assert verdict_of("550-5.7.1 first\r\n550 5.7.1 second").reply() == (550, "5.7.1", "first second")


def test_insert_counts_the_hidden_header_and_index_zero_is_above_it():
    edits, message = edited(r.InsertHeader(0, "DKIM-Signature", "v=1;\n\tb=abc"), r.InsertHeader(2, "X-Two", "2"))
    assert edits[0] == InsertHeader("DKIM-Signature", "v=1;\r\n\tb=abc", 0)
    assert names(message)[:4] == ["DKIM-Signature: v=1;", "Received: from a (b [1.2.3.4])", "X-Two: 2",
                                  "Received: from earlier"]


def test_change_counts_occurrences_without_the_hidden_header():
    edits, message = edited(r.ChangeHeader(1, "Received", "from elsewhere"), r.ChangeHeader(2, "X-Tag", ""),
                            r.ChangeHeader(0, "Subject", "new"))
    assert edits[0] == ChangeHeader("Received", "from elsewhere", 2)
    assert names(message) == ["Received: from a (b [1.2.3.4])", "Received: from elsewhere", "Subject: new",
                              "X-Tag: one"]


def test_change_after_an_insert_above_the_hidden_header():
    _, message = edited(r.InsertHeader(0, "Received", "from top"), r.ChangeHeader(2, "Received", "changed"))
    assert names(message)[:3] == ["Received: from top", "Received: from a (b [1.2.3.4])", "Received: changed"]


def test_header_values_with_their_own_leading_space():
    _, message = edited(r.AddHeader("X-Add", " spaced"), leading_space=True)
    assert message.headers[-1].raw == b"X-Add: spaced\r\n"


def test_envelope_requests():
    edits, _ = edited(r.ChangeFrom("<new@example.org>", "BODY=8BITMIME"), r.AddRecipient("<c@example.net>"),
                      r.AddRecipientPar("<d@example.net>", "NOTIFY=NEVER"), r.DeleteRecipient("<b@example.net>"))
    assert edits == [ChangeSender("new@example.org", "BODY=8BITMIME"), AddRecipient("c@example.net"),
                     AddRecipient("d@example.net", "NOTIFY=NEVER"), DeleteRecipient("b@example.net")]


def test_body_replacement_gets_crlf_line_ends_and_comes_last():
    edits, message = edited(r.ReplaceBody(b"one\nt"), r.ReplaceBody(b"wo\r\nthree"), r.AddHeader("X", "1"))
    assert isinstance(edits[-1], ReplaceBody)
    assert message.body_bytes() == b"one\r\ntwo\r\nthree\r\n"


def test_a_large_replacement_body_goes_to_a_file(tmp_path):
    sink = BodySink(str(tmp_path))
    line = b"x" * 998 + b"\r\n"
    for _ in range(BODY_MEMORY // len(line) + 2):
        sink.write(line)
    replaced = sink.finish().body
    assert isinstance(replaced, Path) and replaced.parent == tmp_path
    assert replaced.read_bytes() == line * (BODY_MEMORY // len(line) + 2)
