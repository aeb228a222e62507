"""The milter front end's translation, command by command: milter events to chain calls, verdicts and edits
to milter responses. Decoded packets in, response packets out; no sockets."""

from __future__ import annotations

import asyncio

from filterd import Verdict, hookimpl
from filterd.chain import Chain
from filterd.milter.protocol import codes
from filterd.milter.protocol import commands as c
from filterd.milter.protocol import responses as r
from filterd.milter.protocol.codes import Actions, Steps
from filterd.milter.server.handler import MilterHandler, negotiate
from filterd.milter.server.settings import MilterSettings
from filterd.testing import load_plugins

POSTFIX_OFFER = c.OptNeg(6, 0x1FF, 0x1FFFFF)
OPENING = [POSTFIX_OFFER, c.Macro("C", (("j", "mx.example"), ("{daemon_name}", "smtpd"))),
           c.Connect("client.example", "4", 4321, "192.0.2.1"), c.Helo("client.example"),
           c.Macro("M", (("i", "QID1"), ("{auth_authen}", "alice"))), c.Mail(("<a@example.org>", "SIZE=10")),
           c.Rcpt(("<b@example.net>",))]
CONTENT = [c.Header("From", " a@example.org"), c.Header("Subject", " hello"), c.EndOfHeaders(),
           c.Body(b"line one\r\nline t"), c.Body(b"wo\r\n"), c.EndOfBody()]


def run(plugins: list, commands: list, error_action: str = "tempfail", timeout: float = 5.0):
    """Every command's responses (as a list each), and the handler."""
    async def dialogue():
        handler = MilterHandler(MilterSettings(), Chain(load_plugins(*plugins), timeout, error_action))
        return [list(await handler.handle(command)) for command in commands], handler
    return asyncio.run(dialogue())


def answers(plugins: list, commands: list, **options) -> list:
    return [reply for reply in run(plugins, commands, **options)[0] if reply][1:]


class Tag:
    """Adds a header describing what end_of_message saw."""

    @hookimpl
    def end_of_message(self, session, envelope, message):
        lines = message.body_bytes().count(b"\n")
        seen = f"{envelope.queue_id} {session.sasl_username} {session.client} {envelope.sender} " \
               f"{','.join(envelope.recipients)} {len(message.headers)} {lines}"
        return Verdict.add_header("X-Seen", seen)


class Subjects:
    """Decides by Subject: REJECTME, DEFERME, DISCARDME, HOLDME, PASSME, PASSEDIT."""

    @hookimpl
    def header(self, header):
        value = header.value
        if header.name != "Subject":
            return None
        for word, verdict in (("REJECTME", Verdict.reject("5.7.1 Subject refused")), ("DEFERME", Verdict.defer()),
                              ("DISCARDME", Verdict.discard()), ("HOLDME", Verdict.hold("review")),
                              ("PASSEDIT", Verdict.pass_().with_edits(*Verdict.add_header("X-P", "1").edits)),
                              ("PASSME", Verdict.pass_())):
            if word in value:
                return verdict
        return None


class Lines:
    """Records the body lines it is given."""

    def __init__(self):
        self.lines = []

    @hookimpl
    def body(self, line):
        self.lines.append(line)


class Recipients:
    """Refuses rcpt <no@...>, discards on <drop@...>, copies <bcc@...> messages to archive@."""

    @hookimpl
    def rcpt(self, recipient):
        if recipient.startswith("no@"):
            return Verdict.reject("5.1.1 No such user")
        if recipient.startswith("drop@"):
            return Verdict.discard()
        return Verdict.bcc("archive@example.net") if recipient.startswith("bcc@") else None


def test_negotiation_for_an_end_of_message_plugin():
    [[framed]], _ = run([Tag()], [POSTFIX_OFFER])
    reply = framed.packet
    assert framed.encode() == reply.encode() and reply.version == 6
    assert reply.actions == int(Actions.ADDHDRS | Actions.CHGHDRS | Actions.CHGBODY | Actions.ADDRCPT
                                | Actions.DELRCPT | Actions.ADDRCPT_PAR | Actions.CHGFROM | Actions.QUARANTINE | Actions.SETSYMLIST)
    assert reply.steps & Steps.NR_HDR and reply.steps & Steps.NR_BODY and reply.steps & Steps.HDR_LEADSPC
    assert reply.macros[int(codes.Stage.EOM)] == "i"


class Stamp:
    """Adds a header and declares it; reads no envelope."""

    @hookimpl
    def changes(self):
        return {"add_header"}

    @hookimpl
    def end_of_message(self):
        return Verdict.add_header("X-Stamp", "yes")


class StampOrReject(Stamp):
    @hookimpl
    def end_of_message(self):
        return "REJECT 5.7.1 not today"


ENVELOPE_MACROS = c.Macro("E", (("i", "QID7"), ("{client_addr}", "192.0.2.9"), ("{client_name}", "mx.example.org")))


def test_a_declared_plugin_that_reads_no_envelope_is_sent_end_of_message_alone():
    [[framed]], _ = run([Stamp()], [POSTFIX_OFFER])
    reply = framed.packet
    assert reply.actions == int(Actions.ADDHDRS | Actions.SETSYMLIST)
    for step in (Steps.NOCONNECT, Steps.NOHELO, Steps.NOMAIL, Steps.NORCPT, Steps.NOHDRS, Steps.NOBODY):
        assert reply.steps & step
    assert reply.macros[int(codes.Stage.EOM)] == "i {client_addr} {client_name}"
    replies, handler = run([Stamp()], [POSTFIX_OFFER, ENVELOPE_MACROS, c.EndOfBody(), c.Abort(),
                                       ENVELOPE_MACROS, c.EndOfBody(), c.Quit()])
    assert replies[2] == replies[5] == [r.AddHeader("X-Stamp", " yes"), r.Continue()]
    assert handler.finished


def test_without_an_envelope_the_log_names_the_client_from_the_end_of_message_macros(filterd_log):
    replies, _ = run([StampOrReject()], [POSTFIX_OFFER, ENVELOPE_MACROS, c.EndOfBody()])
    assert replies[-1] == [r.ReplyCode("550 5.7.1 not today")]
    assert "QID7: reject: END-OF-MESSAGE from mx.example.org[192.0.2.9]: 550 5.7.1 not today; proto=SMTP\n" \
        in filterd_log.text + "\n"
    _, handler = run([StampOrReject()], [POSTFIX_OFFER, c.EndOfBody()])
    assert handler.session.client == "unknown[unknown]"


def test_a_whole_message_is_answered_only_where_the_mta_waits():
    replies, handler = run([Tag()], OPENING + CONTENT)
    assert replies[1:-1] == [[]] * (len(OPENING) + len(CONTENT) - 2)
    assert replies[-1] == [r.AddHeader("X-Seen", " QID1 alice client.example[192.0.2.1] a@example.org "
                                                 "b@example.net 2 2"), r.Continue()]
    assert handler.txn is None and handler.session.daemon_name == "smtpd"


def test_a_header_reject_answers_that_header_with_its_own_text():
    content = [c.Header("Subject", " REJECTME"), *CONTENT[2:]]
    assert answers([Subjects()], OPENING + content) == [
        [r.ReplyCode("550 5.7.1 Subject refused")], [r.ReplyCode("550 5.7.1 Subject refused")]]


def test_deferral_discard_and_hold():
    def outcome(subject):
        return answers([Subjects()], OPENING + [c.Header("Subject", f" {subject}"), *CONTENT[2:]])
    assert outcome("DEFERME")[0] == [r.Tempfail()]
    assert outcome("DISCARDME")[0] == [r.Discard()]
    assert outcome("HOLDME") == [[r.Continue()], [r.Quarantine("review"), r.Continue()]]


def test_pass_lets_the_message_go_unless_something_is_pending():
    assert answers([Subjects()], OPENING + [c.Header("Subject", " PASSME")]) == [[r.Accept()]]
    lines = Lines()
    replies = answers([Subjects(), lines], OPENING + [c.Header("Subject", " PASSEDIT"), *CONTENT[2:]])
    assert replies == [[r.Continue()], [r.Skip()], [r.Skip()], [r.AddHeader("X-P", " 1"), r.Continue()]]
    assert lines.lines == []


def test_body_lines_are_whole_whatever_the_chunks():
    lines = Lines()
    run([lines], OPENING + CONTENT)
    assert lines.lines == [b"line one", b"line two"]


def test_a_refused_recipient_leaves_the_others():
    rcpts = [c.Rcpt(("<no@example.net>",)), c.Rcpt(("<bcc@example.net>",))]
    replies = answers([Recipients(), Tag()], OPENING + rcpts + CONTENT)
    assert replies[:3] == [[r.Continue()], [r.ReplyCode("550 5.1.1 No such user")], [r.Continue()]]
    assert replies[-1][0].value.endswith("b@example.net,bcc@example.net 2 2")
    assert replies[-1][1:] == [r.AddRecipient("<archive@example.net>"), r.Continue()]


def test_a_discarding_recipient_discards_the_message():
    replies = answers([Recipients()], OPENING + [c.Rcpt(("<drop@example.net>",))] + CONTENT)
    assert replies[1] == [r.Discard()] and replies[-1] == [r.Discard()]


def test_abort_and_a_new_mail_forget_the_last_transaction():
    first = [c.Rcpt(("<bcc@example.net>",)), c.Header("Subject", " x"), c.Abort()]
    second = [c.Macro("M", (("i", "QID2"),)), c.Mail(("<z@example.org>",)), c.Rcpt(("<b@example.net>",))]
    replies = answers([Recipients(), Tag()], OPENING + first + second + CONTENT)
    assert replies[-1] == [r.AddHeader("X-Seen", " QID2 alice client.example[192.0.2.1] z@example.org "
                                                 "b@example.net 2 2"), r.Continue()]


def test_a_connect_reject_refuses_every_transaction():
    class Refuse:
        @hookimpl
        def connect(self, session):
            return Verdict.reject("554 5.7.1 go away")
    assert answers([Refuse()], OPENING) == [[r.ReplyCode("554 5.7.1 go away")]]

    class RefuseAndSee(Refuse):
        @hookimpl
        def mail_from(self, sender):
            return None
    replies = answers([RefuseAndSee()], OPENING)
    assert replies == [[r.ReplyCode("554 5.7.1 go away")], [r.ReplyCode("554 5.7.1 go away")]]


def test_a_crashing_plugin_answers_the_error_action_at_once():
    class Crash:
        @hookimpl
        def header(self, header):
            raise RuntimeError("bug")
    replies = answers([Crash()], OPENING + CONTENT)
    assert replies[1] == [r.ReplyCode("451 4.7.1 Service unavailable - try again later")]
    assert answers([Crash()], OPENING + CONTENT, error_action="accept")[-1] == [r.Continue()]


def test_a_slow_plugin_answers_the_error_action_after_plugin_timeout():
    class Slow:
        @hookimpl
        async def end_of_message(self):
            await asyncio.sleep(10)
    assert answers([Slow()], OPENING + CONTENT, timeout=0.05)[-1] == [
        r.ReplyCode("451 4.7.1 Service unavailable - try again later")]


def test_after_an_internal_error_the_message_is_refused_for_now():
    async def dialogue():
        handler = MilterHandler(MilterSettings(), Chain(load_plugins(Tag())))
        for command in OPENING:
            await handler.handle(command)
        assert list(handler.fail(codes.HEADER)) == []
        assert list(handler.fail(codes.BODYEOB)) == [r.ReplyCode("451 4.7.1 Service unavailable - try again later")]
        return list(await handler.handle(c.EndOfBody()))
    assert asyncio.run(dialogue()) == [r.ReplyCode("451 4.7.1 Service unavailable - try again later")]


def test_without_hdr_leadspc_the_space_after_the_colon_is_restored_and_left_out():
    offer = c.OptNeg(6, 0x1FF, 0x1FFFFF & ~Steps.HDR_LEADSPC)
    replies, _ = run([Tag()], [offer, *OPENING[1:], c.Header("Subject", "hi"), c.EndOfBody()])
    assert replies[-1][0] == r.AddHeader("X-Seen", "QID1 alice client.example[192.0.2.1] a@example.org "
                                                   "b@example.net 1 0")


def test_an_mta_that_sends_more_than_asked_still_gets_answers():
    replies, handler = run([], [c.OptNeg(2, 0x3F, 0), *OPENING[1:], c.Data(), c.Unknown("HELP"), *CONTENT])
    assert [framed.packet for framed in replies[0]] == [c.OptNeg(2, 0, 0, {})]
    assert all(reply in ([], [r.Continue()]) for reply in replies[1:])
    assert replies[-1] == [r.Continue()] and sum(reply == [r.Continue()] for reply in replies) == 12


def test_quit_runs_the_disconnect_hook_once_and_finishes():
    class Bye:
        def __init__(self):
            self.calls = 0

        @hookimpl
        def disconnect(self):
            self.calls += 1
    bye = Bye()

    async def dialogue():
        handler = MilterHandler(MilterSettings(), Chain(load_plugins(bye)))
        for command in [*OPENING, c.QuitNewConnection(), *OPENING[1:], c.Quit()]:
            await handler.handle(command)
        await handler.disconnect()
        return handler
    assert asyncio.run(dialogue()).finished and bye.calls == 2


def test_a_unix_client_and_an_unverified_name():
    replies, handler = run([], [POSTFIX_OFFER, c.Connect("[10.0.0.1]", "4", 25, "10.0.0.1")])
    assert handler.session.client == "unknown[10.0.0.1]"
    _, handler = run([], [POSTFIX_OFFER, c.Connect("localhost", "L", 0, "/run/smtpd")])
    assert handler.session.client == "localhost[/run/smtpd]"


def test_a_command_that_belongs_before_the_last_one_starts_a_new_message():
    """Found by fuzzing: a second DATA, or a RCPT after a header, raised OutOfOrder (logged with a traceback and
    answered tempfail); libmilter aborts the message and goes on, and so does filterd."""
    replies = answers([Tag()], OPENING + [c.Data(), c.Header("Subject", " x"), c.Data(), c.Rcpt(("<c@example.net>",)),
                                          c.Data(), *CONTENT])
    assert all(reply == [r.Continue()] for reply in replies[:-1])
    assert replies[-1][0].value.endswith(" c@example.net 2 2")


def test_a_session_after_quit_nc_may_begin_without_connect():
    """Found by fuzzing: HELO or MAIL after QUIT_NC (the MTA asked to send no CONNECT) raised OutOfOrder."""
    replies, handler = run([Tag()], [POSTFIX_OFFER, *OPENING[1:], c.QuitNewConnection(), c.Helo("again.example"),
                                     c.Mail(("<z@example.org>",)), c.Rcpt(("<b@example.net>",)), *CONTENT])
    assert replies[-1][0].value.endswith(" z@example.org b@example.net 2 2")
    assert handler.session.helo == "again.example"


def test_the_answers_to_offers_kept_are_few_whatever_the_mta_offers():
    """Found looking for unbounded state while fuzzing the handler: every distinct OPTNEG offer was kept for good
    (functools.cache), so an MTA offering ever new numbers grew the milter's memory without end."""
    async def offers():
        for version in range(2, 1002):
            handler = MilterHandler(MilterSettings(), Chain(load_plugins(Tag())))
            await handler.handle(c.OptNeg(version, 0x1FF, version))
    asyncio.run(offers())
    assert negotiate.cache_info().currsize <= 64


class SaslSeen:
    """Records the SASL login and method the session holds at RCPT."""

    def __init__(self):
        self.seen = []

    @hookimpl
    def rcpt(self, session):
        self.seen.append((session.sasl_username, session.sasl_method))


def test_the_mta_s_sasl_login_and_method_are_on_the_session():
    plugin = SaslSeen()
    macro = c.Macro("M", (("i", "QID1"), ("{auth_type}", "LOGIN"), ("{auth_authen}", "alice")))
    run([plugin], [*OPENING[:4], macro, *OPENING[5:]])
    assert plugin.seen == [("alice", "LOGIN")]
