"""The milter handler fed arbitrary packets (hypothesis), in any order and with any payload, as a broken or hostile
MTA might send them: each is refused as a protocol error or answered as the negotiation says, with exactly one
decision when the MTA waits for one and nothing when it does not, and modifications only at end of message."""

from __future__ import annotations

import asyncio

from hypothesis import given, strategies as st

from filterd import Verdict, hookimpl
from filterd.chain import Chain
from filterd.milter.protocol import codes
from filterd.milter.protocol import commands as c
from filterd.milter.protocol.framing import ProtocolError
from filterd.milter.protocol.responses import DECISIONS, RESPONSES
from filterd.milter.server.handler import MilterHandler
from filterd.milter.server.settings import MilterSettings
from filterd.testing import load_plugins
from tests.fixtures.fuzzing import budget

TEXT = st.text(st.sampled_from("ab<>@ :\r\n\t=\udcff"), max_size=12)
ADDRESSES = st.sampled_from(["<a@example.org>", "<>", "<no@example.net>", "<drop@x>", "<bcc@x>", "", "<", "x"])
OFFERS = st.builds(c.OptNeg, st.sampled_from([0, 2, 6, 7]), st.sampled_from([0, 0x1FF, 0x3F]),
                   st.sampled_from([0, 0x1FFFFF, 0x400, 0x100000]))
COMMANDS = st.one_of(
    OFFERS,
    st.builds(c.Macro, st.sampled_from("CHMRTNELZ"), st.lists(st.tuples(
        st.sampled_from(["i", "{i}", "j", "{auth_authen}", "{daemon_name}", "{tls_version}", "{client_addr}"]),
        TEXT), max_size=3).map(tuple)),
    st.builds(c.Connect, TEXT, st.sampled_from("46LU"), st.integers(0, 65535), TEXT),
    st.builds(c.Helo, TEXT),
    st.builds(c.Mail, st.lists(ADDRESSES, min_size=1, max_size=3).map(tuple)),
    st.builds(c.Rcpt, st.lists(ADDRESSES, min_size=1, max_size=3).map(tuple)),
    st.just(c.Data()), st.builds(c.Header, st.sampled_from(["Subject", "From", "X-A", ""]), TEXT),
    st.just(c.EndOfHeaders()), st.builds(c.Body, st.binary(max_size=30)), st.builds(c.EndOfBody, st.binary(max_size=8)),
    st.just(c.Abort()), st.just(c.Quit()), st.just(c.QuitNewConnection()), st.builds(c.Unknown, TEXT),
).map(lambda packet: (packet.code, packet.payload()))
PACKETS = st.one_of(COMMANDS, COMMANDS, COMMANDS, st.tuples(st.binary(min_size=1, max_size=1), st.binary(max_size=20)))


class Everything:
    """Implements every hook, refusing, discarding or editing by what it is given."""

    @hookimpl
    def helo(self, hostname):
        return Verdict.reject("5.7.1 no") if "@" in hostname else None

    @hookimpl
    def mail_from(self, sender):
        return Verdict.defer() if sender == "b" else None

    @hookimpl
    def rcpt(self, recipient):
        if recipient.startswith("no@"):
            return Verdict.reject("5.1.1 No such user")
        if recipient.startswith("drop@"):
            return Verdict.discard()
        return Verdict.bcc("archive@example.net") if recipient.startswith("bcc@") else None

    @hookimpl
    def header(self, header):
        if "\t" in header.value:
            return Verdict.reject("5.7.1 tab")
        return Verdict.pass_() if "=" in header.value else None

    @hookimpl
    def body(self, line):
        return Verdict.discard() if b"b" in line else None

    @hookimpl
    async def end_of_message(self, envelope, message):
        await asyncio.sleep(0)
        if len(message.headers) > 3:
            return Verdict.hold("many headers")
        return Verdict.add_header("X-Seen", str(len(envelope.recipients)))

    @hookimpl
    def disconnect(self):
        return None


def check_dialogue(plugins: list, packets: list[tuple[bytes, bytes]]) -> None:
    """Each packet refused (ProtocolError) or answered as negotiated; a refusal ends the dialogue, as the listener
    closes the connection."""
    asyncio.run(_dialogue(MilterHandler(MilterSettings(), Chain(load_plugins(*plugins))), packets))


async def _dialogue(handler: MilterHandler, packets: list[tuple[bytes, bytes]]) -> None:
    for code, payload in packets:
        if handler.finished:
            break
        try:
            answer = handler.receive(code, payload)
            responses = list(await answer) if asyncio.iscoroutine(answer) else list(answer)
        except ProtocolError:
            responses = list(handler.fail(code))
            code = b"?" if code == codes.OPTNEG else code  # a failed negotiation is answered as a malformed command
        check_answer(handler, code, responses)
    await handler.disconnect()


def check_answer(handler: MilterHandler, code: bytes, responses: list) -> None:
    assert all(type(getattr(response, "packet", response)) is RESPONSES[response.code] for response in responses)
    if code == codes.OPTNEG:
        assert len(responses) == 1 and type(responses[0].packet) is c.OptNeg
    elif code in c.COMMANDS and not handler.negotiated.expects_reply(code):
        assert responses == []
    else:
        decisions = [response for response in responses if response.code in DECISIONS]
        assert len(decisions) == 1 and responses[-1] is decisions[0], responses
        if code != codes.BODYEOB:
            assert responses == decisions


@given(st.lists(PACKETS, max_size=25))
@budget(150)
def test_any_packets_to_a_handler_with_every_hook(packets):
    check_dialogue([Everything()], packets)


@given(st.lists(PACKETS, max_size=25))
@budget(60)
def test_any_packets_to_a_handler_without_plugins(packets):
    check_dialogue([], packets)
