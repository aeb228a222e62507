"""Transaction.absorb and log_verdict: what the core does with a ContentVerdict (filterd.edits), the edits on the
lines it names, and cleanup's log line."""

from __future__ import annotations

import logging

import pytest

from filterd import Action, Envelope, Header, Session, Verdict
from filterd.content import BodyLine
from filterd.edits import ContentVerdict, InBody, LineEdit, MimeError, Remove
from filterd.transaction import Transaction


@pytest.fixture
def lines():
    captured: list[str] = []
    handler = logging.Handler()
    handler.emit = lambda record: captured.append(record.getMessage().split(": ", 1)[1])
    logger = logging.getLogger("filterd")
    logger.addHandler(handler)
    old_level = logger.level
    logger.setLevel(logging.INFO)
    yield captured
    logger.removeHandler(handler)
    logger.setLevel(old_level)


def transaction() -> Transaction:
    session = Session(client_name="mx.example", client_address="192.0.2.1", helo="mx.example", protocol="ESMTP")
    return Transaction(session, Envelope(queue_id="ABC", sender="", recipients=["a@example.net", "b@example.net"]))


def test_a_folded_header_in_the_body_is_replaced_on_all_its_lines_counted_as_the_core_counts():
    txn = transaction()
    about = InBody(first=5, last=7, text="X-A: 1\n 2\n 3", current=8)
    txn.absorb("body", ContentVerdict.of(Verdict.replace("X-B: 1"), about), BodyLine(18, b""))
    assert txn.edits == [LineEdit(15, b"X-B: 1"), LineEdit(16, None), LineEdit(17, None)]


def test_without_a_line_at_hand_the_plugins_numbers_stand():
    txn = transaction()
    txn.absorb("end_of_message", ContentVerdict.of(Verdict.prepend("X-P: 1"), InBody(3, 4, "X-A: 1\n 2")))
    assert txn.edits == [LineEdit(3, before=b"X-P: 1")]


def test_earlier_verdicts_are_folded_in_and_logged_first(lines):
    txn = transaction()
    header = ContentVerdict.of(Verdict.strip("gone"), InBody(0, 0, "X-Part: 1", current=1))
    body = ContentVerdict.of(Verdict.warn(), InBody(1, 1, "--boundary", header=False, current=1), (header,))
    txn.absorb("body", body, BodyLine(1, b"--boundary"))
    assert txn.edits == [LineEdit(0, None)]
    assert lines == ["strip: header X-Part: 1 from mx.example[192.0.2.1]; from=<> to=<b@example.net> proto=ESMTP "
                     "helo=<mx.example>: gone",
                     "warning: body --boundary from mx.example[192.0.2.1]; from=<> to=<b@example.net> proto=ESMTP "
                     "helo=<mx.example>"]


def test_a_top_level_header_keeps_its_own_edits(lines):
    txn = transaction()
    header = Header.make("X-Old", "1")
    txn.absorb("header", Verdict(Action.IGNORE), header)
    assert txn.edits == [Remove(header)] and lines == []


def test_log_lines_mask_what_postfix_masks_and_cut_at_200_bytes(lines):
    txn = transaction()
    txn.absorb("header", Verdict.info("x"), Header(b"Subject: tab\there\r\n caf\xc3\xa9 \xe9\r\n"))
    txn.absorb("header", Verdict.info("y"), Header(b"Subject: " + b"z" * 300 + b"\r\n"))
    assert lines[0].startswith("info: header Subject: tab?here? caf\u00e9 ? from mx.example[192.0.2.1];")
    assert lines[1].startswith("info: header Subject: " + "z" * 191 + " from ")


def test_the_mime_error_line_and_its_silent_rejection(lines):
    txn = transaction()
    txn.log_verdict("body", ContentVerdict.of(Verdict.info("MIME nesting exceeds safety limit"),
                                              MimeError("Content-Type: multipart/mixed; boundary=x")))
    txn.log_verdict("end_of_message", ContentVerdict.of(Verdict.reject("5.6.0 MIME nesting exceeds safety limit"),
                                                        MimeError("")))
    assert lines == ["reject: mime-error MIME nesting exceeds safety limit: Content-Type: multipart/mixed; "
                     "boundary=x from mx.example[192.0.2.1]; from=<> to=<b@example.net>"]


def test_a_refusal_at_rcpt_names_the_recipient_at_hand(lines):
    txn = transaction()
    txn.envelope.queue_id = ""
    txn.log_verdict("rcpt", Verdict.reject("554 5.7.1 <c@example.net>: Relay access denied"), '"c"@example.net')
    assert lines == ["reject: RCPT from mx.example[192.0.2.1]: 554 5.7.1 <c@example.net>: Relay access "
                     "denied; from=<> to=<c@example.net> proto=ESMTP helo=<mx.example>"]


def test_a_refusal_at_data_or_end_of_data_names_no_recipient_of_several(lines):
    txn = transaction()
    txn.envelope.queue_id = ""
    txn.envelope.recipients = ["b@example.net"]
    refused = Verdict.reject("550 5.5.3 <DATA>: Data command rejected: Multi-recipient bounce")
    txn.log_verdict("data", refused)
    txn.envelope.recipients.append("c@example.net")
    txn.log_verdict("data", refused)
    txn.log_verdict("end_of_message", refused)
    txn.log_verdict("rcpt", refused, "d@example.net")
    tails = [line.split("; ", 1)[1] for line in lines]
    assert tails == ["from=<> to=<b@example.net> proto=ESMTP helo=<mx.example>",
                     "from=<> proto=ESMTP helo=<mx.example>", "from=<> proto=ESMTP helo=<mx.example>",
                     "from=<> to=<d@example.net> proto=ESMTP helo=<mx.example>"]


def test_addresses_are_logged_in_the_external_form_as_postfix_logs_them():
    """info_log_address_format = external: a local part that needs quotes is quoted, whichever form was kept."""
    txn = Transaction(Session(helo="client.example", protocol="ESMTP"),
                      Envelope("QID", "a b@example.org", ['"c d"@example.net']))
    assert txn.envelope_text('e f@example.net') == ('from=<"a b"@example.org> to=<"e f"@example.net> proto=ESMTP '
                                                    'helo=<client.example>')
    assert txn._cleanup_envelope() == (' from=<"a b"@example.org> to=<"c d"@example.net> proto=ESMTP '
                                       'helo=<client.example>')
