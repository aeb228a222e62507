"""The MTA side of the milter protocol with bytes alone: negotiation, requests, responses, states."""

from __future__ import annotations

import re

import pytest

from filterd.milter.client.dialogue import (COMM_ERROR, EVENT_MASKS, HOLD, REJECTED, TEMPFAILED, Decision,
                                            MilterDialogue, MilterError, Protocol, State, unescape, well_formed)
from filterd.milter.protocol import codes
from filterd.milter.protocol import commands as cmd
from filterd.milter.protocol import responses as r
from filterd.milter.protocol.codes import Actions, Steps
from filterd.milter.protocol.framing import PacketReader, frame
from filterd.milter.protocol.negotiation import NegotiationError

V6 = Protocol.parse("6")
ALL_ACTIONS = 0x1FF


def negotiated(steps: Steps = Steps(0), protocol: Protocol = V6, action: str = "tempfail",
               macros: dict[int, str] | None = None) -> MilterDialogue:
    dialogue = MilterDialogue(protocol, action)
    reply = r.OptNeg(protocol.version, int(Actions.ADDHDRS | Actions.CHGHDRS), int(steps), macros or {}).encode()
    [(code, payload)] = PacketReader().feed(reply)
    dialogue.handshake(code, payload)
    return dialogue


def answers(dialogue: MilterDialogue, *packets) -> list:
    """Feed encoded responses to the dialogue; return what each one meant."""
    out = []
    for code, payload in PacketReader().feed(b"".join(p.encode() for p in packets)):
        out.append(dialogue.response(code, payload))
    return out


def at(dialogue: MilterDialogue, event: bytes) -> MilterDialogue:
    """The dialogue with `event` sent and its reply awaited."""
    if event == codes.CONNECT:
        dialogue.accepts(event)
    command = {codes.CONNECT: cmd.Connect("h", "4", 25, "1.2.3.4"), codes.HELO: cmd.Helo("h"),
               codes.MAIL: cmd.Mail(("<a@b>",)), codes.RCPT: cmd.Rcpt(("<c@d>",)), codes.DATA: cmd.Data(),
               codes.BODYEOB: cmd.EndOfBody(), codes.HEADER: cmd.Header("A", "b"), codes.BODY: cmd.Body(b"x")}[event]
    dialogue.request(event, command, ())
    return dialogue


def test_the_offer_is_postfix_s_for_protocol_6():
    offer = MilterDialogue(V6).offer()
    assert (offer.version, offer.actions) == (6, ALL_ACTIONS)
    assert offer.steps == int(EVENT_MASKS["6"]) == 0x1FFFFF
    assert offer.encode() == frame(b"O", bytes.fromhex("00000006 000001ff 001fffff"))


def test_protocol_words():
    assert Protocol.parse("2").events == EVENT_MASKS["2"] == Steps(0x7F)
    assert Protocol.parse("4, no_header_reply") == Protocol(4, Steps(0x37F) | Steps.NR_HDR)
    for bad, text in (("7", "bad protocol information: 7"), ("6 4", "bad protocol information: 4"),
                      ("no_header_reply", "no protocol version information"), ("", "no protocol version information")):
        with pytest.raises(MilterError, match=text):
            Protocol.parse(bad)


def test_handshake_takes_the_milter_s_macro_lists():
    dialogue = negotiated(Steps.NOHELO, macros={int(codes.Stage.CONNECT): "{client_addr}", 9: "x"})
    assert dialogue.state is State.READY
    assert dialogue.macro_lists == {0: "{client_addr}"}
    assert dialogue.negotiated.steps == Steps.NOHELO


@pytest.mark.parametrize("reply, text", [
    (r.OptNeg(7, 1, 0), "protocol version 7 conflict with MTA protocol version 6"),
    (r.OptNeg(6, 0x400, 0), "request mask 0x400 conflict with MTA request mask 0x1ff"),
])
def test_handshake_conflicts_in_postfix_s_words(reply, text):
    [(code, payload)] = PacketReader().feed(reply.encode())
    with pytest.raises(NegotiationError, match=text):
        MilterDialogue(V6).handshake(code, payload)


def test_a_reply_that_is_not_optneg_breaks_the_handshake():
    with pytest.raises(MilterError, match='unexpected reply "c" in initial handshake'):
        MilterDialogue(V6).handshake(codes.CONTINUE, b"")


def test_a_request_is_the_macros_then_the_command():
    dialogue = negotiated()
    assert dialogue.accepts(codes.CONNECT) and dialogue.state is State.ENVELOPE
    request = dialogue.request(codes.MAIL, cmd.Mail(("<a@b>", "SIZE=10")), (("{mail_addr}", "a@b"),))
    assert request.expects_reply
    assert request.data == frame(b"D", b"M{mail_addr}\0a@b\0") + frame(b"M", b"<a@b>\0SIZE=10\0")


def test_an_event_the_milter_does_not_want_sends_only_its_macros_and_no_reply_is_awaited():
    dialogue = negotiated(Steps.NOHELO | Steps.NR_HDR)
    helo = dialogue.request(codes.HELO, cmd.Helo("x"), ())
    assert helo.data == frame(b"D", b"H") and not helo.expects_reply
    header = dialogue.request(codes.HEADER, cmd.Header("A", "b"), (("i", "Q1"),))
    assert header.data.endswith(frame(b"L", b"A\0b\0")) and not header.expects_reply


def test_events_outside_the_protocol_version_are_never_sent():
    dialogue = negotiated(protocol=Protocol.parse("2"))
    assert dialogue.request(codes.DATA, cmd.Data(), ()) is None
    assert dialogue.request(codes.UNKNOWN, cmd.Unknown("X"), ()) is None
    assert dialogue.request(codes.RCPT, cmd.Rcpt(("<a@b>",)), ()) is not None


def test_end_of_message_always_waits_for_the_answer():
    dialogue = negotiated(Steps.NR_BODY)
    assert dialogue.request(codes.BODYEOB, cmd.EndOfBody(), ()).expects_reply


def test_decisions_at_envelope_events():
    assert answers(at(negotiated(), codes.MAIL), r.Continue()) == [Decision(None)]
    assert answers(at(negotiated(), codes.RCPT), r.Reject()) == [Decision(REJECTED)]
    assert answers(at(negotiated(), codes.DATA), r.Tempfail()) == [Decision(TEMPFAILED)]
    dialogue = at(negotiated(), codes.MAIL)
    assert answers(dialogue, r.Progress(), r.Progress(), r.Discard()) == [None, None, Decision("D")]
    assert dialogue.state is State.ACCEPT_MSG


def test_a_refusal_at_connect_or_helo_refuses_the_whole_connection():
    dialogue = at(negotiated(), codes.CONNECT)
    assert answers(dialogue, r.ReplyCode("421 4.7.0 %%busy%")) == [Decision("421 4.7.0 %busy")]
    assert dialogue.state is State.REJECT_CON and dialogue.def_reply == "421 4.7.0 %busy"
    assert not dialogue.accepts(codes.MAIL)
    assert dialogue.quit() == b""


def test_accept_at_connect_leaves_the_connection_alone_and_at_mail_the_message():
    dialogue = at(negotiated(), codes.CONNECT)
    assert answers(dialogue, r.Accept()) == [Decision(None)]
    assert dialogue.state is State.ACCEPT_CON and not dialogue.accepts(codes.HELO)
    dialogue = at(negotiated(), codes.MAIL)
    answers(dialogue, r.Accept())
    assert dialogue.state is State.ACCEPT_MSG and dialogue.accepts(codes.HELO) and not dialogue.accepts(codes.RCPT)


def test_discard_at_connect_is_refused_with_postfix_s_warning():
    [decision] = answers(at(negotiated(), codes.HELO), r.Discard())
    assert decision == Decision(None, "DISCARD action is not allowed for connect or helo")


def test_quarantine_is_remembered_and_answers_later_events():
    dialogue = at(negotiated(), codes.MAIL)
    assert answers(dialogue, r.Quarantine("why"), r.Continue()) == [None, Decision(HOLD)]
    assert answers(at(dialogue, codes.RCPT), r.Continue()) == [Decision(HOLD)]


def test_what_a_milter_decides_about_a_message_ends_with_the_message():
    dialogue = negotiated()
    dialogue.accepts(codes.CONNECT)
    assert dialogue.begin_message()
    answers(at(dialogue, codes.BODYEOB), r.Quarantine("why"), r.Accept())
    dialogue.end_message()
    assert dialogue.state is State.ENVELOPE and dialogue.def_reply is None


def test_skip_stops_body_chunks_until_another_event():
    dialogue = at(negotiated(), codes.BODY)
    assert answers(dialogue, r.Skip()) == [Decision(None)]
    assert dialogue.request(codes.BODY, cmd.Body(b"more"), ()) is None
    assert dialogue.request(codes.BODYEOB, cmd.EndOfBody(), ()) is not None
    assert dialogue.skip_event is None


def test_modifications_come_before_the_decision_at_end_of_message_only():
    dialogue = at(negotiated(), codes.BODYEOB)
    edits = [r.AddHeader("X", "1"), r.ChangeHeader(1, "Y", ""), r.ReplaceBody(b"a"), r.ReplaceBody(b"b")]
    assert answers(dialogue, *edits, r.Continue()) == [*edits, Decision(None)]
    with pytest.raises(MilterError, match="unexpected filter response SMFIR_ADDHEADER after event SMFIC_RCPT"):
        answers(at(negotiated(), codes.RCPT), r.AddHeader("X", "1"))


def test_body_replacement_cannot_be_interrupted():
    dialogue = at(negotiated(), codes.BODYEOB)
    with pytest.raises(MilterError, match="body replacement requests can't currently be mixed") as raised:
        answers(dialogue, r.ReplaceBody(b"a"), r.AddHeader("X", "1"), r.ReplaceBody(b"b"))
    assert raised.value.conf


@pytest.mark.parametrize("packet, text, conf", [
    (frame(b"c", b"x"), "reply SMFIR_CONTINUE was followed by 1 data bytes", False),
    (r.ReplyCode("250 2.0.0 fine").encode(), "malformed reply: 250 2.0.0 fine", True),
    (r.ReplyCode("550 4.7.1 mixed").encode(), "malformed reply: 550 4.7.1 mixed", True),
    (r.ChangeHeader(1, "", "v").encode(), "null change header name", True),
    (frame(b"Z"), "unexpected filter response (unknown filter reply) after event SMFIC_BODYEOB", False),
])
def test_broken_answers(packet, text, conf):
    dialogue = at(negotiated(), codes.BODYEOB)
    [(code, payload)] = PacketReader().feed(packet)
    with pytest.raises(MilterError, match=re.escape(text)) as raised:
        dialogue.response(code, payload)
    assert raised.value.conf is conf


def test_responses_split_at_every_offset_mean_the_same():
    stream = b"".join(p.encode() for p in (r.Progress(), r.InsertHeader(0, "DKIM-Signature", "v=1;\n\tb=x"),
                                           r.ReplaceBody(b"new\r\n" * 100), r.Quarantine("q"), r.Continue()))
    whole = answers(at(negotiated(), codes.BODYEOB), r.Progress(), r.InsertHeader(0, "DKIM-Signature", "v=1;\n\tb=x"),
                    r.ReplaceBody(b"new\r\n" * 100), r.Quarantine("q"), r.Continue())
    for cut in range(len(stream) + 1):
        dialogue, reader, got = at(negotiated(), codes.BODYEOB), PacketReader(), []
        for piece in (stream[:cut], stream[cut:]):
            got += [dialogue.response(code, payload) for code, payload in reader.feed(piece)]
        assert got == whole
    assert whole[-1] == Decision(HOLD)


def test_failure_gives_the_default_action_s_reply_from_then_on():
    assert COMM_ERROR == {"accept": None, "reject": "550 5.5.0 Service unavailable", "tempfail": TEMPFAILED,
                          "quarantine": HOLD}
    dialogue = negotiated(action="reject")
    assert dialogue.fail() == "550 5.5.0 Service unavailable"
    assert dialogue.state is State.ERROR and not dialogue.accepts(codes.MAIL)
    assert MilterDialogue(V6, "tempfail").fail(conf=True) == "451 4.3.5 Server configuration problem - try again later"
    assert MilterDialogue(V6, "accept").fail() is None


def test_abort_and_quit_by_state():
    dialogue = negotiated()
    assert dialogue.abort() == b"" and dialogue.quit() == b""
    dialogue = negotiated()
    dialogue.accepts(codes.CONNECT)
    assert dialogue.abort() == frame(b"A")
    assert dialogue.quit() == frame(b"Q") and dialogue.state is State.CLOSED


def test_reply_code_checks_and_percent_signs():
    assert well_formed("550 5.7.1 no") and well_formed("451-4.7.1 a\r\n451 4.7.1 b")
    assert not well_formed("550") and not well_formed("650 6.0.0 x") and not well_formed("550x5.7.1 no")
    assert unescape("100%% sure, 5% off") == "100% sure, 5 off"
