"""filterd.simulate.Connection, which `filterd check` drives: several mail transactions in one session, and what a
refusal at connect, HELO or RCPT leaves for the next transaction."""

from __future__ import annotations

import asyncio

from filterd import Verdict, hookimpl
from filterd.chain import Chain
from filterd.simulate import Client, Connection, Outcome
from filterd.testing import load_plugins

MESSAGE = b"Subject: hi\r\n\r\nbody\r\n"


class Gatekeeper:
    """Refuses the recipient bad@example.net, a client at 192.0.2.66, and HELO names that ask for it."""

    __name__ = "gatekeeper"

    @hookimpl
    def connect(self, session):
        return Verdict.reject("5.7.1 Go away") if session.client_address == "192.0.2.66" else None

    @hookimpl
    def helo(self, hostname):
        if hostname == "discard.example":
            return Verdict.discard("not wanted")
        return Verdict.reject("5.7.1 Bad HELO") if hostname == "reject.example" else None

    @hookimpl
    def rcpt(self, recipient):
        return Verdict.reject("5.1.1 No such user") if recipient == "bad@example.net" else None


def session(client: Client, *transactions: tuple[str, ...]) -> list[Outcome]:
    """One session of `client`, a transaction per tuple of recipients."""
    async def run() -> list[Outcome]:
        connection = Connection(Chain(load_plugins(Gatekeeper())), client)
        await connection.open()
        outcomes = [await connection.send(MESSAGE, "a@example.org", recipients) for recipients in transactions]
        await connection.close()
        return outcomes
    return asyncio.run(run())


def results(outcomes: list[Outcome]) -> list[str]:
    return [str(outcome.verdict) if outcome.verdict else "accepted" for outcome in outcomes]


def test_a_transaction_whose_recipients_are_all_refused_leaves_the_session_ready_for_the_next():
    outcomes = session(Client(), ("bad@example.net",), ("good@example.net", "bad@example.net"))
    assert results(outcomes) == ["REJECT 550 5.1.1 No such user", "accepted"]
    assert outcomes[1].envelope.recipients == ["good@example.net"]
    assert list(outcomes[1].rejected_recipients) == ["bad@example.net"]


def test_a_refusal_at_connect_refuses_every_transaction_of_the_session():
    assert results(session(Client("192.0.2.66"), ("good@example.net",), ("good@example.net",))) == 2 * [
        "REJECT 550 5.7.1 Go away"]


def test_a_refusal_at_helo_refuses_every_transaction_and_a_discard_discards_each_message():
    assert results(session(Client(helo="reject.example"), ("a@example.net",), ("b@example.net",))) == 2 * [
        "REJECT 550 5.7.1 Bad HELO"]
    assert results(session(Client(helo="discard.example"), ("a@example.net",))) == ["DISCARD not wanted"]


def test_each_transaction_has_its_own_trace_and_the_session_its_calls_once():
    outcomes = session(Client(), ("good@example.net",), ("good@example.net",))
    assert [[call.hook for call in outcome.trace] for outcome in outcomes] == [["connect", "helo", "rcpt"], ["rcpt"]]
