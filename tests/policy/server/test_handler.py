"""The policy server's translation, request by request: attributes to lifecycle events, the chain's verdicts to
access(5) actions. Records in, actions out; no sockets."""

from __future__ import annotations

import asyncio

import pytest

from filterd import AddHeader, Verdict, hookimpl
from filterd.chain import Chain
from filterd.policy.protocol import ProtocolError
from filterd.policy.server.handler import PolicyHandler
from filterd.testing import load_plugins

CLIENT = {"request": "smtpd_access_policy", "client_address": "192.0.2.1", "client_port": "4321",
          "client_name": "client.example", "helo_name": "helo.example", "protocol_name": "ESMTP"}


def request(state: str, **attributes: str) -> dict[str, str]:
    return {**CLIENT, "protocol_state": state, "instance": "1", "sender": "alice@example.org", **attributes}


class Recorder:
    """Records each hook's call; refuses, holds or tags on cue."""

    def __init__(self):
        self.calls: list[str] = []

    @hookimpl
    def connect(self, session):
        self.calls.append(f"connect {session.client}:{session.client_port}")
        return Verdict.reject("554 5.7.1 go away") if session.client_address == "192.0.2.66" else None

    @hookimpl
    def helo(self, hostname):
        self.calls.append(f"helo {hostname}")
        return Verdict.reject("5.7.1 bad helo") if hostname == "bad.example" else None

    @hookimpl
    def mail_from(self, sender, envelope):
        self.calls.append(f"mail {sender} {envelope.mail_options}")
        if sender.startswith("defer@"):
            return Verdict.defer("4.7.1 later")
        return Verdict.hold("held for review") if sender.startswith("hold@") else None

    @hookimpl
    def rcpt(self, recipient, envelope):
        self.calls.append(f"rcpt {recipient} {envelope.recipients}")
        if recipient.startswith("bad@"):
            return Verdict.reject("5.1.1 no such user")
        if recipient.startswith("tag@"):
            return Verdict.prepend("X-Tag: yes")
        return Verdict.ok() if recipient.startswith("ok@") else None

    @hookimpl
    def data(self, envelope):
        self.calls.append(f"data {envelope.recipients}")
        return Verdict.discard("not wanted") if "drop@example.net" in envelope.recipients else None

    @hookimpl
    def vrfy(self, recipient, envelope):
        self.calls.append(f"vrfy {recipient} {envelope.sender}")
        return Verdict.reject("5.1.1 unknown") if recipient.startswith("bad@") else None

    @hookimpl
    def etrn(self, site):
        self.calls.append(f"etrn {site}")
        return Verdict.reject("4.7.1 not now") if site == "closed.example" else None

    @hookimpl
    def disconnect(self, session):
        self.calls.append(f"disconnect {session.client_port}")


def converse(records: list[dict[str, str]], plugin: Recorder | None = None) -> tuple[list[str], list[str]]:
    """Each request's action, and the hooks the plugin saw, the connection closed at the end."""
    plugin = plugin or Recorder()

    async def run():
        handler = PolicyHandler(Chain(load_plugins(plugin), 5.0, "tempfail"))
        actions = [await handler.answer(record) for record in records]
        await handler.close()
        return actions
    return asyncio.run(run()), plugin.calls


def test_a_rcpt_request_first_runs_every_earlier_hook_once():
    actions, calls = converse([request("RCPT", recipient="a@example.net", size="1234"),
                               request("RCPT", recipient="b@example.net", size="1234")])
    assert actions == ["DUNNO", "DUNNO"]
    assert calls == ["connect client.example[192.0.2.1]:4321", "helo helo.example",
                     "mail alice@example.org ['SIZE=1234']", "rcpt a@example.net []",
                     "rcpt b@example.net ['a@example.net']", "disconnect 4321"]


def test_each_protocol_state_runs_its_own_hook():
    actions, calls = converse([request("CONNECT", helo_name=""), request("EHLO"), request("MAIL"),
                               request("RCPT", recipient="a@example.net"), request("DATA"),
                               request("END-OF-MESSAGE"), request("VRFY", recipient="b@example.net", sender=""),
                               request("ETRN", etrn_domain="example.net", sender="")])
    assert actions == ["DUNNO"] * 8
    assert calls == ["connect client.example[192.0.2.1]:4321", "helo helo.example", "mail alice@example.org []",
                     "rcpt a@example.net []", "data ['a@example.net']", "vrfy b@example.net None",
                     "etrn example.net", "disconnect 4321"]


def test_vrfy_and_etrn_are_answered_with_their_hooks_verdicts():
    actions, calls = converse([request("VRFY", recipient="bad@example.net", sender=""),
                               request("ETRN", etrn_domain="closed.example", sender=""),
                               request("RCPT", recipient="a@example.net", instance="2"),
                               request("VRFY", recipient="c@example.net", instance="2")])
    assert actions == ["550 5.1.1 unknown", "450 4.7.1 not now", "DUNNO", "DUNNO"]
    assert calls[2:4] == ["vrfy bad@example.net None", "etrn closed.example"]
    assert calls[-2] == "vrfy c@example.net alice@example.org"


def test_a_refused_recipient_is_answered_with_its_reply_and_stays_out_of_the_envelope():
    actions, calls = converse([request("RCPT", recipient="bad@example.net"),
                               request("RCPT", recipient="a@example.net")])
    assert actions == ["550 5.1.1 no such user", "DUNNO"]
    assert calls[-2] == "rcpt a@example.net []"


def test_a_refused_client_is_refused_at_every_request_of_its_session():
    refused = {"client_address": "192.0.2.66"}
    actions, calls = converse([request("RCPT", recipient="a@example.net", **refused),
                               request("RCPT", recipient="b@example.net", **refused)])
    assert actions == ["554 5.7.1 go away"] * 2
    assert calls == ["connect client.example[192.0.2.66]:4321", "disconnect 4321"]


def test_a_refused_helo_answers_for_that_name_only():
    actions, calls = converse([request("RCPT", recipient="a@example.net", helo_name="bad.example"),
                               request("RCPT", recipient="a@example.net", helo_name="bad.example", instance="2"),
                               request("RCPT", recipient="a@example.net", instance="3")])
    assert actions == ["550 5.7.1 bad helo", "550 5.7.1 bad helo", "DUNNO"]
    assert calls.count("helo bad.example") == 1


def test_a_refused_sender_answers_every_request_of_its_message_and_not_the_next():
    actions, calls = converse([request("RCPT", recipient="a@example.net", sender="defer@example.org"),
                               request("RCPT", recipient="b@example.net", sender="defer@example.org"),
                               request("RCPT", recipient="c@example.net", instance="2")])
    assert actions == ["450 4.7.1 later", "450 4.7.1 later", "DUNNO"]
    assert [call for call in calls if call.startswith("mail")] == ["mail defer@example.org []",
                                                                    "mail alice@example.org []"]


def test_hold_ok_prepend_and_discard_are_their_access_actions():
    actions, _ = converse([request("RCPT", recipient="a@example.net", sender="hold@example.org"),
                           request("RCPT", recipient="ok@example.net", instance="2"),
                           request("RCPT", recipient="tag@example.net", instance="2"),
                           request("RCPT", recipient="drop@example.net", instance="3"),
                           request("DATA", instance="3")])
    assert actions == ["HOLD held for review", "OK", "PREPEND X-Tag: yes", "DUNNO", "DISCARD not wanted"]


def test_another_client_on_the_same_connection_is_another_session():
    actions, calls = converse([request("RCPT", recipient="a@example.net"),
                               request("RCPT", recipient="a@example.net", client_port="5555")])
    assert actions == ["DUNNO", "DUNNO"]
    assert calls.count("disconnect 4321") == 1 and calls[-1] == "disconnect 5555"
    assert calls.count("helo helo.example") == 2


def test_sasl_and_tls_attributes_reach_the_session():
    seen = []

    class Session:
        @hookimpl
        def rcpt(self, session):
            seen.append((session.sasl_username, session.tls))

    asyncio.run(PolicyHandler(Chain(load_plugins(Session()))).answer(
        request("RCPT", recipient="a@example.net", sasl_username="alice", encryption_protocol="TLSv1.3")))
    assert seen == [("alice", True)]


def test_the_reverse_client_name_reaches_the_session():
    seen = []

    class Names:
        @hookimpl
        def rcpt(self, session):
            seen.append((session.client_name, session.reverse_name, session.name_status))

    asyncio.run(PolicyHandler(Chain(load_plugins(Names()))).answer(
        request("RCPT", recipient="a@example.net", client_name="unknown", reverse_client_name="forged.example")))
    assert seen == [("unknown", "forged.example", "FAIL")]


def test_a_request_postfix_would_not_send_is_a_protocol_error():
    with pytest.raises(ProtocolError, match="unrecognized request type"):
        converse([{**request("RCPT"), "request": "junk"}])


def test_one_reply_carries_one_action_and_a_warning_names_the_others(caplog):
    class HoldAndTag:
        @hookimpl
        def rcpt(self):
            return Verdict.hold("review").with_edits(AddHeader("X-Tag", "yes"))

    action = asyncio.run(PolicyHandler(Chain(load_plugins(HoldAndTag()))).answer(request("RCPT", recipient="a@b")))
    assert action == "HOLD review"
    assert "one policy reply carries one action: HOLD review; not sent: PREPEND X-Tag: yes" in caplog.text
