"""filterd.edits.apply: header edits by name/position and by header identity, body replacement, and the
body_checks-style line edits (REPLACE, IGNORE, PREPEND) the core applies once the chain is done."""

from __future__ import annotations

import io
from types import SimpleNamespace

from filterd import hookimpl
from filterd.edits import Before, Remove, Replace, apply
from filterd.model import Message
from filterd.testing import run_plugin
from filterd.verdict import AddHeader, ChangeHeader, DeleteHeader, InsertHeader, ReplaceBody

MESSAGE = (
    b"Received: from one\r\nReceived: from two\r\nFrom: a@example.org\r\nSubject: hello\r\n\r\n"
    b"body line\r\n"
)


def texts(message: Message) -> list[str]:
    return [h.text for h in message.headers]


def msg() -> Message:
    return Message.from_bytes(MESSAGE)


# --- milter-style header edits -------------------------------------------------------------------

def test_add_header_appends_at_the_end():
    out = apply(msg(), [AddHeader("X-Spam", "yes")])
    assert texts(out)[-1] == "X-Spam: yes"
    assert len(out.headers) == 5


def test_insert_header_at_index():
    assert texts(apply(msg(), [InsertHeader("X-Top", "1")]))[0] == "X-Top: 1"
    assert texts(apply(msg(), [InsertHeader("X-Mid", "2", 2)]))[2] == "X-Mid: 2"


def test_insert_header_index_out_of_range_is_clamped():
    assert texts(apply(msg(), [InsertHeader("X-End", "e", 99)]))[-1] == "X-End: e"
    assert texts(apply(msg(), [InsertHeader("X-Neg", "n", -3)]))[0] == "X-Neg: n"


def test_change_header_changes_the_nth_occurrence_in_place():
    out = apply(msg(), [ChangeHeader("Received", "from changed", 2)])
    assert texts(out) == ["Received: from one", "Received: from changed", "From: a@example.org", "Subject: hello"]


def test_change_header_matches_the_name_case_insensitively():
    out = apply(msg(), [ChangeHeader("SUBJECT", "changed")])
    assert out.get_all("Subject") == ["changed"]
    assert len(out.headers) == 4


def test_change_header_defaults_to_the_first_occurrence():
    assert texts(apply(msg(), [ChangeHeader("Received", "x")]))[:2] == ["Received: x", "Received: from two"]


def test_change_header_with_empty_value_deletes_it():
    out = apply(msg(), [ChangeHeader("Received", "", 1)])
    assert texts(out)[:1] == ["Received: from two"]
    assert len(out.headers) == 3


def test_change_missing_header_adds_it():
    assert texts(apply(msg(), [ChangeHeader("X-New", "v")]))[-1] == "X-New: v"


def test_change_missing_occurrence_with_empty_value_does_nothing():
    assert texts(apply(msg(), [ChangeHeader("Received", "", 3)])) == texts(msg())


def test_delete_header_deletes_the_nth_occurrence():
    out = apply(msg(), [DeleteHeader("Received", 2)])
    assert texts(out) == ["Received: from one", "From: a@example.org", "Subject: hello"]


def test_delete_missing_header_does_nothing():
    assert texts(apply(msg(), [DeleteHeader("X-Missing")])) == texts(msg())


# --- header_checks-style edits by header identity ------------------------------------------------

def test_before_inserts_before_the_target_header():
    message = msg()
    out = apply(message, [Before(message.headers[3], "X-Tag: yes")])
    assert texts(out)[2:4] == ["From: a@example.org", "X-Tag: yes"]
    assert texts(out)[4] == "Subject: hello"


def test_before_without_target_goes_to_the_top():
    assert texts(apply(msg(), [Before(None, "X-Top: 1")]))[0] == "X-Top: 1"


def test_replace_targets_the_header_object_not_an_equal_one():
    message = Message.from_bytes(b"Received: same\r\nReceived: same\r\n\r\n")
    out = apply(message, [Replace(message.headers[1], "Received: replaced")])
    assert texts(out) == ["Received: same", "Received: replaced"]


def test_remove_targets_the_header_object():
    message = Message.from_bytes(b"Received: same\r\nReceived: same\r\n\r\n")
    out = apply(message, [Remove(message.headers[0])])
    assert len(out.headers) == 1
    assert out.headers[0] is message.headers[1]


def test_replace_and_remove_of_a_header_already_gone_do_nothing():
    message = msg()
    subject = message.headers[3]
    out = apply(message, [Remove(subject), Replace(subject, "Subject: x"), Remove(subject)])
    assert texts(out) == texts(msg())[:3]


def test_edit_lines_get_crlf():
    message = msg()
    out = apply(message, [Before(None, "X-A: 1\r\n"), Replace(message.headers[3], "Subject: new")])
    assert out.headers[0].raw == b"X-A: 1\r\n"
    assert out.headers[4].raw == b"Subject: new\r\n"


# --- order of application ------------------------------------------------------------------------

def test_edits_apply_in_order():
    assert texts(apply(msg(), [AddHeader("X-A", "1"), DeleteHeader("X-A")]))[-1] == "Subject: hello"
    assert texts(apply(msg(), [DeleteHeader("X-A"), AddHeader("X-A", "1")]))[-1] == "X-A: 1"


def test_later_position_edits_see_earlier_ones():
    out = apply(msg(), [InsertHeader("X-First", "1", 0), InsertHeader("X-Second", "2", 1)])
    assert texts(out)[:3] == ["X-First: 1", "X-Second: 2", "Received: from one"]


def test_identity_edits_survive_position_changes():
    message = msg()
    subject = message.headers[3]
    out = apply(message, [InsertHeader("X-Top", "t"), Before(subject, "X-Pre: p"), DeleteHeader("Received")])
    assert texts(out) == ["X-Top: t", "Received: from two", "From: a@example.org", "X-Pre: p", "Subject: hello"]


def test_apply_leaves_the_original_message_alone():
    message = msg()
    before = list(message.headers)
    apply(message, [AddHeader("X", "1"), DeleteHeader("Subject"), ReplaceBody(b"new\r\n")])
    assert message.headers == before
    assert message.body_bytes() == b"body line\r\n"


# --- body ----------------------------------------------------------------------------------------

def test_body_is_streamed_from_the_original_spool_when_not_replaced():
    spool = io.BytesIO(b"PREFIX-original body\r\n")
    message = Message(msg().headers, spool, len(b"PREFIX-"))
    out = apply(message, [AddHeader("X", "1")])
    assert out._body is spool
    assert out.body_bytes() == b"original body\r\n"


def test_replace_body_with_bytes_normalises_line_endings():
    out = apply(msg(), [ReplaceBody(b"one\ntwo\r\nthree\rfour")])
    assert out.body_bytes() == b"one\r\ntwo\r\nthree\r\nfour"


def test_replace_body_with_a_path_reads_the_file(tmp_path):
    path = tmp_path / "newbody"
    path.write_bytes(b"from a file\r\n")
    out = apply(msg(), [ReplaceBody(path)])
    try:
        assert out.body_bytes() == b"from a file\r\n"
        assert out.as_bytes().endswith(b"\r\n\r\nfrom a file\r\n")
    finally:
        out.close()


def test_last_body_replacement_wins():
    out = apply(msg(), [ReplaceBody(b"first\r\n"), ReplaceBody(b"second\r\n")])
    assert out.body_bytes() == b"second\r\n"


def test_header_and_body_edits_together():
    out = apply(msg(), [ReplaceBody(b"new\n"), ChangeHeader("Subject", "changed")])
    assert out.as_bytes() == (
        b"Received: from one\r\nReceived: from two\r\nFrom: a@example.org\r\nSubject: changed\r\n\r\nnew\r\n")


# --- body line edits, as body_checks makes them --------------------------------------------------

BODY_MESSAGE = b"Subject: t\r\n\r\nkeep 1\r\nreplace me\r\ndrop me\r\nmark me\r\nkeep 2\r\n"


class BodyChecks:
    @hookimpl
    def body(self, line):
        if line == b"replace me":
            return "REPLACE replaced"
        if line == b"drop me":
            return "IGNORE"
        if line == b"mark me":
            return "PREPEND -- marked --"
        return None


def test_body_line_edits():
    outcome = run_plugin(BodyChecks(), message=BODY_MESSAGE)
    assert outcome.accepted
    assert outcome.message.body_bytes() == b"keep 1\r\nreplaced\r\n-- marked --\r\nmark me\r\nkeep 2\r\n"


def test_untouched_body_is_not_copied():
    quiet = SimpleNamespace(body=hookimpl(lambda line: None))
    outcome = run_plugin(quiet, message=BODY_MESSAGE)
    assert outcome.message.body_bytes() == b"keep 1\r\nreplace me\r\ndrop me\r\nmark me\r\nkeep 2\r\n"
