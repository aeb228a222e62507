"""Local delivery's choice of mailbox: the resolved address's local part, lower-cased, safe as a path."""

from __future__ import annotations

from filterd.qmgr import maildir
from filterd.queue.queuefile import QueueEnvelope, QueueFile, Recipient
from filterd.queue.spool import Spool


def test_mailbox_names():
    assert maildir.mailbox_name("User@local.example") == "user"
    assert maildir.mailbox_name("postmaster") == "postmaster"
    assert maildir.mailbox_name("../x@local.example") is None
    assert maildir.mailbox_name("user name@local.example") is None


def test_the_resolved_address_names_the_mailbox(tmp_path):
    spool = Spool(tmp_path / "q").create()
    envelope = QueueEnvelope("4QID", "a@x", [Recipient("user%local.example@local.example")], 0.0, size=3)
    qf = QueueFile.read(str(spool.store("incoming", envelope, iter([b"hi\n"]))))
    recipient = qf.envelope.recipients[0]
    maildir.deliver(qf, recipient, str(tmp_path / "boxes"), "user@local.example")
    assert recipient.status == "sent"
    assert len(list((tmp_path / "boxes" / "user" / "Maildir" / "new").iterdir())) == 1
    assert not (tmp_path / "boxes" / "user%local.example").exists()
