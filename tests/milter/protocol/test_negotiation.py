"""Option negotiation: what the MTA offers, what the filter answers, what both then agree on. Values only."""

import pytest

from filterd.milter.protocol import codes
from filterd.milter.protocol.codes import Actions, Steps
from filterd.milter.protocol.commands import OptNeg
from filterd.milter.protocol.negotiation import Negotiated, NegotiationError, agree, answer

POSTFIX_OFFER = OptNeg(6, 0x1FF, 0x1FFFFF)
"""What Postfix 3.7 offers with milter_protocol = 6."""


def test_the_answer_is_cut_down_to_the_offer():
    offer = OptNeg(6, int(Actions.ADDHDRS | Actions.CHGBODY), int(Steps.NOCONNECT | Steps.NR_HDR))
    reply = answer(offer, Actions.ADDHDRS | Actions.DELRCPT, Steps.NOCONNECT | Steps.NOHELO)
    assert reply == OptNeg(6, int(Actions.ADDHDRS), int(Steps.NOCONNECT), {})


def test_macro_lists_go_out_only_when_setsymlist_is_offered():
    lists = {0: "j"}
    assert answer(POSTFIX_OFFER, Actions.ADDHDRS, Steps(0), lists).macros == lists
    assert answer(POSTFIX_OFFER, Actions.ADDHDRS, Steps(0), lists).actions & Actions.SETSYMLIST
    assert answer(OptNeg(6, 0xFF, 0), Actions.ADDHDRS, Steps(0), lists).macros == {}


def test_an_older_mta_gets_its_own_version_back():
    assert answer(OptNeg(2, 0x3F, 0x7F), Actions.ADDHDRS, Steps.NR_HDR).version == 2
    assert answer(OptNeg(9, 0x3F, 0x7F), Actions.ADDHDRS, Steps(0)).version == codes.VERSION


def test_a_version_below_2_is_refused():
    with pytest.raises(NegotiationError):
        answer(OptNeg(1, 0x3F, 0x7F), Actions(0), Steps(0))


@pytest.mark.parametrize("reply, message", [
    (OptNeg(7, 0, 0), "protocol version 7 conflict"),
    (OptNeg(6, 0x200, 0), "request mask 0x200 conflict"),
])
def test_the_mta_side_refuses_what_it_did_not_offer(reply, message):
    with pytest.raises(NegotiationError, match=message):
        agree(POSTFIX_OFFER, reply)


def test_the_agreement_says_what_is_sent_and_answered():
    agreed = agree(POSTFIX_OFFER, OptNeg(6, 0x1, int(Steps.NOHELO | Steps.NR_HDR | Steps.NR_CONN)))
    assert not agreed.sends(codes.HELO) and agreed.sends(codes.HEADER) and agreed.sends(codes.BODYEOB)
    assert not agreed.expects_reply(codes.HEADER) and not agreed.expects_reply(codes.CONNECT)
    assert agreed.expects_reply(codes.BODY) and agreed.expects_reply(codes.BODYEOB)
    for code in (codes.MACRO, codes.ABORT, codes.QUIT, codes.QUIT_NC):
        assert not agreed.expects_reply(code)
    assert agreed.allows(Actions.ADDHDRS) and not agreed.allows(Actions.CHGBODY)


def test_before_negotiation_everything_is_answered():
    assert all(Negotiated().expects_reply(code) for code in (codes.CONNECT, codes.HEADER, codes.BODY))
