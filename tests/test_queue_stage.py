"""The after-queue `queue` hook run in one go after the earlier stages (the filter listener, `filterd pipe`): it sees
the message as they left it and the envelope as they rerouted it, and the two stages' routing fold into one plan."""

from __future__ import annotations

import asyncio

from filterd import Verdict, hookimpl
from filterd.chain import Chain
from filterd.handoff import Routing
from filterd.model import Envelope, Message, Session
from filterd.queue_stage import run
from filterd.testing import load_plugins
from filterd.transaction import Transaction
from filterd.verdict import AddHeader


class AfterQueue:
    """Records what the queue hook saw; BCCs a copy, or refuses a message whose Subject says so."""

    __name__ = "after_queue"

    def __init__(self):
        self.seen: list[tuple[str, list[str], str]] = []

    @hookimpl
    def queue(self, envelope, message):
        self.seen.append((envelope.sender, list(envelope.recipients), message.get("X-Earlier") or ""))
        if "refuse" in (message.get("Subject") or ""):
            return Verdict.reject("5.7.1 Refused after queue")
        return Verdict.bcc("copy@example.net")


def stage(subject: str, **earlier):
    plugin = AfterQueue()
    txn = Transaction(Session(), Envelope("Q1", "a@example.org", ["b@example.net", "c@example.net"]),
                      Message.from_bytes(f"Subject: {subject}\r\n\r\nbody\r\n".encode()))
    for name, value in earlier.items():
        setattr(txn, name, value)
    after = asyncio.run(run(Chain(load_plugins(plugin)), txn, txn.apply_edits()))
    return plugin, after


def test_the_stage_sees_the_earlier_edits_and_rerouting_and_adds_its_own():
    plugin, after = stage("hello", redirect="archive@example.net", edits=[AddHeader("X-Earlier", "yes")])
    assert plugin.seen == [("a@example.org", ["archive@example.net"], "yes")]
    assert not after.verdict.final
    assert after.plan.recipients == ("archive@example.net", "copy@example.net")
    assert after.plan.restart and after.plan.added == ("archive@example.net", "copy@example.net")


def test_without_earlier_changes_only_the_stage_s_bcc_is_added():
    _, after = stage("hello")
    assert after.plan.recipients == ("b@example.net", "c@example.net", "copy@example.net")
    assert after.plan.added == ("copy@example.net",) and not after.plan.restart


def test_a_refusal_is_the_stage_s_verdict():
    _, after = stage("please refuse")
    assert str(after.verdict) == "REJECT 550 5.7.1 Refused after queue"


def test_the_stage_s_routing_wins_over_the_earlier_and_bccs_add_up():
    _, after = stage("hello")
    earlier = Routing(hold="earlier hold", filter="scan:[127.0.0.1]:10024", redirect=None, bcc=("first@example.net",))
    assert after.routing(earlier) == Routing("earlier hold", "scan:[127.0.0.1]:10024", None,
                                             ("first@example.net", "copy@example.net"))
    after.txn.hold, after.txn.redirect = "held after queue", "archive@example.net"
    assert after.routing(earlier).hold == "held after queue"
    assert after.routing(earlier).redirect == "archive@example.net"
