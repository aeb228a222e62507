"""The envelope as it will leave, from REDIRECT, BCC and recipient/sender edits."""

from filterd.model import Envelope, Session
from filterd.reroute import plan, then
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


def test_two_stages_fold_into_one_plan_against_the_recipients_first_given():
    first = plan(txn(bcc=["copy@z"]))
    second = plan(Transaction(Session(), Envelope(sender="a@x", recipients=list(first.recipients)),
                              edits=[DeleteRecipient("copy@z"), AddRecipient("d@y")]))
    both = then(first, second, ("b@y", "c@y"))
    assert both.recipients == ("b@y", "c@y", "d@y") and both.added == ("d@y",) and both.restart
    assert not then(first, plan(txn()), ("b@y", "c@y")).restart
