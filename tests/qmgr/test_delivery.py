"""When delivery records what became of a recipient: in the queue file, the moment the next hop has answered,
before the delivery is logged or anything else runs (Postfix's deliver_completed() right after the 250)."""

from __future__ import annotations

import asyncio
import time

from aiosmtpd.controller import Controller

from filterd.qmgr import delivery
from filterd.qmgr.delivery import Attempt, Deliverer
from filterd.qmgr.mail_exchangers import HostLookup
from filterd.qmgr.routing import AddressFamilies, Router
from filterd.qmgr.smtp_delivery import SmtpDelivery, SmtpSettings
from filterd.queue.queuefile import QueueEnvelope, QueueFile, Recipient
from filterd.queue.spool import Spool
from tests.harness import free_port

CONTENT = b"Subject: hi\r\n\r\nbody\r\n"
QUEUE_ID = "4jgBYL2V4gzHjcSx3"


class NextHop:
    """Accepts bob, refuses carol for good, asks dave to try later."""

    async def handle_RCPT(self, server, session, envelope, address, options):
        replies = {"carol@example.net": "550 5.1.1 no such user", "dave@example.net": "450 4.2.0 try later"}
        if address in replies:
            return replies[address]
        envelope.rcpt_tos.append(address)
        return "250 OK"

    async def handle_DATA(self, server, session, envelope):
        return "250 2.0.0 queued"


def test_each_outcome_is_in_the_queue_file_before_it_is_logged(tmp_path, monkeypatch):
    port = free_port()
    controller = Controller(NextHop(), hostname="127.0.0.1", port=port)
    controller.start()
    try:
        seen = _statuses_on_disk_when_logged(tmp_path, port, monkeypatch)
    finally:
        controller.stop()
    assert seen == {"bob@example.net": "sent", "carol@example.net": "bounced", "dave@example.net": "deferred"}


class QuitWatcher(NextHop):
    """Notes what the queue file says when the client says QUIT."""

    def __init__(self, path):
        self.path, self.on_disk_at_quit = path, {}

    async def handle_QUIT(self, server, session, envelope):
        self.on_disk_at_quit = {r.address: r.status for r in QueueFile.read(self.path).envelope.recipients}
        return "221 Bye"


def test_each_outcome_is_in_the_queue_file_before_the_connection_is_closed(tmp_path, monkeypatch):
    """A kill while QUIT waits for its reply must not deliver the message again (Postfix's smtp(8) records the
    recipients before it says QUIT or caches the connection)."""
    port, watcher = free_port(), QuitWatcher(Spool(tmp_path).path("active", QUEUE_ID))
    controller = Controller(watcher, hostname="127.0.0.1", port=port)
    controller.start()
    try:
        _statuses_on_disk_when_logged(tmp_path, port, monkeypatch)
    finally:
        controller.stop()
    assert watcher.on_disk_at_quit == {"bob@example.net": "sent", "carol@example.net": "bounced",
                                       "dave@example.net": "deferred"}


def test_a_next_hop_that_cannot_be_reached_is_recorded_too(tmp_path, monkeypatch):
    seen = _statuses_on_disk_when_logged(tmp_path, free_port(), monkeypatch)
    assert seen == dict.fromkeys(["bob@example.net", "carol@example.net", "dave@example.net"], "deferred")


def _statuses_on_disk_when_logged(tmp_path, port: int, monkeypatch) -> dict[str, str]:
    """Deliver bob, carol and dave through [127.0.0.1]:port; for each, what the queue file said as it was logged."""
    recipients = [Recipient(f"{name}@example.net") for name in ("bob", "carol", "dave")]
    envelope = QueueEnvelope(QUEUE_ID, "alice@example.org", recipients, time.time(), size=len(CONTENT))
    path = str(Spool(tmp_path).create().store("active", envelope, iter([CONTENT])))
    seen: dict[str, str] = {}

    def log_recipient(service, attempt, rcpt, timing, note=""):
        on_disk = {r.address: r.status for r in QueueFile.read(path).envelope.recipients}
        seen[rcpt.address] = on_disk[rcpt.address]

    monkeypatch.setattr(delivery, "log_recipient", log_recipient)
    deliverer = Deliverer(Router(frozenset(), f"[127.0.0.1]:{port}"), SmtpDelivery(SmtpSettings("filterd.test")),
                          str(tmp_path), lookup=HostLookup(None, families=AddressFamilies.from_settings(["ipv4"])))

    async def attempt() -> None:
        await deliverer.deliver(Attempt(QueueFile.read(path), time.time()))
        deliverer.smtp.close()

    asyncio.run(attempt())
    return seen


def test_orig_to_names_the_recipient_as_received_unless_only_its_case_differs():
    assert delivery.orig_to(Recipient("new@example.net", orig="bob@example.com")) == ", orig_to=<bob@example.com>"
    assert delivery.orig_to(Recipient("Bob@Example.com", orig="bob@example.com")) == ""
    assert delivery.orig_to(Recipient("bob@example.com", orcpt="rfc822;other@example.com")) == ""


def test_a_redirected_message_skips_its_content_filter(tmp_path):
    envelope = QueueEnvelope(QUEUE_ID, "alice@example.org", [Recipient("bob@example.net")], time.time(),
                             size=len(CONTENT), filter="smtp:[127.0.0.1]:10025")
    qf = QueueFile.read(str(Spool(tmp_path).create().store("active", envelope, iter([CONTENT]))))
    assert delivery._filter(qf) == "smtp:[127.0.0.1]:10025"
    qf.envelope.redirect = "new@example.net"
    assert delivery._filter(qf) == ""


def test_connections_are_kept_once_deliveries_come_back_to_back_as_postfix_s_qmgr_decides():
    deliverer = Deliverer(Router(frozenset()), SmtpDelivery(SmtpSettings("filterd.test")), "")
    key = "smtp:[127.0.0.1]:2525"
    assert not deliverer._on_demand(key)
    deliverer._last_done[key] = time.monotonic()
    assert deliverer._on_demand(key)
    deliverer._last_done[key] = time.monotonic() - 5
    deliverer._busy[key] = 2
    assert deliverer._on_demand(key)
    deliverer._busy[key] = 1
    assert not deliverer._on_demand(key)
    assert not deliverer._on_demand(key)


def test_an_extension_is_delivered_to_the_user_s_maildir(tmp_path):
    """recipient_delimiter: local(8) finds user+foo's user; Delivered-To keeps the address as it was."""
    from filterd.address_keys import Delimiters
    from filterd.addresses import AddressRules

    envelope = QueueEnvelope(QUEUE_ID, "alice@example.org", [Recipient("bob+lists@local.example"),
                                                             Recipient("owner+x@local.example")], time.time(),
                             size=len(CONTENT))
    qf = QueueFile.read(str(Spool(tmp_path / "queue").create().store("active", envelope, iter([CONTENT]))))
    router = Router(frozenset({"local.example"}), rules=AddressRules(("local.example",), "mx.local.example"))
    deliverer = Deliverer(router, SmtpDelivery(SmtpSettings("localhost")), str(tmp_path / "mailboxes"),
                          delimiters=Delimiters("+"))
    asyncio.run(deliverer.deliver(Attempt(qf, time.time())))
    [bob] = (tmp_path / "mailboxes" / "bob" / "Maildir" / "new").iterdir()
    assert b"Delivered-To: bob+lists@local.example\n" in bob.read_bytes()
    assert len(list((tmp_path / "mailboxes" / "owner" / "Maildir" / "new").iterdir())) == 1
