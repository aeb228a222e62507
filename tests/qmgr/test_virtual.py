"""The virtual transport as virtual(8) delivers: a Maildir for a path ending in /, else an mbox file with a From
line and >From quoting, unknown users bounced, a missing base deferred; the extension stripped for the lookup."""

from __future__ import annotations

import asyncio
import re
import time

from filterd import DomainList, open_table
from filterd.address_keys import Delimiters
from filterd.addresses import AddressRules
from filterd.qmgr.delivery import Attempt, Deliverer
from filterd.qmgr.routing import Destination, Router
from filterd.qmgr.smtp_delivery import SmtpDelivery, SmtpSettings
from filterd.qmgr.virtual import VirtualMailboxes
from filterd.queue.queuefile import QueueEnvelope, QueueFile, Recipient
from filterd.queue.spool import Spool
from filterd.transport_maps import TransportMaps

CONTENT = b"Subject: hi\r\n\r\nFrom the start\r\nbody\r\n"
MAPS = "inline:{ dir@box.example=box.example/dir/, file@box.example=box.example/file, @catch.example=catch/ }"


def delivered(tmp_path, base: str, *addresses: str) -> list[Recipient]:
    envelope = QueueEnvelope("4jgBYL2V4gzHjcSx3", "alice@example.org", [Recipient(a) for a in addresses],
                             time.time(), size=len(CONTENT))
    qf = QueueFile.read(str(Spool(tmp_path / "queue").create().store("active", envelope, iter([CONTENT]))))
    maps = TransportMaps(mailbox_domains=DomainList(("box.example", "catch.example"), exact=True))
    router = Router(frozenset({"local.example"}), "", maps, AddressRules(("local.example",)))
    assert router.destination("dir@box.example") == Destination("virtual", "box.example")
    deliverer = Deliverer(router, SmtpDelivery(SmtpSettings("localhost")), str(tmp_path / "mailboxes"),
                          virtual=VirtualMailboxes((open_table(MAPS),), base, Delimiters("+")))
    return asyncio.run(deliverer.deliver(Attempt(qf, time.time())))


def test_maildirs_mbox_files_and_unknown_users(tmp_path):
    base = tmp_path / "vmail"
    dir_, file_, catch, unknown = delivered(tmp_path, str(base), "dir+x@box.example", "file@box.example",
                                            "who@catch.example", "nobody@box.example")
    assert (dir_.status, dir_.relay, dir_.text) == ("sent", "virtual", "delivered to maildir")
    [message] = (base / "box.example" / "dir" / "new").iterdir()
    assert message.read_bytes().endswith(b"Delivered-To: dir+x@box.example\nSubject: hi\n\nFrom the start\nbody\n")
    assert (file_.status, file_.text) == ("sent", "delivered to mailbox")
    mbox = (base / "box.example" / "file").read_bytes()
    assert re.match(rb"From alice@example\.org  \w{3} \w{3} [ \d]\d \d\d:\d\d:\d\d \d{4}\nReturn-Path: "
                    rb"<alice@example\.org>\nDelivered-To: file@box\.example\nSubject: hi\n\n>From the start\nbody\n\n$",
                    mbox), mbox
    assert catch.status == "sent" and len(list((base / "catch" / "new").iterdir())) == 1
    assert (unknown.status, unknown.dsn, unknown.text) == ("bounced", "5.1.1", 'unknown user: "nobody@box.example"')


def test_an_mbox_file_grows_message_by_message(tmp_path):
    delivered(tmp_path, str(tmp_path / "vmail"), "file@box.example")
    delivered(tmp_path / "again", str(tmp_path / "vmail"), "file@box.example")
    assert (tmp_path / "vmail" / "box.example" / "file").read_bytes().count(b"\nFrom alice@example.org ") == 1


def test_without_an_absolute_base_the_transport_defers(tmp_path):
    [rcpt] = delivered(tmp_path, "", "dir@box.example")
    assert (rcpt.status, rcpt.dsn, rcpt.text) == ("deferred", "4.3.0", "mail transport unavailable")
