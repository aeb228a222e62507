"""The transaction lifecycle every front end drives: the state table, what a final verdict refuses at each
event, answers at once or as a coroutine, and content events (bytes in, no sockets)."""

from __future__ import annotations

import asyncio
import io

import pytest

from filterd.chain import Chain
from filterd.content import ContentParser
from filterd.lifecycle import (CLOSED, CONTENT, ENVELOPE, NEW, REFUSES, SESSION, TRANSITIONS, Lifecycle, OutOfOrder,
                               refuses, resolved, run_events_now, then)
from filterd.model import Message, Session
from filterd.registry import Plugins, hookimpl
from filterd.verdict import Action, Verdict

MESSAGE = b"From: a@example.org\r\nSubject: hello\r\n\r\nbody\r\n"


class Refuser:
    """Refuses <bad@...> recipients, discards <drop@...>, rejects a Subject of REJECTME, tags the rest."""

    def __init__(self, calls: list[str] | None = None):
        self.calls = calls if calls is not None else []

    @hookimpl
    def rcpt(self, recipient):
        self.calls.append(f"rcpt {recipient}")
        if recipient.startswith("bad@"):
            return Verdict.reject("5.1.1 No such user")
        if recipient.startswith("drop@"):
            return Verdict.discard()
        return None

    @hookimpl
    def header(self, header):
        self.calls.append(f"header {header.name}")
        if header.value == "REJECTME":
            return Verdict.reject("5.7.1 Subject refused")
        return None

    @hookimpl
    def end_of_message(self):
        self.calls.append("end_of_message")
        return Verdict.add_header("X-Tag", "yes")


class AsyncMail:
    @hookimpl
    async def mail_from(self, sender):
        await asyncio.sleep(0)
        return Verdict.reject("5.7.1 not you") if sender == "spammer@example.org" else None


def lifecycle(*plugins: object) -> Lifecycle:
    named = {f"p{i}": plugin for i, plugin in enumerate(plugins)}
    return Lifecycle(Chain(Plugins.load(list(named), named)), Session(), "smtpd")


def content_events(data: bytes = MESSAGE) -> tuple[Message, list]:
    parser = ContentParser(io.BytesIO())
    events = [event for line in io.BytesIO(data) for event in parser.feed_line(line)]
    return Message(parser.headers, parser.spool), events


def to_content(life: Lifecycle, *recipients: str) -> None:
    for answer in (life.connect(), life.helo("client.example"), life.mail("a@example.org")):
        assert not answer.final
    for recipient in recipients:
        if not refuses(life.rcpt(recipient)):
            life.add_recipient(recipient)
    assert not life.data().final


def test_the_table_knows_every_state_and_event():
    events = {event for _, event in TRANSITIONS}
    assert events == {"connect", "helo", "mail", "rcpt", "vrfy", "etrn", "data", "content", "end_of_message",
                      "abort", "disconnect"}
    assert {state for state, _ in TRANSITIONS} == {NEW, SESSION, ENVELOPE, CONTENT}
    assert set(REFUSES) == events - {"abort", "disconnect"}


@pytest.mark.parametrize("events", [["mail"], ["connect", "rcpt"], ["connect", "data"], ["connect", "content"],
                                    ["connect", "mail", "content"], ["connect", "mail", "mail"]])
def test_an_event_out_of_order_is_refused_by_the_table(events):
    life = lifecycle()
    calls = {"connect": life.connect, "mail": lambda: life.mail("a@example.org"), "rcpt": lambda: life.rcpt("b@x"),
             "data": life.data, "content": lambda: life.content([])}
    for event in events[:-1]:
        calls[event]()
    with pytest.raises(OutOfOrder, match=events[-1]):
        calls[events[-1]]()


def test_a_whole_session_walks_the_states_and_answers_at_once_with_plain_plugins():
    calls: list[str] = []
    life = lifecycle(Refuser(calls))
    assert life.state is NEW
    to_content(life, "b@example.net")
    assert life.state is CONTENT
    message, events = content_events()
    life.txn.message = message
    assert life.content(events[:1]) is None
    txn = life.end_of_message(events[1:])
    assert txn.final is None and [e.name for e in txn.edits] == ["X-Tag"]
    assert life.state is SESSION and life.txn is None
    assert calls == ["rcpt b@example.net", "header From", "header Subject", "end_of_message"]
    assert life.disconnect() is None and life.state is CLOSED


def test_a_refused_recipient_refuses_only_itself():
    life = lifecycle(Refuser())
    to_content(life, "bad@example.net", "b@example.net")
    message, events = content_events()
    life.txn.message = message
    txn = life.end_of_message(events)
    assert txn.final is None and txn.envelope.recipients == ["b@example.net"]


def test_discard_at_rcpt_accepts_the_recipient_and_drops_the_message():
    calls: list[str] = []
    life = lifecycle(Refuser(calls))
    to_content(life, "drop@example.net", "bad@example.net")
    assert life.txn.envelope.recipients == ["drop@example.net"]
    message, events = content_events()
    life.txn.message = message
    txn = life.end_of_message(events)
    assert txn.final.action is Action.DISCARD and "end_of_message" not in calls


def test_a_final_content_verdict_is_kept_for_the_end_and_skips_the_rest():
    calls: list[str] = []
    life = lifecycle(Refuser(calls))
    to_content(life, "b@example.net")
    message, events = content_events(b"Subject: REJECTME\r\nFrom: a@example.org\r\n\r\nbody\r\n")
    life.txn.message = message
    life.content(events)
    assert life.txn.final.action is Action.REJECT
    txn = life.end_of_message()
    assert txn.final.reply() == (550, "5.7.1", "Subject refused") and calls[-1] == "header Subject"


def test_a_refused_mail_begins_no_transaction_and_a_coroutine_answers_when_a_plugin_awaits():
    life = lifecycle(AsyncMail())
    life.connect()
    answer = life.mail("spammer@example.org")
    assert asyncio.iscoroutine(answer)
    assert asyncio.run(resolved(answer)).action is Action.REJECT
    assert life.state is SESSION and life.txn is None


def test_a_refused_connection_refuses_every_mail_transaction():
    class RefuseClient:
        @hookimpl
        def connect(self):
            return Verdict.reject("5.7.1 go away", 554)

    life = lifecycle(RefuseClient())
    assert life.connect().final
    for _ in range(2):
        assert life.mail("a@example.org").reply() == (554, "5.7.1", "go away")
        assert life.state is SESSION


def test_helo_and_abort_end_the_transaction():
    life = lifecycle()
    to_content(life, "b@example.net")
    life.abort()
    assert life.state is SESSION and life.txn is None
    life.mail("a@example.org")
    life.helo("again.example")
    assert life.state is SESSION and life.txn is None and life.session.helo == "again.example"


def test_helo_after_ehlo_leaves_the_protocol_esmtp_as_postfix_does():
    life = lifecycle()
    life.connect()
    life.helo("client.example", extended=False)
    assert life.session.protocol == "SMTP"
    life.helo("client.example")
    life.helo("client.example", extended=False)
    assert life.session.protocol == "ESMTP"


def test_the_front_end_can_refuse_the_message_itself_with_the_chains_log_line(filterd_log):
    life = lifecycle()
    to_content(life, "b@example.net")
    life.txn.envelope.queue_id = "4ABC"
    txn = life.refuse(Verdict.reject("5.3.4 Error: message file too big", 552))
    assert txn.final.action is Action.REJECT and life.state is SESSION
    assert "4ABC: reject: END-OF-MESSAGE from unknown[127.0.0.1]: 552 5.3.4 Error: message file too big; " \
           "from=<a@example.org> to=<b@example.net> proto=ESMTP helo=<client.example>" in filterd_log.text


class Verifier:
    """Refuses VRFY of <bad@...> and asks for a HOLD of the rest, which VRFY must not keep."""

    def __init__(self) -> None:
        self.asked: list[tuple[str | None, str, str]] = []

    @hookimpl
    def vrfy(self, envelope, recipient):
        self.asked.append((envelope.sender, envelope.queue_id, recipient))
        return Verdict.reject("5.1.1 No such user", 550) if recipient.startswith("bad@") else Verdict.hold("vrfy")


def test_vrfy_asks_the_chain_and_leaves_the_session_where_it_was(filterd_log):
    verifier = Verifier()
    life = lifecycle(verifier)
    life.connect()
    life.helo("client.example")
    assert life.vrfy("bad@example.net").reply() == (550, "5.1.1", "No such user") and life.state is SESSION
    assert "NOQUEUE: reject: VRFY from unknown[127.0.0.1]: 550 5.1.1 No such user; to=<bad@example.net> proto=ESMTP " \
           "helo=<client.example>" in filterd_log.text
    life.mail("a@example.org")
    life.txn.envelope.queue_id = "4ABC"
    assert not refuses(life.vrfy("b@example.net")) and life.state is ENVELOPE
    assert life.txn.hold is None and life.txn.envelope.recipients == []
    assert verifier.asked == [(None, "", "bad@example.net"), ("a@example.org", "4ABC", "b@example.net")]


def test_etrn_asks_the_chain_outside_a_transaction_only(filterd_log):
    class Sites:
        @hookimpl
        def etrn(self, site):
            return Verdict.reject("5.7.1 not for you", 554) if site == "private.example" else None

    life = lifecycle(Sites())
    life.connect()
    assert life.etrn("private.example").reply() == (554, "5.7.1", "not for you") and life.state is SESSION
    assert "NOQUEUE: reject: ETRN from unknown[127.0.0.1]: 554 5.7.1 not for you; proto=SMTP" in filterd_log.text
    assert not refuses(life.etrn("example.com"))
    life.mail("a@example.org")
    with pytest.raises(OutOfOrder):
        life.etrn("example.com")


def test_a_refused_connection_refuses_vrfy_and_etrn_too():
    class RefuseClient:
        @hookimpl
        def connect(self):
            return Verdict.reject("5.7.1 go away", 554)

    life = lifecycle(RefuseClient())
    life.connect()
    assert life.vrfy("b@example.net").reply() == (554, "5.7.1", "go away") and life.state is SESSION
    assert life.etrn("example.com").reply() == (554, "5.7.1", "go away") and life.state is SESSION


def test_then_steps_at_once_or_after_the_coroutine():
    async def later():
        return 2

    assert then(1, lambda x: x + 1) == 2
    pending = then(later(), lambda x: x + 1)
    assert asyncio.iscoroutine(pending) and asyncio.run(pending) == 3


def test_content_events_run_at_once_until_a_coroutine_takes_the_rest():
    calls: list[str] = []

    class AsyncHeader:
        @hookimpl
        async def header(self, header):
            await asyncio.sleep(0)
            calls.append(f"async {header.name}")

    life = lifecycle(AsyncHeader(), Refuser(calls))
    to_content(life, "b@example.net")
    message, events = content_events()
    life.txn.message = message
    pending = run_events_now(life.chain, life.txn, events)
    assert calls == ["rcpt b@example.net"] and asyncio.iscoroutine(pending)
    asyncio.run(pending)
    assert calls[1:] == ["async From", "header From", "async Subject", "header Subject"]
