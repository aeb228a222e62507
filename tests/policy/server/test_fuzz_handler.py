"""The policy handler fuzzed (hypothesis): any sequence of requests, in any protocol states, from clients and
instances that come and go, with plugins that refuse, discard, hold or tag on cue, is answered request by request
with an access(5) action, or refused with ProtocolError, never anything else."""

from __future__ import annotations

import asyncio

from hypothesis import given, strategies as st

from filterd import Verdict, hookimpl
from filterd.chain import Chain
from filterd.policy.protocol import PROTOCOL_STATES, ProtocolError
from filterd.policy.server.handler import PolicyHandler
from filterd.testing import load_plugins
from tests.fixtures.fuzzing import budget

VERDICTS = {"reject": Verdict.reject("5.7.1 no"), "defer": Verdict.defer("4.7.1 later"), "discard": Verdict.discard(),
            "hold": Verdict.hold("h"), "tag": Verdict.prepend("X-T: 1"), "ok": Verdict.ok()}
WORDS = st.sampled_from(["", "reject", "defer", "discard", "hold", "tag", "ok", "x"])


class OnCue:
    """Every before-DATA hook answers the verdict its argument names."""

    @hookimpl
    def connect(self, session):
        return VERDICTS.get(session.client_name)

    @hookimpl
    def helo(self, hostname):
        return VERDICTS.get(hostname)

    @hookimpl
    def mail_from(self, sender):
        return VERDICTS.get(sender)

    @hookimpl
    def rcpt(self, recipient):
        return VERDICTS.get(recipient)

    @hookimpl
    def data(self, envelope):
        return VERDICTS.get(",".join(envelope.recipients))

    @hookimpl
    def disconnect(self, session):
        return None


REQUESTS = st.fixed_dictionaries({
    "request": st.sampled_from(["smtpd_access_policy"] * 9 + ["other"]),
    "protocol_state": st.sampled_from(PROTOCOL_STATES + ("", "rcpt", "BOGUS")),
    "client_address": st.sampled_from(["192.0.2.1", "192.0.2.2", ""]),
    "client_port": st.sampled_from(["1", "2", "", "x"]),
    "client_name": WORDS, "helo_name": WORDS, "sender": WORDS, "recipient": WORDS,
    "instance": st.sampled_from(["1", "2", "3"]), "size": st.sampled_from(["", "0", "10"]),
    "protocol_name": st.sampled_from(["ESMTP", "SMTP", ""])})


def check_dialogue(requests: list[dict[str, str]]) -> None:
    """Each request answered with an action (a word, a code and text) or refused with ProtocolError."""
    async def run() -> None:
        handler = PolicyHandler(Chain(load_plugins(OnCue())))
        for request in requests:
            try:
                action = await handler.answer(request)
            except ProtocolError:
                continue
            assert action and "\n" not in action
            assert action.split()[0] in {"DUNNO", "OK", "DISCARD", "HOLD", "PREPEND", "550", "450"}, action
        await handler.close()
    asyncio.run(run())


@budget(100)
@given(st.lists(REQUESTS, max_size=12))
def test_any_requests_are_answered_with_an_action_or_refused(requests):
    check_dialogue(requests)
