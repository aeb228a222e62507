"""Verdicts and what a request's hooks asked of the message, as the one access(5) action a policy reply carries."""

from __future__ import annotations

from filterd.edits import Before
from filterd.model import Envelope, Session
from filterd.policy.server.actions import Asked, action, requested
from filterd.transaction import Transaction
from filterd.verdict import AddHeader, ChangeSender, Verdict


def test_deciding_verdicts_are_their_smtp_reply_or_word():
    assert action(Verdict.reject("5.7.1 go away")) == "550 5.7.1 go away"
    assert action(Verdict.reject()) == "550 5.7.1 Access denied"
    assert action(Verdict.defer("421 4.3.0 later")) == "421 4.3.0 later"
    assert action(Verdict.discard()) == "DISCARD"
    assert action(Verdict.discard("spam")) == "DISCARD spam"
    assert action(Verdict.ok()) == "OK"
    assert action(Verdict.dunno()) is None and action(Verdict.hold()) is None


def test_what_the_hooks_asked_since_before_in_the_order_a_reply_prefers():
    txn = Transaction(Session(), Envelope())
    txn.bcc.append("old@example.org")
    before = Asked.of(txn)
    txn.bcc.append("copy@example.org")
    txn.edits.extend([Before(None, "X-A: 1"), AddHeader("X-B", "2"), ChangeSender("x@example.org")])
    txn.hold, txn.filter = "hold", "smtp:[127.0.0.1]:10025"
    assert requested(before, txn) == ["HOLD", "FILTER smtp:[127.0.0.1]:10025", "PREPEND X-A: 1", "PREPEND X-B: 2",
                                      "BCC copy@example.org"]
    assert requested(Asked.of(txn), txn) == []
    assert requested(Asked(), None) == []
