"""What filterd asks the MTA for, from the hooks its plugins implement, the arguments they take and the changes
they declare: steps, actions and macros. Values only."""

from filterd import hookimpl
from filterd.chain import Chain
from filterd.milter.protocol import codes
from filterd.milter.protocol.codes import Actions, Steps
from filterd.milter.server.requirements import ACTIONS, MACROS, actions, implemented, macros, steps
from filterd.testing import load_plugins
from filterd.verdict import CHANGES


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


def test_a_plugin_that_reports_authentication_results_gets_the_header_to_remove_forged_ones():
    wanted = steps(frozenset({"mail_from", "auth_result"}))
    assert not wanted & Steps.NOHDRS and wanted & Steps.NOBODY
    assert actions(frozenset({"auth_result"})) == Actions.ADDHDRS | Actions.CHGHDRS


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
