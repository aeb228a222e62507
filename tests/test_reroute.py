"""The envelope as it will leave, from REDIRECT, BCC and recipient/sender edits."""

from filterd.model import Envelope, Session
from filterd.reroute import plan
from filterd.transaction import Transaction
from filterd.verdict import AddRecipient, ChangeSender, DeleteRecipient


def txn(**fields):
    t = Transaction(Session(), Envelope(sender="a@x", recipients=["b@y", "c@y"]))
    for name, value in fields.items():
        setattr(t, name, value)
    return t


def test_nothing_changed():
    assert plan(txn()) == plan(txn())
    assert plan(txn()).recipients == ("b@y", "c@y") and not plan(txn()).restart


def test_bcc_and_add_only_add():
    p = plan(txn(bcc=["copy@z"], edits=[AddRecipient("d@y")]))
    assert p.recipients == ("b@y", "c@y", "d@y", "copy@z")
    assert p.added == ("d@y", "copy@z") and not p.restart


def test_delete_and_sender_change_restart():
    p = plan(txn(edits=[DeleteRecipient("b@y"), ChangeSender("new@x")]))
    assert (p.sender, p.recipients, p.restart) == ("new@x", ("c@y",), True)


def test_redirect_replaces_everyone_and_bcc_still_applies():
    p = plan(txn(redirect="archive@z", bcc=["copy@z"]))
    assert p.recipients == ("archive@z", "copy@z") and p.restart
