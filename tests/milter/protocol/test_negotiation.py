"""Option negotiation, macros and what filterd asks the MTA for: values only, no sockets."""

import pytest

from filterd.milter.protocol import codes
from filterd.milter.protocol.codes import Actions, Steps
from filterd.milter.protocol.commands import OptNeg
from filterd.milter.protocol.macros import Macros, bare, symlists
from filterd import hookimpl
from filterd.chain import Chain
from filterd.milter.server.requirements import ACTIONS, MACROS, actions, implemented, macros, steps
from filterd.verdict import CHANGES
from filterd.testing import load_plugins
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


def test_no_plugins_means_no_content_no_replies_no_actions():
    wanted = steps(frozenset())
    for step in (Steps.NOHDRS, Steps.NOBODY, Steps.NOEOH, Steps.NODATA, Steps.NOUNKNOWN, Steps.NR_CONN,
                 Steps.NR_HELO, Steps.NR_MAIL, Steps.NR_RCPT):
        assert wanted & step
    assert wanted & Steps.NOCONNECT and wanted & Steps.NOHELO and wanted & Steps.NOMAIL and wanted & Steps.NORCPT
    assert actions(frozenset()) == Actions(0) and actions(frozenset({"queue"})) == Actions(0)


def test_an_end_of_message_plugin_gets_the_message_without_replies_on_the_way():
    wanted = steps(frozenset({"end_of_message", "message"}))
    assert wanted & Steps.NR_HDR and wanted & Steps.NR_BODY and wanted & Steps.HDR_LEADSPC
    assert not wanted & (Steps.NOHDRS | Steps.NOBODY | Steps.SKIP)
    assert actions(frozenset({"end_of_message"}) | CHANGES) == ACTIONS
    assert ACTIONS & Actions.CHGFROM and ACTIONS & Actions.ADDRCPT_PAR


def test_a_plugin_that_does_not_read_the_message_does_not_get_it():
    wanted = steps(frozenset({"end_of_message"}))
    assert wanted & Steps.NOHDRS and wanted & Steps.NOBODY


def test_what_the_plugins_implement_and_read():
    class Reads:
        @hookimpl
        def end_of_message(self, message):
            return None

    class Blind:
        @hookimpl
        def end_of_message(self, envelope):
            return None

        @hookimpl
        def queue(self, message):
            return None

    class Client:
        @hookimpl
        def disconnect(self, session):
            return None

        @hookimpl
        def queue(self, envelope):
            return None
    assert implemented(Chain(load_plugins(Reads()))) == {"end_of_message", "message", "envelope"} | CHANGES
    assert implemented(Chain(load_plugins(Blind()))) == {"end_of_message", "queue", "envelope"} | CHANGES
    assert implemented(Chain(load_plugins(Client()))) == {"disconnect", "queue", "session"}


class Tagger:
    """Adds a header and may reject, and says so (the pymilter anchor's Milter.set_flags(ADDHDRS)), or declares
    what it is given."""

    def __init__(self, declared: frozenset[str] = frozenset({"add_header", "reject"})):
        self.declared = declared

    @hookimpl
    def changes(self):
        return self.declared

    @hookimpl
    def end_of_message(self):
        return None


def test_declared_changes_are_what_the_plugins_behind_the_milter_may_make():
    class Reads(Tagger):
        @hookimpl
        def end_of_message(self, session):
            return None

    class Decides(Tagger):
        @hookimpl
        def mail_from(self, sender):
            return None

    class AfterQueue:
        @hookimpl
        def queue(self, envelope):
            return None
    assert implemented(Chain(load_plugins(Tagger()))) == {"end_of_message", "add_header"}
    assert implemented(Chain(load_plugins(Tagger(), AfterQueue()))) == {"end_of_message", "queue", "add_header"}
    assert implemented(Chain(load_plugins(Tagger()), error_action="quarantine")) >= {"add_header", "hold"}
    assert implemented(Chain(load_plugins(Tagger({"REDIRECT"})))) == {"end_of_message", "redirect", "envelope"}
    assert implemented(Chain(load_plugins(Tagger({"delete_recipient"})))) == {"end_of_message", "delete_recipient",
                                                                               "envelope"}
    assert implemented(Chain(load_plugins(Reads()))) == {"end_of_message", "add_header", "session", "envelope"}
    assert implemented(Chain(load_plugins(Tagger(), Decides()))) == {"end_of_message", "mail_from", "add_header"}


def test_a_plugin_that_reads_no_envelope_and_cannot_redirect_gets_end_of_message_alone():
    """As the pymilter anchor: no CONNECT, HELO, MAIL or RCPT; the client comes as macros."""
    hooks = implemented(Chain(load_plugins(Tagger())))
    wanted = steps(hooks)
    for step in (Steps.NOCONNECT, Steps.NOHELO, Steps.NOMAIL, Steps.NORCPT, Steps.NODATA, Steps.NOHDRS,
                 Steps.NOEOH, Steps.NOBODY):
        assert wanted & step, step
    assert actions(hooks) == Actions.ADDHDRS
    assert macros(hooks)[codes.BODYEOB] == "i {client_addr} {client_name}"
    assert macros(frozenset({"end_of_message", "envelope"})) == macros(frozenset({"header"})) == MACROS


def test_the_client_and_the_envelope_are_sent_when_a_plugin_decides_on_them_reads_them_or_may_redirect():
    client, envelope = Steps.NOCONNECT | Steps.NOHELO, Steps.NOMAIL | Steps.NORCPT
    for hooks in ({"end_of_message", "envelope"}, {"header", "envelope"}, {"data", "queue"}, {"connect"},
                  {"rcpt"}, {"helo"}, {"mail_from"}):
        assert not steps(frozenset(hooks)) & (client | envelope), hooks
    for hooks in ({"queue"}, {"end_of_message"}, {"end_of_message", "message", "add_header"}):
        assert steps(frozenset(hooks)) & (client | envelope) == client | envelope, hooks
    for hooks in ({"disconnect"}, {"queue", "session"}, {"header", "add_header"}, {"body"}, {"end_of_headers"}):
        assert steps(frozenset(hooks)) & (client | envelope) == Steps.NOHELO | envelope, hooks


def test_the_actions_asked_for_are_those_the_declared_changes_need():
    assert actions(frozenset({"end_of_message"})) == Actions(0)
    assert actions(frozenset({"hold", "redirect"})) == Actions.QUARANTINE | Actions.ADDRCPT | Actions.DELRCPT
    assert actions(frozenset({"change_sender", "add_recipient"})) == (Actions.CHGFROM | Actions.ADDRCPT
                                                                       | Actions.ADDRCPT_PAR)
    assert actions(frozenset({"strip", "replace_body"})) == Actions.CHGHDRS | Actions.CHGBODY
    assert actions(CHANGES) == ACTIONS


def test_each_hook_turns_its_reply_back_on():
    wanted = steps(frozenset({"connect", "helo", "mail_from", "rcpt", "data", "header", "end_of_headers", "body"}))
    assert not wanted & (Steps.NR_CONN | Steps.NR_HELO | Steps.NR_MAIL | Steps.NR_RCPT | Steps.NR_DATA
                         | Steps.NR_HDR | Steps.NR_EOH | Steps.NR_BODY | Steps.NODATA | Steps.NOEOH)
    assert wanted & Steps.SKIP and wanted & Steps.NR_UNKN


def test_macros_by_stage():
    macros = Macros()
    macros.define(codes.CONNECT, (("j", "mx"), ("{daemon_name}", "smtpd")))
    macros.define(codes.MAIL, (("i", "Q1"), ("{auth_authen}", "alice")))
    macros.define(codes.RCPT, (("{rcpt_addr}", "bob"),))
    assert macros.get("{daemon_name}") == macros.get("daemon_name") == "smtpd"
    assert macros.get("i") == "Q1" and macros.get("rcpt_addr") == "bob"
    macros.define(codes.MAIL, (("i", "Q2"),))
    assert macros.get("i") == "Q2" and macros.get("rcpt_addr") is None and macros.get("auth_authen") is None
    macros.define(codes.BODYEOB, (("i", "Q3"),))
    assert macros.get("i") == "Q3"
    macros.forget_from(codes.MAIL)
    assert macros.get("i") is None and macros.get("j") == "mx"
    macros.clear()
    assert macros.get("j", "none") == "none"


def test_macro_names_and_lists():
    assert bare("{x}") == "x" and bare("i") == "i" and bare("{}") == "{}"
    assert symlists({codes.CONNECT: "j", codes.BODYEOB: "i", codes.EOH: "i"}) == {0: "j", 5: "i", 6: "i"}
